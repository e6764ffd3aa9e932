"""Statistics shared by every stage; imports nothing from frontierbench.

- `intervals`: the median with its distribution-free interval (plain Python: the plugin uses it);
- `grouped`: medians and their intervals over many groups at once (numpy);
- `nested`: medians and intervals when rounds are nested in processes (the unit of replication);
- `bootstrap`: seeded percentile bootstraps (mean, median, ratio) and resampling weights;
- `pareto`: Pareto fronts, dominators, hypervolume and the derived-metric formulas;
- `rounding`: the rounding policy that keeps outputs byte-identical from run to run.
"""
