"""DDL: ``CreateTable``, ``DropTable``, ``CreateIndex``, ``DropIndex`` and friends, the
type names each dialect gives a type, and the ordering behind ``MetaData.create_all`` /
``drop_all``.

DDL elements are executables that are never cached (they embed no bound values and run
once); ``conn.execute(CreateTable(t))`` compiles them for the connection's dialect. What
differs between databases is read from the dialect's flags and tables (``ddl_type_names``,
``ddl_serial_types``, ``supports_alter``, ``supports_native_enum`` ...), never its name.

Expressions inside DDL (CHECK constraints, partial index predicates, server defaults) are
rendered with their values inline, since DDL takes no parameters.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import Any

from hermetic import exc
from hermetic.sql import sqltypes
from hermetic.sql.base import ClauseElement, Executable
from hermetic.sql.compiler import (
    Compiled,
    SQLCompiler,
    _GenericDialect,
    _State,
    quote_identifier,
)
from hermetic.sql.elements import ColumnClause, TextClause, UnaryExpression
from hermetic.sql.schema import (
    CheckConstraint,
    Column,
    Constraint,
    DefaultClause,
    ForeignKeyConstraint,
    Index,
    MetaData,
    NoReferenceError,
    PrimaryKeyConstraint,
    Table,
    UniqueConstraint,
)


class _DDLGenericDialect(_GenericDialect):
    """What ``str(CreateTable(t))`` renders for: generic type names, no database."""

    ddl_type_names: dict[str, str] = {}
    ddl_serial_types: dict[str, str] = {}
    supports_alter = True
    supports_comments = False
    supports_native_enum = False
    supports_native_uuid = False
    supports_native_interval = False
    supports_native_array = False


# -- elements ----------------------------------------------------------------------------


class DDLElement(Executable):
    """A DDL statement: executes uncached, renders per dialect."""

    __visit_name__ = "ddl"
    _is_textual = False

    @property
    def _cache_key(self) -> None:
        return None

    def _key_and_binds(self) -> tuple[None, list[Any]]:
        return None, []

    def _compile_for(self, dialect: Any) -> Compiled:
        sql = DDLCompiler(dialect).process(self)
        template_sql = (
            sql.replace("%", "%%") if dialect.paramstyle in ("pyformat", "format") else sql
        )
        return Compiled(
            self,
            template_sql,
            dialect.positional,
            (),
            {},
            {},
            None,
            [(template_sql, None)],
            dialect,
        )

    def compile(
        self, bind: Any = None, dialect: Any = None, compile_kwargs: Any = None, **kw: Any
    ) -> str:
        """The DDL as SQL text for ``dialect`` (or ``bind``'s, or generic)."""
        if dialect is None:
            # SQLAlchemy's first positional argument is ``bind``; accept a dialect there
            dialect = getattr(bind, "dialect", bind)
        return DDLCompiler(dialect if dialect is not None else _DDLGenericDialect()).process(self)

    def __str__(self) -> str:
        return self.compile()


class CreateTable(DDLElement):
    """``CREATE TABLE``; foreign keys in ``omit_constraints`` are left out (added later
    with ALTER TABLE)."""

    __visit_name__ = "create_table"

    def __init__(
        self,
        element: Table,
        include_foreign_key_constraints: Iterable[ForeignKeyConstraint] | None = None,
        if_not_exists: bool = False,
    ) -> None:
        self.element = element
        self.include_foreign_key_constraints = (
            None
            if include_foreign_key_constraints is None
            else list(include_foreign_key_constraints)
        )
        self.if_not_exists = if_not_exists


class DropTable(DDLElement):
    __visit_name__ = "drop_table"

    def __init__(self, element: Table, if_exists: bool = False) -> None:
        self.element = element
        self.if_exists = if_exists


class CreateIndex(DDLElement):
    __visit_name__ = "create_index"

    def __init__(self, element: Index, if_not_exists: bool = False) -> None:
        self.element = element
        self.if_not_exists = if_not_exists


class DropIndex(DDLElement):
    __visit_name__ = "drop_index"

    def __init__(self, element: Index, if_exists: bool = False) -> None:
        self.element = element
        self.if_exists = if_exists


class AddConstraint(DDLElement):
    __visit_name__ = "add_constraint"

    def __init__(self, element: Constraint) -> None:
        self.element = element


class DropConstraint(DDLElement):
    __visit_name__ = "drop_constraint"

    def __init__(self, element: Constraint, if_exists: bool = False) -> None:
        self.element = element
        self.if_exists = if_exists


class CreateEnumType(DDLElement):
    """``CREATE TYPE name AS ENUM (...)`` (databases with native enums)."""

    __visit_name__ = "create_enum_type"

    def __init__(self, element: sqltypes.Enum) -> None:
        self.element = element


class DropEnumType(DDLElement):
    __visit_name__ = "drop_enum_type"

    def __init__(self, element: sqltypes.Enum) -> None:
        self.element = element


class SetTableComment(DDLElement):
    __visit_name__ = "set_table_comment"

    def __init__(self, element: Table) -> None:
        self.element = element


class SetColumnComment(DDLElement):
    __visit_name__ = "set_column_comment"

    def __init__(self, element: Column) -> None:
        self.element = element


# -- types -------------------------------------------------------------------------------


class DDLTypeCompiler:
    """The SQL name of a type on one dialect: ``visit_<__visit_name__>(type)``."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect

    def process(self, type_: Any) -> str:
        type_ = sqltypes.to_instance(type_)
        impl = type_.dialect_impl(self.dialect)
        if isinstance(impl, sqltypes.TypeDecorator):
            return self.process(impl.load_dialect_impl(self.dialect))
        return self._visit(impl.__visit_name__, impl)

    def _visit(self, name: str, type_: Any) -> str:
        name = self.dialect.ddl_type_names.get(name, name)
        visit = getattr(self, f"visit_{name}", None)
        if visit is not None:
            result: str = visit(type_)
            return result
        if name.isupper():
            return name.replace("_", " ")
        raise exc.CompileError(
            f"hermetic has no DDL name for type {type_!r} on {self.dialect.name}"
        )

    @staticmethod
    def _length(name: str, type_: Any) -> str:
        length = getattr(type_, "length", None)
        sql = f"{name}({length})" if length else name
        collation = getattr(type_, "collation", None)
        if collation:
            sql += f' COLLATE "{collation}"'
        return sql

    # numbers
    def visit_integer(self, type_: Any) -> str:
        return "INTEGER"

    visit_INTEGER = visit_integer

    def visit_small_integer(self, type_: Any) -> str:
        return "SMALLINT"

    visit_SMALLINT = visit_small_integer

    def visit_big_integer(self, type_: Any) -> str:
        return "BIGINT"

    visit_BIGINT = visit_big_integer

    def _numeric(self, name: str, type_: Any) -> str:
        p, s = type_.precision, getattr(type_, "scale", None)
        if p is None:
            return name
        return f"{name}({p}, {s})" if s is not None else f"{name}({p})"

    def visit_numeric(self, type_: Any) -> str:
        return self._numeric("NUMERIC", type_)

    visit_NUMERIC = visit_numeric

    def visit_DECIMAL(self, type_: Any) -> str:
        return self._numeric("DECIMAL", type_)

    def visit_float(self, type_: Any) -> str:
        p = type_.precision
        return f"FLOAT({p})" if p is not None else "FLOAT"

    visit_FLOAT = visit_float

    def visit_REAL(self, type_: Any) -> str:
        return "REAL"

    def visit_double(self, type_: Any) -> str:
        return "DOUBLE"

    visit_DOUBLE = visit_double

    def visit_DOUBLE_PRECISION(self, type_: Any) -> str:
        return "DOUBLE PRECISION"

    # strings
    def visit_string(self, type_: Any) -> str:
        return self._length("VARCHAR", type_)

    visit_VARCHAR = visit_unicode = visit_string

    def visit_NVARCHAR(self, type_: Any) -> str:
        return self._length("NVARCHAR", type_)

    def visit_CHAR(self, type_: Any) -> str:
        return self._length("CHAR", type_)

    def visit_NCHAR(self, type_: Any) -> str:
        return self._length("NCHAR", type_)

    def visit_text(self, type_: Any) -> str:
        return self._length("TEXT", type_)

    visit_TEXT = visit_unicode_text = visit_text

    def visit_CLOB(self, type_: Any) -> str:
        return self._length("CLOB", type_)

    def visit_boolean(self, type_: Any) -> str:
        return "BOOLEAN"

    visit_BOOLEAN = visit_boolean

    # dates and times
    def _tz(self, name: str, type_: Any) -> str:
        precision = getattr(type_, "precision", None)
        sql = f"{name}({precision})" if precision is not None else name
        return sql + " WITH TIME ZONE" if getattr(type_, "timezone", False) else sql

    def visit_datetime(self, type_: Any) -> str:
        return "DATETIME"

    visit_DATETIME = visit_datetime

    def visit_TIMESTAMP(self, type_: Any) -> str:
        return self._tz("TIMESTAMP", type_)

    def visit_date(self, type_: Any) -> str:
        return "DATE"

    visit_DATE = visit_date

    def visit_time(self, type_: Any) -> str:
        return "TIME"

    def visit_TIME(self, type_: Any) -> str:
        return self._tz("TIME", type_)

    def visit_interval(self, type_: Any) -> str:
        if type_.native and self.dialect.supports_native_interval:
            return "INTERVAL"
        return self._visit("datetime", sqltypes.DateTime())

    def visit_INTERVAL(self, type_: Any) -> str:
        sql = "INTERVAL"
        if getattr(type_, "fields", None):
            sql += f" {type_.fields}"
        if getattr(type_, "precision", None) is not None:
            sql += f" ({type_.precision})"
        return sql

    # binary
    def visit_large_binary(self, type_: Any) -> str:
        return "BLOB"

    def visit_BLOB(self, type_: Any) -> str:
        return "BLOB"

    def visit_BYTEA(self, type_: Any) -> str:
        return "BYTEA"

    def visit_BINARY(self, type_: Any) -> str:
        return self._length("BINARY", type_)

    def visit_VARBINARY(self, type_: Any) -> str:
        return self._length("VARBINARY", type_)

    def visit_BIT(self, type_: Any) -> str:
        name = "BIT VARYING" if type_.varying else "BIT"
        return f"{name}({type_.length})" if type_.length is not None else name

    # structured
    def visit_enum(self, type_: Any) -> str:
        if _is_native_enum(type_, self.dialect):
            name = quote_identifier(type_.name)
            return f"{quote_identifier(type_.schema)}.{name}" if type_.schema else name
        return self._length("VARCHAR", type_)

    visit_ENUM = visit_enum

    def visit_uuid(self, type_: Any) -> str:
        if type_.native_uuid and self.dialect.supports_native_uuid:
            return "UUID"
        return "CHAR(32)"

    def visit_UUID(self, type_: Any) -> str:
        return "UUID"

    def visit_ARRAY(self, type_: Any) -> str:
        if not self.dialect.supports_native_array:
            raise exc.CompileError(
                f"{self.dialect.name} has no ARRAY type; store lists as JSON instead"
            )
        return self.process(type_.item_type) + "[]" * (type_.dimensions or 1)

    def visit_user_defined(self, type_: Any) -> str:
        spec: str = type_.get_col_spec()
        return spec

    def visit_null(self, type_: Any) -> str:
        raise exc.CompileError(
            "Can't generate DDL for a column of NullType; give the Column a type"
        )


def _is_native_enum(type_: Any, dialect: Any) -> bool:
    return bool(
        isinstance(type_, sqltypes.Enum) and type_.native_enum and dialect.supports_native_enum
    )


# -- expressions inside DDL ----------------------------------------------------------------


class _InlineCompiler(SQLCompiler):
    """Renders an expression with its values inline and columns unqualified."""

    def visit_column(self, col: Any, state: _State) -> None:
        state.write(col.name if col.is_literal else quote_identifier(col.name))

    def visit_bindparam(self, bind: Any, state: _State) -> None:
        state.write(sqltypes.render_literal_value(bind.effective_value, bind.type, self.dialect))

    def visit_textclause(self, clause: Any, state: _State) -> None:
        state.write(clause.text)

    def inline(self, element: Any) -> str:
        if isinstance(element, TextClause):
            return element.text
        state = _State()
        self.process(element, state)
        return "".join(text for text, _ in state.finish())


def render_literal(value: Any, dialect: Any) -> str:
    """A Python value as an SQL literal (rendered by its own type; see
    ``sqltypes.render_literal_value``)."""
    return sqltypes.render_literal_value(value, sqltypes.type_for_value(value), dialect)


# -- the DDL compiler ----------------------------------------------------------------------


class DDLCompiler:
    """Renders DDL elements for one dialect: ``visit_<__visit_name__>(element)``."""

    def __init__(self, dialect: Any) -> None:
        self.dialect = dialect
        self.types = DDLTypeCompiler(dialect)
        self.exprs = _InlineCompiler(dialect)

    def process(self, element: DDLElement) -> str:
        visit = getattr(self, f"visit_{element.__visit_name__}")
        result: str = visit(element)
        return result

    def _table_name(self, table: Table) -> str:
        name = quote_identifier(table.name)
        return f"{quote_identifier(table.schema)}.{name}" if table.schema else name

    def _cols(self, cols: Iterable[Column]) -> str:
        return ", ".join(quote_identifier(c.name) for c in cols)

    # tables
    def visit_create_table(self, create: CreateTable) -> str:
        table = create.element
        lines = [self.column_spec(c) for c in table._column_list]
        for con in self._table_constraints(table, create.include_foreign_key_constraints):
            sql = self.constraint_spec(con)
            if sql:
                lines.append(sql)
        head = "CREATE TABLE IF NOT EXISTS " if create.if_not_exists else "CREATE TABLE "
        sql = head + self._table_name(table) + " (\n\t" + ",\n\t".join(lines) + "\n)"
        post = getattr(self.dialect, "post_create_table", None)  # WITHOUT ROWID ...
        return sql + post(table) if post is not None else sql

    def _table_constraints(
        self, table: Table, include_fks: list[ForeignKeyConstraint] | None
    ) -> list[Constraint]:
        out: list[Constraint] = []
        if table.primary_key._cols:
            out.append(table.primary_key)
        for con in table._constraints:
            if isinstance(con, PrimaryKeyConstraint):
                continue
            if isinstance(con, ForeignKeyConstraint):
                if include_fks is not None and con not in include_fks:
                    continue
                if include_fks is None and con.use_alter and self.dialect.supports_alter:
                    continue
            out.append(con)
        for col in table._column_list:
            check = self._type_check(col)
            if check is not None:
                out.append(check)
        return out

    def _type_check(self, col: Column) -> CheckConstraint | None:
        """The CHECK that a non-native Enum / Boolean with create_constraint adds."""
        t = col.type
        if isinstance(t, sqltypes.TypeDecorator):
            t = t.load_dialect_impl(self.dialect)
        if not getattr(t, "create_constraint", False):
            return None
        name = quote_identifier(col.name)
        if isinstance(t, sqltypes.Enum):
            if _is_native_enum(t, self.dialect):
                return None
            values = ", ".join(render_literal(v, self.dialect) for v in t.enums)
            check = CheckConstraint(TextClause(f"{name} IN ({values})"), name=t.name)
        elif isinstance(t, sqltypes.Boolean) and not self.dialect.supports_native_boolean:
            check = CheckConstraint(TextClause(f"{name} IN (0, 1)"), name=t.name)
        else:
            return None
        check.table = col.table
        return check

    def column_spec(self, col: Column) -> str:
        table = col.table
        assert table is not None
        type_ = col.type
        if isinstance(type_, sqltypes.NullType) and col.foreign_keys:
            # Column("x", ForeignKey("t.id")): the type of the referenced column
            type_ = next(iter(col.foreign_keys)).column.type
        type_sql = self.types.process(type_)
        serial = False
        if _is_autoincrement(col):
            affinity = col.type._type_affinity.__visit_name__
            serial = affinity in self.dialect.ddl_serial_types
            type_sql = self.dialect.ddl_serial_types.get(affinity, type_sql)
        sql = f"{quote_identifier(col.name)} {type_sql}"
        default = col.server_default
        # a SERIAL brings its own default (a reflected one names the old sequence)
        if isinstance(default, DefaultClause) and not serial:
            sql += " DEFAULT " + self.default_sql(default.arg)
        if not col.nullable:
            sql += " NOT NULL"
        return sql

    def default_sql(self, arg: Any) -> str:
        if isinstance(arg, str):
            return render_literal(arg, self.dialect)
        if isinstance(arg, TextClause):
            return arg.text
        return self.exprs.inline(arg)

    def constraint_spec(self, con: Constraint) -> str:
        name = con.name
        prefix = f"CONSTRAINT {quote_identifier(name)} " if name else ""
        if isinstance(con, PrimaryKeyConstraint):
            body = f"PRIMARY KEY ({self._cols(con._cols)})"
        elif isinstance(con, UniqueConstraint):
            body = f"UNIQUE ({self._cols(con._cols)})"
        elif isinstance(con, CheckConstraint):
            body = f"CHECK ({self.exprs.inline(con.sqltext)})"
        elif isinstance(con, ForeignKeyConstraint):
            body = self.foreign_key_spec(con)
        else:  # pragma: no cover - every constraint class is above
            raise exc.CompileError(f"Cannot render {con!r}")
        body += self._deferrable(con)
        return prefix + body

    def foreign_key_spec(self, con: ForeignKeyConstraint) -> str:
        try:
            remote = [fk.column for fk in con.elements]
        except NoReferenceError:
            raise
        ref_table = remote[0].table
        assert ref_table is not None
        sql = (
            f"FOREIGN KEY ({self._cols(con._cols)}) REFERENCES "
            f"{self._table_name(ref_table)} ({self._cols(remote)})"
        )
        if con.match:
            sql += f" MATCH {con.match}"
        if con.ondelete:
            sql += f" ON DELETE {_keyword(con.ondelete)}"
        if con.onupdate:
            sql += f" ON UPDATE {_keyword(con.onupdate)}"
        return sql

    @staticmethod
    def _deferrable(con: Constraint) -> str:
        sql = ""
        if con.deferrable is not None:
            sql += " DEFERRABLE" if con.deferrable else " NOT DEFERRABLE"
        if con.initially is not None:
            sql += f" INITIALLY {_keyword(con.initially)}"
        return sql

    def visit_drop_table(self, drop: DropTable) -> str:
        head = "DROP TABLE IF EXISTS " if drop.if_exists else "DROP TABLE "
        return head + self._table_name(drop.element)

    # indexes
    def _index_name(self, index: Index) -> str:
        name = index.name
        if not name:
            raise exc.CompileError(
                "CREATE INDEX requires that the index have a name; pass one to Index() or "
                "give the MetaData an 'ix' naming convention"
            )
        return quote_identifier(name)

    def visit_create_index(self, create: CreateIndex) -> str:
        index = create.element
        table = index.table
        if table is None:
            raise exc.CompileError(f"Index {index._name!r} is not attached to a table")
        options = index.dialect_options.get(self.dialect.name, {})
        sql = "CREATE UNIQUE INDEX " if index.unique else "CREATE INDEX "
        if create.if_not_exists:
            sql += "IF NOT EXISTS "
        sql += f"{self._index_name(index)} ON {self._table_name(table)}"
        if options.get("using"):
            sql += f" USING {options['using']}"
        sql += " (" + ", ".join(self._index_element(e) for e in index.expressions) + ")"
        include = options.get("include")
        if include:
            names = [c if isinstance(c, str) else c.name for c in include]
            sql += " INCLUDE (" + ", ".join(quote_identifier(n) for n in names) + ")"
        where = options.get("where")
        if where is not None:
            where = TextClause(where) if isinstance(where, str) else where
            sql += " WHERE " + self.exprs.inline(where)
        return sql

    def _index_element(self, e: Any) -> str:
        """A column by name, an expression in parentheses, either followed by its
        ASC / DESC / NULLS FIRST / NULLS LAST."""
        if isinstance(e, Column):
            return quote_identifier(e.name)
        if isinstance(e, UnaryExpression) and e.operator is None and e.modifier is not None:
            return self._index_element(e.element) + " " + e.modifier.sql
        if isinstance(e, ColumnClause) and e.is_literal:
            return "(" + e.name + ")"
        return "(" + self.exprs.inline(e) + ")"

    def visit_drop_index(self, drop: DropIndex) -> str:
        index = drop.element
        name = self._index_name(index)
        schema = index.table.schema if index.table is not None else None
        if schema:
            name = f"{quote_identifier(schema)}.{name}"
        return ("DROP INDEX IF EXISTS " if drop.if_exists else "DROP INDEX ") + name

    # constraints
    def visit_add_constraint(self, add: AddConstraint) -> str:
        con = add.element
        assert con.table is not None
        return f"ALTER TABLE {self._table_name(con.table)} ADD {self.constraint_spec(con)}"

    def visit_drop_constraint(self, drop: DropConstraint) -> str:
        con = drop.element
        assert con.table is not None
        if not con.name:
            raise exc.CompileError(
                f"Can't emit DROP CONSTRAINT for the unnamed constraint {con!r} of table "
                f"{con.table.name!r}; give it a name (or a naming convention)"
            )
        exists = "IF EXISTS " if drop.if_exists else ""
        return (
            f"ALTER TABLE {self._table_name(con.table)} DROP CONSTRAINT {exists}"
            f"{quote_identifier(con.name)}"
        )

    # enum types
    def visit_create_enum_type(self, create: CreateEnumType) -> str:
        t = create.element
        values = ", ".join(render_literal(v, self.dialect) for v in t.enums)
        return f"CREATE TYPE {self.types.visit_enum(t)} AS ENUM ({values})"

    def visit_drop_enum_type(self, drop: DropEnumType) -> str:
        return f"DROP TYPE {self.types.visit_enum(drop.element)}"

    # comments
    def visit_set_table_comment(self, c: SetTableComment) -> str:
        comment = render_literal(c.element.comment, self.dialect)
        return f"COMMENT ON TABLE {self._table_name(c.element)} IS {comment}"

    def visit_set_column_comment(self, c: SetColumnComment) -> str:
        col = c.element
        assert col.table is not None
        comment = render_literal(col.comment, self.dialect)
        target = f"{self._table_name(col.table)}.{quote_identifier(col.name)}"
        return f"COMMENT ON COLUMN {target} IS {comment}"


_KEYWORDS = frozenset(
    {"CASCADE", "RESTRICT", "SET NULL", "SET DEFAULT", "NO ACTION", "DEFERRED", "IMMEDIATE"}
)


def _keyword(value: str) -> str:
    """ON DELETE / INITIALLY values are keywords: refuse anything else (no injection)."""
    upper = " ".join(value.upper().split())
    if upper not in _KEYWORDS:
        raise exc.CompileError(
            f"Unexpected SQL phrase {value!r}; expected one of {', '.join(sorted(_KEYWORDS))}"
        )
    return upper


def _is_autoincrement(col: Column) -> bool:
    """The single integer primary key column that the database numbers itself."""
    table = col.table
    if table is None or table.primary_key._cols != [col]:
        return False
    if not issubclass(col.type._type_affinity, sqltypes.Integer):
        return False
    if col.autoincrement is True:
        return True
    return (
        col.autoincrement == "auto"
        and not col.foreign_keys
        and col.server_default is None
        and col.default is None
    )


# -- ordering ------------------------------------------------------------------------------


def _referred(con: ForeignKeyConstraint, tables: dict[str, Table]) -> Table | None:
    table = con.table
    if table is None:
        return None
    try:
        ref = con.elements[0].column.table
    except NoReferenceError:
        return None
    return ref if isinstance(ref, Table) and ref.fullname in tables else None


def sort_tables_and_constraints(
    tables: Iterable[Table],
) -> tuple[list[Table], list[ForeignKeyConstraint]]:
    """Tables ordered so that each comes after the tables it refers to (ties by name),
    and the foreign keys that must be added after creation: those with ``use_alter`` and
    those that close a cycle."""
    by_name = {t.fullname: t for t in tables}
    deps: dict[str, dict[str, list[ForeignKeyConstraint]]] = {name: {} for name in by_name}
    after: list[ForeignKeyConstraint] = []
    for name, t in sorted(by_name.items()):
        for con in t._constraints:
            if not isinstance(con, ForeignKeyConstraint):
                continue
            if con.use_alter:
                after.append(con)
                continue
            ref = _referred(con, by_name)
            if ref is not None and ref is not t:
                deps[name].setdefault(ref.fullname, []).append(con)
    ordered: list[Table] = []
    done: set[str] = set()
    remaining = sorted(by_name)
    while remaining:
        ready = [n for n in remaining if all(d in done for d in deps[n])]
        if not ready:
            # a cycle: move the foreign keys that close it to ALTER TABLE
            cyclic = _cycle_edges(remaining, deps)
            for src, dst in cyclic:
                after.extend(deps[src].pop(dst))
            continue
        for n in ready:
            ordered.append(by_name[n])
            done.add(n)
        remaining = [n for n in remaining if n not in done]
    return ordered, after


def _cycle_edges(
    names: list[str], deps: dict[str, dict[str, list[ForeignKeyConstraint]]]
) -> list[tuple[str, str]]:
    """Edges (table -> table it refers to) that lie on a cycle among ``names``."""
    pool = set(names)

    def reaches(start: str, goal: str) -> bool:
        seen: set[str] = set()
        stack = [start]
        while stack:
            n = stack.pop()
            if n == goal:
                return True
            if n in seen:
                continue
            seen.add(n)
            stack.extend(d for d in deps[n] if d in pool)
        return False

    return [(src, dst) for src in names for dst in deps[src] if dst in pool and reaches(dst, src)]


def sort_tables(tables: Iterable[Table]) -> list[Table]:
    return sort_tables_and_constraints(tables)[0]


# -- create_all / drop_all -------------------------------------------------------------------


@contextmanager
def _connection(bind: Any) -> Iterator[Any]:
    """A Connection is used as is (its transaction is the caller's); an Engine runs the
    whole operation in one transaction."""
    if hasattr(bind, "exec_driver_sql"):
        yield bind
        return
    with bind.begin() as conn:
        yield conn


def _has_table(conn: Any, table: Table) -> bool:
    params = {"name": table.name}
    if table.schema:
        params["schema"] = table.schema
    sql = conn.dialect.has_table_sql(table.schema)
    return conn.execute(TextClause(sql), params).first() is not None


def _has_type(conn: Any, type_: sqltypes.Enum) -> bool:
    sql = conn.dialect.has_type_sql(type_.schema)
    if sql is None:
        return False
    params = {"name": type_.name}
    if type_.schema:
        params["schema"] = type_.schema
    return conn.execute(TextClause(sql), params).first() is not None


def _native_enums(tables: Iterable[Table], dialect: Any) -> list[sqltypes.Enum]:
    """The named enum types the tables' columns need created, each once."""
    seen: dict[tuple[str | None, str], sqltypes.Enum] = {}
    for t in tables:
        for col in t._column_list:
            ty = col.type
            if isinstance(ty, sqltypes.TypeDecorator):
                ty = ty.load_dialect_impl(dialect)
            if not _is_native_enum(ty, dialect) or not getattr(ty, "create_type", True):
                continue
            assert isinstance(ty, sqltypes.Enum)
            if not ty.name:
                raise exc.CompileError(
                    f"The native enum type of column {t.name}.{col.name} has no name; "
                    "PostgreSQL requires one: Enum(..., name='...')"
                )
            seen.setdefault((ty.schema, ty.name), ty)
    return list(seen.values())


class SchemaGenerator:
    """``MetaData.create_all``: enum types, tables in dependency order, their indexes and
    comments, then the foreign keys that must come last."""

    @staticmethod
    def run(
        bind: Any, metadata: MetaData, tables: Iterable[Table] | None, checkfirst: bool
    ) -> None:
        chosen = list(metadata.tables.values()) if tables is None else list(tables)
        ordered, after = sort_tables_and_constraints(chosen)
        with _connection(bind) as conn:
            dialect = conn.dialect
            if checkfirst:
                ordered = [t for t in ordered if not _has_table(conn, t)]
            for enum in _native_enums(ordered, dialect):
                if not (checkfirst and _has_type(conn, enum)):
                    conn.execute(CreateEnumType(enum))
            alter = after if dialect.supports_alter else []
            creating = {id(t) for t in ordered}
            for t in ordered:
                inline = [
                    c
                    for c in t._constraints
                    if isinstance(c, ForeignKeyConstraint) and c not in alter
                ]
                conn.execute(CreateTable(t, include_foreign_key_constraints=inline))
                if dialect.supports_comments:
                    if t.comment is not None:
                        conn.execute(SetTableComment(t))
                    for col in t._column_list:
                        if col.comment is not None:
                            conn.execute(SetColumnComment(col))
                for index in sorted(t._indexes, key=lambda i: i.name or ""):
                    conn.execute(CreateIndex(index))
            for con in alter:
                if con.table is not None and id(con.table) in creating:
                    conn.execute(AddConstraint(con))


class SchemaDropper:
    """``MetaData.drop_all``: the foreign keys added by ALTER, tables in reverse
    dependency order, then the enum types."""

    @staticmethod
    def run(
        bind: Any, metadata: MetaData, tables: Iterable[Table] | None, checkfirst: bool
    ) -> None:
        chosen = list(metadata.tables.values()) if tables is None else list(tables)
        ordered, after = sort_tables_and_constraints(chosen)
        with _connection(bind) as conn:
            dialect = conn.dialect
            if checkfirst:
                ordered = [t for t in ordered if _has_table(conn, t)]
            dropping = {id(t) for t in ordered}
            if dialect.supports_alter:
                for con in after:
                    if con.table is not None and id(con.table) in dropping:
                        conn.execute(DropConstraint(con))
            for t in reversed(ordered):
                conn.execute(DropTable(t))
            for enum in _native_enums(ordered, dialect):
                if not checkfirst or _has_type(conn, enum):
                    conn.execute(DropEnumType(enum))


__all__ = [
    "AddConstraint",
    "ClauseElement",
    "CreateEnumType",
    "CreateIndex",
    "CreateTable",
    "DDLCompiler",
    "DDLElement",
    "DDLTypeCompiler",
    "DropConstraint",
    "DropEnumType",
    "DropIndex",
    "DropTable",
    "SetColumnComment",
    "SetTableComment",
    "sort_tables",
    "sort_tables_and_constraints",
]
