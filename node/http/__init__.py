"""The HTTP server: app factory, federation API, member API (api/), pages (web/), limits."""
