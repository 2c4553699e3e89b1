"""Persistence: recorders, SQLite, PostgreSQL and memory stores, event mapping, the cache."""
