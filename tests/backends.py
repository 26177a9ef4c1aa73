"""The database backends the store's tests run on: a SQLite file, and PostgreSQL when a server is given.

`.ci/run` starts a real PostgreSQL server and sets WIREWATCH_TEST_POSTGRES to its SQLAlchemy URL
(postgresql+psycopg://...). Each test gets its own schema there (dropped afterwards), so tests
never see each other's rows.
"""

from __future__ import annotations

import os
import uuid
from urllib.parse import quote

import pytest
from sqlalchemy import create_engine, text

PG_URL = os.environ.get("WIREWATCH_TEST_POSTGRES", "")
PG_SKIP = "PostgreSQL: no server (set WIREWATCH_TEST_POSTGRES to a postgresql+psycopg:// URL; .ci/run starts one)"


def sqlite_url(tmp_path) -> str:
    return f"sqlite:///{tmp_path / 'db' / 'ww.db'}"


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path):
    """A fresh, empty database on each backend."""
    if request.param == "sqlite":
        yield sqlite_url(tmp_path)
        return
    if not PG_URL:
        pytest.skip(PG_SKIP)
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options={quote(f'-csearch_path={schema}')}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture
def store(database_url):
    """A Store on a fresh database, on each backend."""
    from bot.store.db import Store

    s = Store.open(database_url)
    yield s
    s.close()
