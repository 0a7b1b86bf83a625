"""The one list machinery of the admin console: a page of rows with a visible total, sorting by
a whitelisted column, and filters that live in the URL (so a list can be linked and reloaded).

    spec = ListSpec(sorts={"created": Escalation.created_at, "id": Escalation.id},
                    default_sort="-created", filters=("status", "q"))
    wanted = spec.read(request.query_params)
    page = paginate(session, select(Escalation), wanted, spec)
    page.rows, page.total, page.url(page=2), page.sort_url("id")

An unknown sort column or a page past the end is not an error: the default sort and the last
page are used (a stale bookmark still opens a list).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import func
from sqlmodel import Session, col, select

PER_PAGE = 50
MAX_PER_PAGE = 500
MAX_FILTER = 200  # characters kept of one filter value


@dataclass(frozen=True)
class ListSpec:
    """What a list may be sorted by (name -> column) and which query parameters filter it."""

    sorts: Mapping[str, Any]
    default_sort: str
    filters: tuple[str, ...] = ()
    per_page: int = PER_PAGE

    def read(self, params: Mapping[str, str]) -> Wanted:
        """The page, sort and filters a query string asks for, cleaned to what is allowed."""
        sort = params.get("sort") or self.default_sort
        if sort.lstrip("-") not in self.sorts:
            sort = self.default_sort
        try:
            page = max(1, int(params.get("page", "1")))
        except ValueError:
            page = 1
        try:
            per_page = min(MAX_PER_PAGE, max(1, int(params.get("per_page", self.per_page))))
        except ValueError:
            per_page = self.per_page
        filters = {
            name: str(params[name])[:MAX_FILTER].strip()
            for name in self.filters
            if params.get(name, "").strip()
        }
        return Wanted(page, per_page, sort, filters, self.per_page)


@dataclass(frozen=True)
class Wanted:
    """A cleaned request for one page of a list."""

    page: int
    per_page: int
    sort: str
    filters: dict[str, str] = field(default_factory=dict)
    default_per_page: int = PER_PAGE

    @property
    def descending(self) -> bool:
        return self.sort.startswith("-")

    @property
    def column(self) -> str:
        return self.sort.lstrip("-")

    def params(self, **changes: Any) -> dict[str, str]:
        """The query parameters of this list with `changes` (None removes one)."""
        values: dict[str, Any] = dict(self.filters)
        values["sort"] = self.sort
        if self.page > 1:
            values["page"] = self.page
        if self.per_page != self.default_per_page:
            values["per_page"] = self.per_page
        values.update(changes)
        return {k: str(v) for k, v in values.items() if v not in (None, "")}


@dataclass(frozen=True)
class Page:
    """One page of rows and what the pager and the column headers need."""

    rows: list[Any]
    total: int
    wanted: Wanted

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.wanted.per_page))

    @property
    def page(self) -> int:
        return min(self.wanted.page, self.pages)

    @property
    def first(self) -> int:
        """1-based number of the first row shown (0 for an empty list)."""
        return 0 if not self.total else (self.page - 1) * self.wanted.per_page + 1

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    def url(self, **changes: Any) -> str:
        """`?…` for this list with `changes`; a filter change returns to page 1."""
        if any(k not in ("page", "sort", "per_page") for k in changes):
            changes.setdefault("page", None)
        return "?" + urlencode(self.wanted.params(**changes))

    def sort_url(self, column: str) -> str:
        """Sort by `column`; a second click on the current column flips the direction."""
        ascending_now = self.wanted.column == column and not self.wanted.descending
        sort = f"-{column}" if ascending_now else column
        return self.url(sort=sort, page=None)

    def sorted_as(self, column: str) -> str:
        """The aria-sort value of `column`: "ascending", "descending" or ""."""
        if self.wanted.column != column:
            return ""
        return "descending" if self.wanted.descending else "ascending"


def paginate(session: Session, query: Any, wanted: Wanted, spec: ListSpec) -> Page:
    """Count `query`, order it by the wanted column (id as a tie-breaker) and fetch one page."""
    total = session.exec(select(func.count()).select_from(query.order_by(None).subquery())).one()
    column = col(spec.sorts[wanted.column])
    order = column.desc() if wanted.descending else column.asc()
    pages = max(1, -(-total // wanted.per_page))
    page = min(wanted.page, pages)
    tie = spec.sorts.get("id")
    ordered = query.order_by(order, *([col(tie).desc()] if tie is not None else []))
    rows = list(session.exec(ordered.offset((page - 1) * wanted.per_page).limit(wanted.per_page)))
    return Page(rows, int(total), wanted)
