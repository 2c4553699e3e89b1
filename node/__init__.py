"""The running circle node: the application joining domain and federation, its API and CLI."""
