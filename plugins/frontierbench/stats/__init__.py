"""Pure numpy/scipy statistics: median intervals, bootstrap, Pareto fronts, rounding."""
