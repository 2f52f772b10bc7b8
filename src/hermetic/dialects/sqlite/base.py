"""SQLite: flags and pool choice."""

from __future__ import annotations

import sqlite3
from typing import TYPE_CHECKING, Any, ClassVar

from hermetic.dialects.base import Dialect, sql_string

if TYPE_CHECKING:
    from hermetic.engine.url import URL


class SQLiteDialect(Dialect):
    name = "sqlite"
    supports_server_side_cursors = False
    # RETURNING arrived in SQLite 3.35 (2021); older libraries insert row by row.
    supports_returning = sqlite3.sqlite_version_info >= (3, 35)
    supports_multirow_returning = supports_returning
    postfetch_lastrowid = True
    supports_native_boolean = False
    supports_native_datetime = False
    supports_native_decimal = False
    offset_requires_limit = True
    supports_for_update = False
    # UPDATE ... FROM since SQLite 3.33; DELETE has no USING (a subquery does it)
    supports_update_from = True
    returning_sees_update_from = False
    tuple_in_values = True
    supports_is_distinct_from = False  # 3.39+ only; IS NOT / IS mean the same
    supports_any_all = False
    supports_lateral = False
    # CAST(2 AS NUMERIC) is still the integer 2 in SQLite
    numeric_division_template = "CAST({} AS REAL)"
    supports_extract = False
    extract_templates: ClassVar[dict[str, str]] = {
        field: f"CAST(STRFTIME('{fmt}', {{expr}}) AS INTEGER)"
        for field, fmt in {
            "year": "%Y",
            "month": "%m",
            "day": "%d",
            "hour": "%H",
            "minute": "%M",
            "second": "%S",
            "doy": "%j",
            "dow": "%w",
            "week": "%W",
            "epoch": "%s",
        }.items()
    }
    supports_alter = False
    # an out-of-range literal reads as infinity; SQLite has no NaN (it stores NULL)
    float_literal_specials: ClassVar[dict[str, str]] = {"inf": "9e999", "-inf": "-9e999"}
    non_transactional_keywords: ClassVar[frozenset[str]] = frozenset(
        {"PRAGMA", "VACUUM", "ATTACH", "DETACH"}
    )

    def reflector(self) -> Any:
        """The catalog queries behind ``inspect(engine)`` (dialects/sqlite/reflection.py)."""
        from hermetic.dialects.sqlite.reflection import SQLiteReflector

        return SQLiteReflector(self)

    def post_create_table(self, table: Any) -> str:
        """Table options after CREATE TABLE's parenthesis: ``WITHOUT ROWID`` for
        ``sqlite_with_rowid=False``, ``STRICT`` for ``sqlite_strict=True``."""
        options = table.dialect_options.get("sqlite", {})
        words = []
        if options.get("with_rowid", True) is False:
            words.append("WITHOUT ROWID")
        if options.get("strict"):
            words.append("STRICT")
        return " " + ", ".join(words) if words else ""

    def empty_set_expression(self, type_: Any) -> str:
        width = len(type_) if isinstance(type_, tuple) else 1
        return "SELECT " + ", ".join(["1"] * width) + " FROM (SELECT 1) WHERE 1!=1"

    def has_table_sql(self, schema: str | None) -> str:
        master = (
            "sqlite_master"
            if schema is None
            else '"' + schema.replace('"', '""') + '".sqlite_master'
        )
        return f"SELECT name FROM {master} WHERE type = 'table' AND name = :name"

    def json_getitem(self, path: tuple[str | int, ...], mode: str) -> tuple[str, str]:
        steps = "".join(
            f"[{step}]" if isinstance(step, int) else '."' + step.replace('"', '\\"') + '"'
            for step in path
        )
        arg = sql_string("$" + steps)
        if mode == "json":
            return "JSON_QUOTE(JSON_EXTRACT(", f", {arg}))"
        return "JSON_EXTRACT(", f", {arg})"

    def default_pool_kind(self, url: URL) -> str:
        # A memory database lives inside one connection: SQLAlchemy 2.x gives each
        # thread its own (SingletonThreadPool); a file database gets a QueuePool.
        db = url.database
        if not db or db == ":memory:" or (db.startswith("file:") and "mode=memory" in db):
            return "singleton"
        if url.query.get("mode") in ("memory", ("memory",)):  # file:name?mode=memory&uri=true
            return "singleton"
        return "queue"
