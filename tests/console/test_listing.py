"""The list machinery on a real SQLite database: a visible total, pages, whitelisted sorting
and filters kept in the URL."""

from __future__ import annotations

from urllib.parse import parse_qs

from sqlmodel import Session, SQLModel, create_engine, select

from mailflow.web.listing import ListSpec, paginate
from storage.models import Contact

SPEC = ListSpec(
    sorts={"id": Contact.id, "email": Contact.email},
    default_sort="-id",
    filters=("q", "state"),
    per_page=10,
)


def _engine(tmp_path, n: int = 23):
    engine = create_engine(f"sqlite:///{tmp_path / 'list.db'}")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        session.add_all(Contact(email=f"c{i:02d}@example.com") for i in range(n))
        session.commit()
    return engine


def test_pages_say_the_total_and_the_last_page_is_short(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        wanted = SPEC.read({"page": "3", "q": "x"})
        page = paginate(session, select(Contact), wanted, SPEC)
    assert (page.total, page.pages, page.page, page.first, page.last) == (23, 3, 3, 21, 23)
    assert [c.email for c in page.rows] == ["c02@example.com", "c01@example.com", "c00@example.com"]
    # The previous page keeps the filter and the sort.
    assert parse_qs(page.url(page=2)[1:]) == {"q": ["x"], "sort": ["-id"], "page": ["2"]}


def test_a_page_past_the_end_shows_the_last_and_bad_numbers_the_first(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        past = paginate(session, select(Contact), SPEC.read({"page": "99"}), SPEC)
        bad = paginate(session, select(Contact), SPEC.read({"page": "x", "per_page": "-4"}), SPEC)
    assert past.page == 3 and len(past.rows) == 3
    assert bad.page == 1 and len(bad.rows) == 1  # per_page clamped to at least 1


def test_sort_only_by_whitelisted_columns_and_toggle_direction(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        by_email = paginate(session, select(Contact), SPEC.read({"sort": "email"}), SPEC)
        hostile = SPEC.read({"sort": "password_hash; drop table contact"})
    assert by_email.rows[0].email == "c00@example.com"
    assert hostile.sort == "-id"  # not a column of the list: the default
    assert parse_qs(by_email.sort_url("email")[1:])["sort"] == ["-email"]
    assert parse_qs(by_email.sort_url("id")[1:])["sort"] == ["id"]
    assert by_email.sorted_as("email") == "ascending" and by_email.sorted_as("id") == ""


def test_changing_a_filter_returns_to_the_first_page(tmp_path):
    engine = _engine(tmp_path)
    with Session(engine) as session:
        page = paginate(session, select(Contact), SPEC.read({"page": "2", "q": "c1"}), SPEC)
    assert "page" not in parse_qs(page.url(state="open")[1:])
    assert parse_qs(page.url(state="open")[1:])["q"] == ["c1"]
    assert "unknown" not in SPEC.read({"unknown": "1"}).filters
