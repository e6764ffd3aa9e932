# The two commands of the README. Each does all the set-up first.
PYTHON ?= python3

.PHONY: setup demo test full bench

setup:
	bash scripts/setup.sh

# The main job: the quick reference suite -> leaderboards -> reliability check -> static site.
demo: setup
	$(PYTHON) -m frontierbench.cli run

# The project's own tests (unit, integration, browser). Exit code 5 (no tests) counts as a failure.
test: setup
	$(PYTHON) -m pytest tests -q

# The full profile of the reference suite, published under leaderboards/.
full: setup
	$(PYTHON) -m frontierbench.cli run --full --publish

# The performance scripts (figures, not pass/fail).
bench:
	for script in benchmarks/bench_*.py; do $(PYTHON) $$script || exit 1; done
