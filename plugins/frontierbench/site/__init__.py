"""Leaderboard JSON -> static HTML pages: `build.build_site` renders with jinja2 what `views` (page
data), `badges` (badges and ranks) and `pages` (file names, embedded JSON) compute."""
