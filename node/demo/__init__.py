"""The demo's story, scripted circles and local clusters (never imported by the running node)."""
