"""The `circle-node` command: init, serve, demo, peer, export and verify, backup and restore."""
