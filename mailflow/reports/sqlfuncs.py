"""Date buckets, durations and medians as SQL expressions that agree on SQLite and PostgreSQL.

SQLite stores UTC timestamps as text, PostgreSQL as timestamptz; each expression here returns
the same value on both (text buckets, whole seconds), so figures are identical across them.
Format strings are constants rendered inline: PostgreSQL matches a GROUP BY expression to its
SELECT expression only when no bound parameter differs between them.
"""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Float,
    Integer,
    cast,
    extract,
    func,
    literal_column,
)
from sqlalchemy.sql import Select

Bucket = Literal["week", "month"]


def _zone_literal(zone: str) -> Any:
    """A time zone name rendered inline (a validated IANA name; quotes doubled regardless)."""
    return literal_column("'" + zone.replace("'", "''") + "'")


def _local(column: Any, dialect: str, zone: str) -> Any:
    """The timestamp as wall time in `zone` (PostgreSQL's session time zone must not matter;
    on SQLite the mf_local function storage.engine registers does what timezone() does)."""
    if dialect == "postgresql":
        return func.timezone(_zone_literal(zone), column)
    if zone == "UTC":
        return column
    return func.mf_local(column, _zone_literal(zone))


def bucket(column: Any, size: Bucket, dialect: str, zone: str = "UTC") -> ColumnElement[str]:
    """'2026-10' for months; the Monday 'YYYY-MM-DD' of the ISO week for weeks; both in the
    local calendar of `zone`."""
    if size not in ("week", "month"):
        raise ValueError(f"unknown bucket {size!r}")
    local = _local(column, dialect, zone)
    if dialect == "postgresql":
        if size == "month":
            return func.to_char(local, literal_column("'YYYY-MM'"))
        monday = func.date_trunc(literal_column("'week'"), local)
        return func.to_char(monday, literal_column("'YYYY-MM-DD'"))
    if size == "month":
        return func.strftime(literal_column("'%Y-%m'"), local)
    return func.date(local, literal_column("'weekday 0'"), literal_column("'-6 days'"))


def epoch_seconds(column: Any, dialect: str) -> ColumnElement[int]:
    """Whole seconds since 1970 (fractions dropped the same way on both databases)."""
    if dialect == "postgresql":
        return cast(func.floor(extract("epoch", column)), BigInteger)
    return cast(func.strftime(literal_column("'%s'"), column), Integer)


def median_by(inner: Select[Any], value: str, keys: list[str]) -> Select[Any]:
    """SELECT keys…, median(value) GROUP BY keys over the rows of `inner` (a subquery).

    The middle row(s) of each ordered group by ROW_NUMBER, averaged: the mean of the two
    middle values when the count is even, as percentile_cont(0.5) defines it. The same SQL
    runs on both databases, so the figure is identical; on PostgreSQL it is also faster than
    percentile_cont, whose plan walks the group-key index (one sort instead of two).
    """
    from sqlalchemy import select

    rows = inner.subquery("median_rows")
    key_cols = [rows.c[k] for k in keys]
    ranked = select(
        *key_cols,
        rows.c[value].label("v"),
        func.row_number().over(partition_by=key_cols or None, order_by=rows.c[value]).label("rn"),
        func.count().over(partition_by=key_cols or None).label("n"),
    ).subquery("ranked")
    rkeys = [ranked.c[k] for k in keys]
    middle = ranked.c.rn.in_([(ranked.c.n + 1) // 2, (ranked.c.n + 2) // 2])
    return (
        select(*rkeys, cast(func.avg(ranked.c.v), Float).label("median"))
        .where(middle)
        .group_by(*rkeys)
    )
