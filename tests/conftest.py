"""Backends for the test suite: real SQLite and real PostgreSQL, no mocks.

Server URLs come from the environment (defaults match the development machine):
  HERMETIC_PG_URL   postgresql+psycopg://root@127.0.0.1:5432/test
When a server is unreachable its tests skip with a one-line reason, unless
HERMETIC_REQUIRE_SERVERS=1 (set by .ci/run), which turns the skip into a failure.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from hermetic import create_engine, make_url
from hermetic.engine import Engine

PG_URL = os.environ.get("HERMETIC_PG_URL", "postgresql+psycopg://root@127.0.0.1:5432/test")
REQUIRE = os.environ.get("HERMETIC_REQUIRE_SERVERS") == "1"

_reachable: dict[str, str | None] = {}


def server_problem(url: str) -> str | None:
    """None when the server answers, else a one-line reason."""
    if url not in _reachable:
        import psycopg

        u = make_url(url)
        try:
            psycopg.connect(
                host=u.host,
                port=u.port or 5432,
                user=u.username,
                dbname=u.database,
                password=u.password,
                connect_timeout=3,
            ).close()
            _reachable[url] = None
        except Exception as e:
            _reachable[url] = f"{type(e).__name__}: {str(e).strip().splitlines()[0]}"
    return _reachable[url]


def require_pg(url: str = PG_URL) -> None:
    problem = server_problem(url)
    if problem is not None:
        message = f"PostgreSQL at {make_url(url)!r} unreachable ({problem})"
        if REQUIRE:
            pytest.fail(message + " and HERMETIC_REQUIRE_SERVERS=1", pytrace=False)
        pytest.skip(message)


def pg_url(driver: str = "psycopg") -> str:
    return str(make_url(PG_URL).set(drivername=f"postgresql+{driver}").render_as_string(False))


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'test.db'}"


BACKENDS = ["sqlite", "postgresql+psycopg", "postgresql+psycopg2"]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL for each real backend (SQLite file, PostgreSQL via psycopg and psycopg2)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'test.db'}"
    require_pg()
    return pg_url(request.param.split("+")[1])


@pytest.fixture
def engine(backend_url: str) -> Iterator[Engine]:
    eng = create_engine(backend_url)
    yield eng
    assert eng.pool.checkedout() == 0, eng.pool.holders()
    eng.dispose()


@pytest.fixture
def pg_engine() -> Iterator[Engine]:
    require_pg()
    eng = create_engine(pg_url())
    yield eng
    assert eng.pool.checkedout() == 0, eng.pool.holders()
    eng.dispose()


# --------------------------------------------------------------------------- ORM backends

ORM_BACKENDS = ["sqlite", "postgresql"]


def _sqlite_foreign_keys(dbapi_connection: object, connection_record: object) -> None:
    dbapi_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[attr-defined]


@pytest.fixture(params=ORM_BACKENDS)
def orm_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine per backend for ORM tests, isolated from other tests and agents:
    SQLite is a fresh file (foreign keys enforced); PostgreSQL gets a fresh schema
    ``t_<uuid>`` as the connections' search_path, dropped (CASCADE) afterwards, so
    models with fixed table names never meet another run's tables."""
    from hermetic import event

    if request.param == "sqlite":
        eng = create_engine(f"sqlite:///{tmp_path / 'orm.db'}")
        event.listen(eng, "connect", _sqlite_foreign_keys)
        yield eng
        assert eng.pool.checkedout() == 0, eng.pool.holders()
        eng.dispose()
        return
    require_pg()
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex}"
    u = make_url(PG_URL)
    admin = dict(
        host=u.host, port=u.port or 5432, user=u.username, dbname=u.database, password=u.password
    )
    with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
        c.execute(f'CREATE SCHEMA "{schema}"')
    eng = create_engine(pg_url(), connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield eng
        assert eng.pool.checkedout() == 0, eng.pool.holders()
    finally:
        eng.dispose()
        with psycopg.connect(**admin, autocommit=True) as c:  # type: ignore[arg-type]
            c.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


class SQLLog:
    """The SQL statements an engine executed (``before_cursor_execute``), for asserting
    statement counts: ``log = SQLLog(engine); ...; assert log.count("INSERT") == 1``."""

    def __init__(self, engine: Engine) -> None:
        from hermetic import event

        self.statements: list[str] = []
        self.params: list[object] = []
        self.many: list[bool] = []
        self._engine = engine
        event.listen(engine, "before_cursor_execute", self._on)

    def _on(
        self,
        conn: object,
        cursor: object,
        statement: str,
        parameters: object,
        context: object,
        executemany: bool,
    ) -> None:
        self.statements.append(statement)
        self.params.append(parameters)
        self.many.append(executemany)

    def clear(self) -> None:
        self.statements.clear()
        self.params.clear()
        self.many.clear()

    def matching(self, prefix: str) -> list[str]:
        """Statements that start with ``prefix`` (case-insensitive), e.g. "INSERT"."""
        p = prefix.upper()
        return [s for s in self.statements if s.lstrip().upper().startswith(p)]

    def count(self, prefix: str = "") -> int:
        return len(self.matching(prefix))

    def remove(self) -> None:
        from hermetic import event

        event.remove(self._engine, "before_cursor_execute", self._on)


@pytest.fixture
def sql_log(orm_engine: Engine) -> Iterator[SQLLog]:
    log = SQLLog(orm_engine)
    yield log
    log.remove()
