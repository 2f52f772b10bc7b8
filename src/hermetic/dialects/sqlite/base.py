"""SQLite: flags and pool choice."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from hermetic.dialects.base import Dialect, sql_string

if TYPE_CHECKING:
    from hermetic.engine.url import URL


class SQLiteDialect(Dialect):
    name = "sqlite"
    supports_server_side_cursors = False
    supports_native_boolean = False
    supports_native_datetime = False
    supports_native_decimal = False
    offset_requires_limit = True
    supports_for_update = False
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
    non_transactional_keywords: ClassVar[frozenset[str]] = frozenset(
        {"PRAGMA", "VACUUM", "ATTACH", "DETACH"}
    )

    def empty_set_expression(self, type_: Any) -> str:
        return "SELECT 1 FROM (SELECT 1) WHERE 1!=1"

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
