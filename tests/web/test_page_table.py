"""Every operation of the member API has a page where a member does it (node.http.web's
`page_table`), and every page the table names is one of the pages' routes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from node.app.persistence import open_node
from node.http.server import ServerOptions, create_app
from node.http.web import PAGES, page_table
from node.settings import Settings

# The operations that are not the member API: the federation's, and the operator's.
NOT_MEMBERS = {"federation", "operations", "pages"}


@pytest.fixture
def app(tmp_path: Path) -> Iterator[FastAPI]:
    node = open_node(Settings(data_dir=tmp_path / "node"))
    yield create_app(node, None, ServerOptions(public_url="http://testserver"))
    node.close()


def member_operations(app: FastAPI) -> set[str]:
    spec = app.openapi()
    return {
        f"{method.upper()} {path}"
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if not NOT_MEMBERS & set(operation.get("tags", []))
    }


def test_every_operation_of_the_member_api_has_its_page(app: FastAPI) -> None:
    operations = member_operations(app)
    table = page_table()
    assert operations, "the member API has operations"
    assert set(table) <= operations, f"not operations of the API: {set(table) - operations}"
    assert operations - set(table) == set(), "operations without a page"


def test_every_page_of_the_table_is_a_page() -> None:
    pages = {
        route.path
        for module in PAGES
        for route in module.router.routes
        if isinstance(route, APIRoute) and "GET" in (route.methods or ())
    }
    for operation, page in page_table().items():
        assert page in pages, f"{operation}: {page} is not a page"
