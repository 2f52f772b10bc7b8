"""Driver adapters (the DBAPI port). ``DRIVERS`` maps ``(dialect, driver)`` to the adapter
class's import location; ``DEFAULT_DRIVERS`` gives the driver used when a URL names only the
dialect, in order of preference."""

from __future__ import annotations

DRIVERS: dict[tuple[str, str], tuple[str, str]] = {
    ("sqlite", "pysqlite"): ("hermetic.drivers.pysqlite", "PySQLiteDriver"),
    ("postgresql", "psycopg"): ("hermetic.drivers.psycopg", "PsycopgDriver"),
    ("postgresql", "psycopg2"): ("hermetic.drivers.psycopg2", "Psycopg2Driver"),
}

# Drivers for create_async_engine(): the same URLs, async modules.
ASYNC_DRIVERS: dict[tuple[str, str], tuple[str, str]] = {
    ("sqlite", "aiosqlite"): ("hermetic.drivers.aiosqlite", "AioSQLiteDriver"),
    ("postgresql", "asyncpg"): ("hermetic.drivers.asyncpg", "AsyncpgDriver"),
    ("postgresql", "psycopg"): ("hermetic.drivers.psycopg_async", "PsycopgAsyncDriver"),
    ("postgresql", "psycopg_async"): ("hermetic.drivers.psycopg_async", "PsycopgAsyncDriver"),
}
DEFAULT_ASYNC_DRIVERS: dict[str, tuple[str, ...]] = {
    "sqlite": ("aiosqlite",),
    "postgresql": ("asyncpg", "psycopg"),
}

# postgresql:// selects psycopg 3 (as SQLAlchemy 2.1 does); when only psycopg2 is
# installed it is used instead of failing.
DEFAULT_DRIVERS: dict[str, tuple[str, ...]] = {
    "sqlite": ("pysqlite",),
    "postgresql": ("psycopg", "psycopg2"),
}

# Aliases users write in URLs.
DIALECT_ALIASES: dict[str, str] = {"postgres": "postgresql", "pgsql": "postgresql"}
