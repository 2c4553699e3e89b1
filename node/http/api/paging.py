"""Paginated lists: `?offset=&limit=` in, `{items, total, offset, limit}` out."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel

T = TypeVar("T")
MAX_LIMIT = 100


class PageRequest(BaseModel):
    offset: int
    limit: int


async def _paging(
    offset: Annotated[int, Query(ge=0, description="How many to skip")] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT, description="How many to return")] = 50,
) -> PageRequest:
    return PageRequest(offset=offset, limit=limit)


Paging = Annotated[PageRequest, Depends(_paging)]


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    offset: int
    limit: int


def page_of(items: Sequence[T], paging: PageRequest) -> Page[T]:
    window = list(items[paging.offset : paging.offset + paging.limit])
    return Page[T](items=window, total=len(items), offset=paging.offset, limit=paging.limit)


def window_of(window: Sequence[T], total: int, paging: PageRequest) -> Page[T]:
    """A page whose items were read alone (`window`, at `paging`'s offset), of `total`."""
    return Page[T](items=list(window), total=total, offset=paging.offset, limit=paging.limit)
