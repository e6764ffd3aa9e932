"""What an interval covers: the labels of stats/nested.py, in a module that imports nothing, so
the terminal summary (which must not load numpy or scipy into a pytest session) can use them."""

BETWEEN_PROCESSES = "between processes"
WITHIN_ONE_PROCESS = "within one process"
ONE_PROCESS_NOTE = "within one process: run-to-run variation not measured"
