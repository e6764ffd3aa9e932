"""Leaderboard JSON -> static HTML pages (views turn leaderboards into page data; build renders)."""
