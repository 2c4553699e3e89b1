"""The service layer: the circle's use cases, the node composed from its parts, its records."""
