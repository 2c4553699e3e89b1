"""The co-op host: one process serving many circles, each its own node at `/c/<slug>`."""
