"""Reflection, the pure part shared by the dialects: what a dialect reports about a table
and how it asks for rows without doing any I/O itself.

A dialect's reflector (``dialect.reflector()``) writes its catalog queries as generators:
each step yields ``(sql, params)`` (a ``text()`` statement with ``:name`` parameters) and
receives the rows; the generator's return value is the answer. The Inspector
(``engine/reflection.py``) is the only code that runs them on a connection, so the SQL and
the parsing of what comes back are unit-testable without a database, and a dialect may
decide its next query from the rows of the last one.

Everything about a batch of tables comes back in one :class:`ReflectedTable` per table,
holding the dictionaries SQLAlchemy 2.0's Inspector returns (``get_columns()`` ...): a
dialect fetches a whole schema in a few queries, and the Inspector hands out parts.
"""

from __future__ import annotations

import re
import warnings
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from enum import Flag, auto
from typing import Any, TypedDict, TypeVar

from typing_extensions import NotRequired

from hermetic import exc
from hermetic.sql import sqltypes

T = TypeVar("T")

# One query: text() SQL with :name parameters, and the parameters.
Query = tuple[str, dict[str, Any]]
Rows = Sequence[Sequence[Any]]
# A reflection step: yields queries, is sent their rows, returns a T.
Step = Generator[Query, Rows, T]


class ObjectKind(Flag):
    """Which relations a ``get_multi_*`` call looks at."""

    TABLE = auto()
    VIEW = auto()
    MATERIALIZED_VIEW = auto()
    ANY_VIEW = VIEW | MATERIALIZED_VIEW
    ANY = TABLE | VIEW | MATERIALIZED_VIEW


class ObjectScope(Flag):
    """Ordinary relations, temporary ones, or both."""

    DEFAULT = auto()
    TEMPORARY = auto()
    ANY = DEFAULT | TEMPORARY


# The parts of a table a caller may ask for; a reflector skips the queries of the others.
PARTS = frozenset(
    {"columns", "pk", "foreign_keys", "indexes", "unique", "check", "comment", "options"}
)


class ReflectedColumn(TypedDict):
    name: str
    type: sqltypes.TypeEngine
    nullable: bool
    default: str | None
    autoincrement: NotRequired[bool]
    comment: NotRequired[str | None]
    computed: NotRequired[dict[str, Any]]
    identity: NotRequired[dict[str, Any]]
    dialect_options: NotRequired[dict[str, Any]]


class ReflectedPrimaryKeyConstraint(TypedDict):
    name: str | None
    constrained_columns: list[str]
    comment: NotRequired[str | None]
    dialect_options: NotRequired[dict[str, Any]]


class ReflectedForeignKeyConstraint(TypedDict):
    name: str | None
    constrained_columns: list[str]
    referred_schema: str | None
    referred_table: str
    referred_columns: list[str]
    options: NotRequired[dict[str, Any]]
    comment: NotRequired[str | None]


class ReflectedIndex(TypedDict):
    name: str | None
    column_names: list[str | None]
    unique: bool
    expressions: NotRequired[list[str]]
    column_sorting: NotRequired[dict[str, tuple[str, ...]]]
    duplicates_constraint: NotRequired[str | None]
    include_columns: NotRequired[list[str]]
    dialect_options: NotRequired[dict[str, Any]]


class ReflectedUniqueConstraint(TypedDict):
    name: str | None
    column_names: list[str]
    duplicates_index: NotRequired[str | None]
    comment: NotRequired[str | None]
    dialect_options: NotRequired[dict[str, Any]]


class ReflectedCheckConstraint(TypedDict):
    name: str | None
    sqltext: str
    comment: NotRequired[str | None]
    dialect_options: NotRequired[dict[str, Any]]


class ReflectedTableComment(TypedDict):
    text: str | None


def _no_pk() -> dict[str, Any]:
    return {"constrained_columns": [], "name": None}


@dataclass
class ReflectedTable:
    """What a dialect knows about one table or view (the parts that were asked for)."""

    name: str
    kind: ObjectKind = ObjectKind.TABLE
    columns: list[dict[str, Any]] = field(default_factory=list)
    pk: dict[str, Any] = field(default_factory=_no_pk)
    foreign_keys: list[dict[str, Any]] = field(default_factory=list)
    indexes: list[dict[str, Any]] = field(default_factory=list)
    unique: list[dict[str, Any]] = field(default_factory=list)
    check: list[dict[str, Any]] = field(default_factory=list)
    comment: dict[str, Any] = field(default_factory=lambda: {"text": None})
    options: dict[str, Any] = field(default_factory=dict)

    def part(self, name: str) -> Any:
        return getattr(self, name)


class Reflector:
    """The catalog queries of one database; subclasses live in ``dialects/<db>/``."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect

    def default_schema_name(self) -> Step[str | None]:
        return None
        yield  # pragma: no cover - makes this a generator

    def schema_names(self) -> Step[list[str]]:
        raise NotImplementedError

    def object_names(
        self, schema: str | None, kind: ObjectKind, scope: ObjectScope
    ) -> Step[list[str]]:
        """Names of the relations of ``kind`` in ``schema``, sorted."""
        raise NotImplementedError

    def sequence_names(self, schema: str | None) -> Step[list[str]]:
        return []
        yield  # pragma: no cover

    def view_definition(self, name: str, schema: str | None) -> Step[str | None]:
        raise NotImplementedError

    def has_table(self, name: str, schema: str | None) -> Step[bool]:
        names = yield from self.object_names(schema, ObjectKind.ANY, ObjectScope.ANY)
        return name in names

    def tables(
        self,
        schema: str | None,
        names: Sequence[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
        parts: frozenset[str],
    ) -> Step[dict[str, ReflectedTable]]:
        """The relations of ``kind`` in ``schema`` (those in ``names`` only, when given)
        with the ``parts`` asked for, by name; a name that does not exist is absent."""
        raise NotImplementedError


# -- type names --------------------------------------------------------------------------

_TYPE_SPEC = re.compile(r"^(?P<name>[^(]*)(?:\((?P<args>[^)]*)\)(?P<rest>.*))?$", re.S)


def split_type(spec: str) -> tuple[str, list[str], str]:
    """A declared type as (name, arguments, what follows the arguments), the name with
    single spaces: ``'DECIMAL(10, 2)'`` -> ``('DECIMAL', ['10', '2'], '')``,
    ``'timestamp(3) with time zone'`` -> ``('timestamp', ['3'], 'with time zone')``."""
    m = _TYPE_SPEC.match(spec.strip())
    if m is None:  # pragma: no cover - the pattern matches every string
        return " ".join(spec.split()), [], ""
    args = m.group("args")
    return (
        " ".join(m.group("name").split()),
        [a.strip() for a in args.split(",")] if args is not None and args.strip() else [],
        " ".join((m.group("rest") or "").split()),
    )


def int_args(args: Sequence[str]) -> list[int]:
    """The leading integer arguments (``VARCHAR(20)`` -> [20]; ``FLOAT(MAX)`` -> [])."""
    out: list[int] = []
    for a in args:
        try:
            out.append(int(a))
        except ValueError:
            break
    return out


def unknown_type(type_name: str, column: str) -> sqltypes.TypeEngine:
    warnings.warn(
        f"Did not recognize type {type_name!r} of column {column!r}; it is reflected as "
        "NullType (values pass through unconverted)",
        exc.SAWarning,
        stacklevel=2,
    )
    return sqltypes.NullType()


__all__ = [
    "PARTS",
    "ObjectKind",
    "ObjectScope",
    "Query",
    "ReflectedCheckConstraint",
    "ReflectedColumn",
    "ReflectedForeignKeyConstraint",
    "ReflectedIndex",
    "ReflectedPrimaryKeyConstraint",
    "ReflectedTable",
    "ReflectedTableComment",
    "ReflectedUniqueConstraint",
    "Reflector",
    "Rows",
    "Step",
    "int_args",
    "split_type",
    "unknown_type",
]
