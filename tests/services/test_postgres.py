"""PostgreSQL: each test schema is really isolated, and db_url works on both back-ends."""

import pytest
from sqlalchemy import create_engine, inspect, text

from tests.support.pg import PgSchemas, base_pg_url


@pytest.fixture
def engine_for():
    engines = []

    def make(url):
        engine = create_engine(url)
        engines.append(engine)
        return engine

    yield make
    for engine in engines:
        engine.dispose()


def test_pg_url_connects_to_its_own_schema(pg_url, engine_for):
    with engine_for(pg_url).connect() as conn:
        schema = conn.execute(text("SELECT current_schema()")).scalar_one()
    assert schema.startswith("mf_test_")
    assert schema in pg_url


def test_table_in_one_schema_is_invisible_from_another(pg_schema_url, engine_for):
    first, second = engine_for(pg_schema_url()), engine_for(pg_schema_url())
    with first.begin() as conn:
        conn.execute(text("CREATE TABLE survey (id integer PRIMARY KEY, score integer)"))
        conn.execute(text("INSERT INTO survey VALUES (1, 9)"))

    assert inspect(first).get_table_names() == ["survey"]
    assert inspect(second).get_table_names() == []
    with second.begin() as conn:  # the same name is free in the other schema
        conn.execute(text("CREATE TABLE survey (id integer PRIMARY KEY)"))
        assert conn.execute(text("SELECT count(*) FROM survey")).scalar_one() == 0
    with first.connect() as conn:
        assert conn.execute(text("SELECT score FROM survey")).scalar_one() == 9


def test_cleanup_drops_every_created_schema(pg_url, engine_for):
    schemas = PgSchemas(base_pg_url())
    created = [schemas.create(), schemas.create()]
    names = [url.rsplit("search_path%3D", 1)[1] for url in created]
    query = text("SELECT count(*) FROM pg_namespace WHERE nspname IN (:a, :b)")
    with engine_for(pg_url).connect() as conn:
        assert conn.execute(query, dict(zip("ab", names, strict=True))).scalar_one() == 2
    schemas.cleanup()  # what the fixtures do at teardown
    with engine_for(pg_url).connect() as conn:
        assert conn.execute(query, dict(zip("ab", names, strict=True))).scalar_one() == 0


def test_db_url_gives_an_empty_database(db_url, engine_for):
    engine = engine_for(db_url)
    assert inspect(engine).get_table_names() == []
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE reply (id integer PRIMARY KEY, body text)"))
        conn.execute(text("INSERT INTO reply (id, body) VALUES (1, 'Оценка 9')"))
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body FROM reply")).scalar_one() == "Оценка 9"
