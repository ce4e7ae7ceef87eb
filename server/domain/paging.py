"""One page of a listing, for the console's registers and the API's lists."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, TypeVar

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.size))


def paginate(session: Session, query: Select[T], page: int, size: int) -> Page[T]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    items = list(session.scalars(query.limit(size).offset((page - 1) * size)))
    return Page(items, total, page, size)
