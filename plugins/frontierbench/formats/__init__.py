"""The file formats, and what a metric means.

Everything that reads or writes a frontierbench file goes through here; nothing here imports a
stage above it (only `frontierbench.stats`). The modules, imported one by one (this package's
`__init__` imports nothing, so that the pytest plugin can read the registry without pydantic):

- `run`: the run record (RunRecord, load_run, save_run); `leaderboard`: the leaderboard
  (Leaderboard, load_leaderboard, find_leaderboards); `board`: board.toml (BoardDefinition,
  load_boards); `reliability`: the reliability report stored in a leaderboard group;
- `metrics`: the metric registry (unit, direction, kind, display rule of each standard metric);
- `versioned`: reading versioned JSON, migrations, RecordError, file_kind; `atomic`: atomic writes;
  `names`: slugs.
"""
