"""Fixtures for the PostgreSQL store: one private cluster per session (tests/pg_cluster.py),
a fresh database per test, and `backend` to run a store test on SQLite and on PostgreSQL.

Without PostgreSQL the tests are skipped with the reason in the run's skip line; under CI
(`CI` set, as every CI service does) they fail instead, so a broken set-up cannot pass.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pg_cluster import MISSING, PostgresCluster, find_bindir


def postgres_bindir():
    bindir = find_bindir()
    if bindir is None:
        if os.environ.get("CI"):
            pytest.fail(MISSING)
        pytest.skip(MISSING)
    return bindir


@pytest.fixture(scope="session")
def postgres_cluster() -> Iterator[PostgresCluster]:
    cluster = PostgresCluster(postgres_bindir())
    try:
        cluster.init()
        cluster.start()
        yield cluster
    finally:
        cluster.remove()


@pytest.fixture
def postgres_dsn(postgres_cluster: PostgresCluster) -> Iterator[str]:
    """A DSN (with the password) of an empty database of its own."""
    name = postgres_cluster.create_database()
    yield postgres_cluster.dsn(name)
    postgres_cluster.drop_database(name)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str | None:
    """ServerConfig.database for the test: None (SQLite in data_dir) or a PostgreSQL DSN."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres_dsn")
