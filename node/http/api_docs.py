"""The member API's documentation at `/docs`: Swagger UI 5 served by the node itself, from the
files the fastapi-offline package ships (no CDN: it works offline), started by a file of ours
instead of the inline script FastAPI's page writes, so that the page's Content-Security-Policy
allows scripts from the node only. Swagger UI 5 reads the OpenAPI 3.1 that FastAPI writes (4 read
only 3.0, and showed "Unable to render this definition").

Served under a prefix (a circle of a co-op host, node.http.circle_paths), the page asks for its
files and the spec there: the assets' addresses carry the prefix, the spec's address is in the
page's `data-spec` attribute (read by swagger-init.js), and the spec's `servers` name the
prefix (FastAPI adds it from the request's `root_path`), so "Try it out" calls this circle's
API."""

from __future__ import annotations

from html import escape
from importlib.resources import files
from pathlib import Path

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, Response

from node.http.circle_paths import prefix
from node.http.web.rendering import SECURITY_HEADERS

ASSETS = "/docs/assets"
# Only the package's files are used (its FastAPIOffline app serves them with an inline script).
_VENDOR = Path(str(files("fastapi_offline") / "static"))
_OURS = Path(__file__).parent / "docs_assets"
# What the page loads: the files it needs, by the names it asks for, and nothing else.
_FILES = {
    "swagger-ui.css": (_VENDOR / "swagger-ui.css", "text/css"),
    "swagger-ui-bundle.js": (_VENDOR / "swagger-ui-bundle.js", "text/javascript"),
    "swagger-init.js": (_OURS / "swagger-init.js", "text/javascript"),
}

# The member pages' headers, with scripts and the spec's fetch allowed from the node itself.
DOCS_HEADERS = {
    **SECURITY_HEADERS,
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data:; connect-src 'self'; form-action 'self'; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
}

_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>circle-node: member API</title>
<link rel="stylesheet" href="{assets}/swagger-ui.css">
</head>
<body>
<div id="swagger-ui" data-spec="{spec}"></div>
<script src="{assets}/swagger-ui-bundle.js"></script>
<script src="{assets}/swagger-init.js"></script>
</body>
</html>
"""

docs_router = APIRouter(include_in_schema=False)


@docs_router.get("/docs")
async def docs_page(request: Request) -> HTMLResponse:
    root = escape(prefix(request))
    page = _PAGE.format(assets=root + ASSETS, spec=root + "/openapi.json")
    return HTMLResponse(page, headers=DOCS_HEADERS)


@docs_router.get(ASSETS + "/{name}")
async def docs_asset(name: str) -> Response:
    if name not in _FILES:
        raise HTTPException(404, f"No file {name!r} in the API documentation")
    path, media_type = _FILES[name]
    headers = {**DOCS_HEADERS, "Cache-Control": "public, max-age=86400"}
    return FileResponse(path, media_type=media_type, headers=headers)
