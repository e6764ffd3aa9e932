"""Run records -> tidy rows -> pooled estimates -> derived metrics -> leaderboards (see pipeline).

What other packages use: `aggregate` (read, validate and pool input files), `aggregate_runs` (from
loaded runs), `write_leaderboards`, `AggregateWarning`.
"""

from frontierbench.aggregate.pipeline import AggregateWarning, aggregate, aggregate_runs, write_leaderboards

__all__ = ["AggregateWarning", "aggregate", "aggregate_runs", "write_leaderboards"]
