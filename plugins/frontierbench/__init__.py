"""frontierbench: efficiency benchmarks as pytest cases, Pareto leaderboards, reliability checks."""

__version__ = "0.1.0"
