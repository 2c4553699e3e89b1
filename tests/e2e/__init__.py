"""End-to-end tests: real nodes, as separate processes, on loopback."""
