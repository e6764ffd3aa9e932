"""The file formats: run records, leaderboards, board definitions, reliability reports.

Everything that reads or writes a frontierbench file goes through here; nothing here imports a
stage above it (only `frontierbench.stats`).
"""
