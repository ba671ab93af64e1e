"""Small shared types for the services: one page of a longer list."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of results; ``page`` is 0-based and there is always at least one page."""

    items: list[T]
    page: int
    pages: int
    total: int


def page_window(total: int, page: int, page_size: int) -> tuple[int, int, int]:
    """Clamp ``page`` into range and return (page, pages, offset) for ``total`` rows."""
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    pages = max(1, -(-total // page_size))
    page = min(max(page, 0), pages - 1)
    return page, pages, page * page_size
