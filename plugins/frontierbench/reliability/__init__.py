"""Decision impact on reliability (DIoR): how far a board's decisions survive other, equally valid
instantiations of it (docs/reliability.md). What other packages use:"""

from frontierbench.reliability.assess import TIE_LEVEL, assess, assess_group, failing_decisions
from frontierbench.reliability.budget import suggested_count
from frontierbench.reliability.decisions import front_label, wilson_lower
from frontierbench.reliability.draws import mean_win_rate
from frontierbench.reliability.families import FAMILY_DESCRIPTIONS
from frontierbench.reliability.inputs import BoardSamples, ObjectiveSpec, samples_from_group

__all__ = ["FAMILY_DESCRIPTIONS", "TIE_LEVEL", "BoardSamples", "ObjectiveSpec", "assess", "assess_group",
           "failing_decisions", "front_label", "mean_win_rate", "samples_from_group", "suggested_count",
           "wilson_lower"]
