"""Run records -> tidy rows -> pooled estimates -> derived metrics -> leaderboards."""
