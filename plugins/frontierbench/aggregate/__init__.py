"""Run records -> tidy rows -> pooled estimates -> derived metrics -> leaderboards (see pipeline).

What other packages use: `aggregate` (read, validate and pool input files), `aggregate_into` (the
same, written to a folder; with a cache, extending the kept state), `aggregate_runs` (from loaded
runs), `write_leaderboards`, `AggregateWarning`.
"""

from frontierbench.aggregate.pipeline import AggregateWarning, aggregate, aggregate_into, aggregate_runs, \
    write_leaderboards

__all__ = ["AggregateWarning", "aggregate", "aggregate_into", "aggregate_runs", "write_leaderboards"]
