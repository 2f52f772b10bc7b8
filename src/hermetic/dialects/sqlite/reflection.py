"""SQLite reflection: catalog queries and the parsing of what comes back. Pure: no I/O.

SQLite's PRAGMAs say what the database enforces (columns, primary key order, foreign key
columns and actions, index columns, uniqueness, partial or not) but not what only the DDL
says: constraint names, DEFERRABLE / INITIALLY, CHECK expressions, the WHERE clause of a
partial index, the expressions of an expression index, WITHOUT ROWID, AUTOINCREMENT,
COLLATE. So the stored ``CREATE`` statements are tokenized and parsed as well (SQLite
keeps them as written: comments, quoting and line breaks included).

The PRAGMAs run as table-valued functions joined to ``sqlite_master``, so a whole
database is reflected in four queries however many tables it has.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from hermetic.dialects.reflection import (
    ObjectKind,
    ObjectScope,
    ReflectedTable,
    Reflector,
    Rows,
    Step,
    int_args,
    split_type,
)
from hermetic.sql import sqltypes
from hermetic.sql.elements import TextClause

# -- tokens ------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+|--[^\n]*|/\*.*?(?:\*/|\Z))
    |(?P<str>'(?:[^']|'')*')
    |(?P<qid>"(?:[^"]|"")*"|`(?:[^`]|``)*`|\[[^\]]*\])
    |(?P<word>[A-Za-z_\x80-\U0010ffff][\w$\x80-\U0010ffff]*)
    |(?P<num>0[xX][0-9a-fA-F]+|(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<op>\|\||->>|->|<<|>>|<=|>=|==|!=|<>|.)
    """,
    re.S | re.X,
)


class Tok:
    """A token: its kind ("word", "qid", "str", "num", "op"), its text, its keyword form
    (upper-case words, else empty) and where it lies in the statement."""

    __slots__ = ("end", "kind", "kw", "start", "text")

    def __init__(self, kind: str, text: str, start: int, end: int) -> None:
        self.kind = kind
        self.text = text
        self.kw = text.upper() if kind == "word" else ""
        self.start = start
        self.end = end

    @property
    def name(self) -> str:
        """The identifier this token spells (quotes removed, doubled quotes undone)."""
        t = self.text
        if self.kind == "qid":
            if t[0] == "[":
                return t[1:-1]
            q = t[0]
            return t[1:-1].replace(q + q, q)
        if self.kind == "str":
            return t[1:-1].replace("''", "'")
        return t

    def __repr__(self) -> str:
        return f"Tok({self.kind}, {self.text!r})"


def tokenize(sql: str) -> list[Tok]:
    out: list[Tok] = []
    for m in _TOKEN.finditer(sql):
        kind = m.lastgroup
        if kind == "ws" or kind is None:
            continue
        out.append(Tok(kind, m.group(), m.start(), m.end()))
    return out


def _close(toks: Sequence[Tok], i: int) -> int:
    """The index of the ``)`` matching the ``(`` at ``i`` (or the end)."""
    depth = 0
    for j in range(i, len(toks)):
        t = toks[j].text
        if toks[j].kind == "op":
            if t == "(":
                depth += 1
            elif t == ")":
                depth -= 1
                if depth == 0:
                    return j
    return len(toks)


def _split(toks: Sequence[Tok], start: int, stop: int) -> list[list[Tok]]:
    """The comma-separated items of ``toks[start:stop]`` (commas at depth 0)."""
    items: list[list[Tok]] = []
    cur: list[Tok] = []
    depth = 0
    for t in toks[start:stop]:
        if t.kind == "op":
            if t.text == "(":
                depth += 1
            elif t.text == ")":
                depth -= 1
            elif t.text == "," and depth == 0:
                items.append(cur)
                cur = []
                continue
        cur.append(t)
    if cur:
        items.append(cur)
    return items


# -- CREATE TABLE ------------------------------------------------------------------------


@dataclass
class ForeignKeyDDL:
    name: str | None
    columns: list[str]
    referred_table: str
    referred_columns: list[str]
    onupdate: str | None = None
    ondelete: str | None = None
    deferrable: bool | None = None
    initially: str | None = None
    match: str | None = None


@dataclass
class ColumnDDL:
    name: str
    autoincrement: bool = False
    collation: str | None = None
    generated: tuple[str, bool] | None = None  # (expression, stored)


@dataclass
class TableDDL:
    """What the CREATE TABLE statement says beyond the PRAGMAs."""

    columns: dict[str, ColumnDDL] = field(default_factory=dict)  # by lower-case name
    pk_name: str | None = None
    foreign_keys: list[ForeignKeyDDL] = field(default_factory=list)
    unique: list[tuple[str | None, list[str]]] = field(default_factory=list)
    check: list[tuple[str | None, str]] = field(default_factory=list)
    without_rowid: bool = False
    strict: bool = False


_COLUMN_CONSTRAINT_WORDS = frozenset(
    {
        "CONSTRAINT",
        "PRIMARY",
        "NOT",
        "NULL",
        "UNIQUE",
        "CHECK",
        "DEFAULT",
        "COLLATE",
        "REFERENCES",
        "GENERATED",
        "AS",
    }
)
_TABLE_CONSTRAINT_WORDS = frozenset({"CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"})
_ACTIONS = {"SET": 2, "NO": 2, "CASCADE": 1, "RESTRICT": 1}


def parse_create_table(sql: str) -> TableDDL:
    """The names, options and expressions that a CREATE TABLE statement declares."""
    toks = tokenize(sql)
    info = TableDDL()
    n = len(toks)
    i = 0
    while i < n and not (toks[i].kind == "op" and toks[i].text == "("):
        if toks[i].kw == "AS":  # CREATE TABLE ... AS SELECT: nothing declared
            return info
        i += 1
    if i >= n:
        return info
    end = _close(toks, i)
    for item in _split(toks, i + 1, end):
        if not item:
            continue
        if item[0].kw in _TABLE_CONSTRAINT_WORDS:
            _table_constraint(sql, item, info)
        else:
            _column_def(sql, item, info)
    for t in toks[end + 1 :]:
        if t.kw == "ROWID":
            info.without_rowid = True
        elif t.kw == "STRICT":
            info.strict = True
    return info


def _names(toks: Sequence[Tok], open_: int) -> tuple[list[str], int]:
    """The column names in the parenthesis at ``open_`` and the index after it."""
    close = _close(toks, open_)
    return [item[0].name for item in _split(toks, open_ + 1, close) if item], close + 1


def _span(sql: str, toks: Sequence[Tok], open_: int) -> tuple[str, int]:
    """The source text inside the parenthesis at ``open_`` and the index after it."""
    close = _close(toks, open_)
    if close >= len(toks):
        return sql[toks[open_].end :].strip(), close
    return sql[toks[open_].end : toks[close].start].strip(), close + 1


def _is_open(toks: Sequence[Tok], i: int) -> bool:
    return i < len(toks) and toks[i].kind == "op" and toks[i].text == "("


def _foreign_key(
    toks: Sequence[Tok], i: int, name: str | None, columns: list[str]
) -> tuple[ForeignKeyDDL, int]:
    """Parse ``REFERENCES table [(cols)] [actions] [[NOT] DEFERRABLE ...]`` from ``i``
    (the token after REFERENCES)."""
    n = len(toks)
    ref = toks[i].name if i < n else ""
    i += 1
    ref_cols: list[str] = []
    if _is_open(toks, i):
        ref_cols, i = _names(toks, i)
    fk = ForeignKeyDDL(name, columns, ref, ref_cols)
    while i < n:
        kw = toks[i].kw
        if kw == "ON" and i + 2 < n:
            width = _ACTIONS.get(toks[i + 2].kw, 1)
            action = " ".join(t.kw for t in toks[i + 2 : i + 2 + width])
            if toks[i + 1].kw == "DELETE":
                fk.ondelete = action
            elif toks[i + 1].kw == "UPDATE":
                fk.onupdate = action
            i += 2 + width
        elif kw == "MATCH" and i + 1 < n:
            fk.match = toks[i + 1].name
            i += 2
        elif kw == "NOT" and i + 1 < n and toks[i + 1].kw == "DEFERRABLE":
            fk.deferrable = False
            i += 2
        elif kw == "DEFERRABLE":
            fk.deferrable = True
            i += 1
        elif kw == "INITIALLY" and i + 1 < n:
            fk.initially = toks[i + 1].kw
            i += 2
        else:
            break
    return fk, i


def _skip_conflict(toks: Sequence[Tok], i: int) -> int:
    if i + 1 < len(toks) and toks[i].kw == "ON" and toks[i + 1].kw == "CONFLICT":
        return i + 3
    return i


def _table_constraint(sql: str, toks: list[Tok], info: TableDDL) -> None:
    n = len(toks)
    i = 0
    name: str | None = None
    while i < n:
        kw = toks[i].kw
        if kw == "CONSTRAINT" and i + 1 < n:
            name = toks[i + 1].name
            i += 2
            continue
        if kw == "PRIMARY":
            info.pk_name = name
            return
        if kw == "UNIQUE" and _is_open(toks, i + 1):
            cols, _ = _names(toks, i + 1)
            info.unique.append((name, cols))
            return
        if kw == "CHECK" and _is_open(toks, i + 1):
            text, _ = _span(sql, toks, i + 1)
            info.check.append((name, text))
            return
        if kw == "FOREIGN" and i + 2 < n and _is_open(toks, i + 2):
            cols, j = _names(toks, i + 2)
            if j < n and toks[j].kw == "REFERENCES":
                fk, _ = _foreign_key(toks, j + 1, name, cols)
                info.foreign_keys.append(fk)
            return
        i += 1


def _column_def(sql: str, toks: list[Tok], info: TableDDL) -> None:
    n = len(toks)
    col = ColumnDDL(toks[0].name)
    info.columns[col.name.lower()] = col
    i = 1
    depth = 0
    while i < n:  # the type name
        t = toks[i]
        if depth == 0 and t.kw in _COLUMN_CONSTRAINT_WORDS:
            break
        if t.kind == "op":
            depth += t.text == "("
            depth -= t.text == ")"
        i += 1
    name: str | None = None
    while i < n:
        kw = toks[i].kw
        if kw == "CONSTRAINT" and i + 1 < n:
            name = toks[i + 1].name
            i += 2
            continue
        if kw == "PRIMARY":
            info.pk_name = name
            i += 2
            while i < n and toks[i].kw in ("ASC", "DESC"):
                i += 1
            i = _skip_conflict(toks, i)
            if i < n and toks[i].kw == "AUTOINCREMENT":
                col.autoincrement = True
                i += 1
        elif kw == "UNIQUE":
            info.unique.append((name, [col.name]))
            i = _skip_conflict(toks, i + 1)
        elif kw == "CHECK" and _is_open(toks, i + 1):
            text, i = _span(sql, toks, i + 1)
            info.check.append((name, text))
        elif kw == "DEFAULT":
            i += 1
            if _is_open(toks, i):
                i = _close(toks, i) + 1
            else:
                if i < n and toks[i].kind == "op" and toks[i].text in "+-":
                    i += 1
                i += 1
        elif kw == "COLLATE" and i + 1 < n:
            col.collation = toks[i + 1].name
            i += 2
        elif kw == "REFERENCES":
            fk, i = _foreign_key(toks, i + 1, name, [col.name])
            info.foreign_keys.append(fk)
        elif kw == "AS" and _is_open(toks, i + 1):
            text, i = _span(sql, toks, i + 1)
            stored = i < n and toks[i].kw == "STORED"
            col.generated = (text, stored)
        elif kw in ("NOT", "NULL"):
            i = _skip_conflict(toks, i + (2 if kw == "NOT" else 1))
        else:
            i += 1
            continue
        name = None


# -- CREATE INDEX ------------------------------------------------------------------------


@dataclass
class IndexDDL:
    expressions: list[str]  # per indexed item, its expression as written
    where: str | None


def parse_create_index(sql: str) -> IndexDDL:
    toks = tokenize(sql)
    n = len(toks)
    i = 0
    while i < n and not (toks[i].kind == "op" and toks[i].text == "("):
        i += 1
    if i >= n:
        return IndexDDL([], None)
    close = _close(toks, i)
    exprs: list[str] = []
    for item in _split(toks, i + 1, close):
        last = len(item)
        if last > 1 and item[last - 1].kw in ("ASC", "DESC"):
            last -= 1
        if last > 2 and item[last - 2].kw == "COLLATE":
            last -= 2
        part = item[:last] or item
        while len(part) > 2 and part[0].text == "(" and _close(part, 0) == len(part) - 1:
            part = part[1:-1]  # (expr) -> expr, as CREATE INDEX ... ((expr)) writes it
        exprs.append(sql[part[0].start : part[-1].end])
    where: str | None = None
    j = close + 1
    if j < n and toks[j].kw == "WHERE":
        where = sql[toks[j].end :].strip().rstrip(";").strip()
    return IndexDDL(exprs, where)


# -- types -------------------------------------------------------------------------------

TypeFactory = Callable[[list[int]], sqltypes.TypeEngine]


def _plain(cls: type[sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args: cls()


def _sized(cls: Callable[..., sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args: cls(*args[:1])


def _scaled(cls: Callable[..., sqltypes.TypeEngine]) -> TypeFactory:
    return lambda args: cls(*args[:2])


# Declared type names (upper case, single spaces) -> hermetic types. SQLite accepts any
# name; these are the ones in common use, including the spellings SQLite's documentation
# lists under type affinity ("VARYING CHARACTER", "UNSIGNED BIG INT" ...).
TYPES: dict[str, TypeFactory] = {
    "INT": _plain(sqltypes.INTEGER),
    "INTEGER": _plain(sqltypes.INTEGER),
    "MEDIUMINT": _plain(sqltypes.INTEGER),
    "INT4": _plain(sqltypes.INTEGER),
    "TINYINT": _plain(sqltypes.SMALLINT),
    "SMALLINT": _plain(sqltypes.SMALLINT),
    "INT2": _plain(sqltypes.SMALLINT),
    "BIGINT": _plain(sqltypes.BIGINT),
    "INT8": _plain(sqltypes.BIGINT),
    "UNSIGNED BIG INT": _plain(sqltypes.BIGINT),
    "CHAR": _sized(sqltypes.CHAR),
    "CHARACTER": _sized(sqltypes.CHAR),
    "NCHAR": _sized(sqltypes.NCHAR),
    "NATIVE CHARACTER": _sized(sqltypes.NCHAR),
    "VARCHAR": _sized(sqltypes.VARCHAR),
    "VARYING CHARACTER": _sized(sqltypes.VARCHAR),
    "CHARACTER VARYING": _sized(sqltypes.VARCHAR),
    "NVARCHAR": _sized(sqltypes.NVARCHAR),
    "TEXT": _sized(sqltypes.TEXT),
    "CLOB": _sized(sqltypes.CLOB),
    "BLOB": _plain(sqltypes.BLOB),
    "REAL": _plain(sqltypes.REAL),
    "DOUBLE": _plain(sqltypes.DOUBLE),
    "DOUBLE PRECISION": _plain(sqltypes.DOUBLE_PRECISION),
    "FLOAT": _sized(sqltypes.FLOAT),
    "NUMERIC": _scaled(sqltypes.NUMERIC),
    "DECIMAL": _scaled(sqltypes.DECIMAL),
    "BOOLEAN": _plain(sqltypes.BOOLEAN),
    "BOOL": _plain(sqltypes.BOOLEAN),
    "DATE": _plain(sqltypes.DATE),
    "DATETIME": _plain(sqltypes.DATETIME),
    "TIMESTAMP": _plain(sqltypes.TIMESTAMP),
    "TIME": _plain(sqltypes.TIME),
    "JSON": _plain(sqltypes.JSON),
}


def _affinity(name: str) -> TypeFactory | None:
    """SQLite's own rules for a name it does not know (its "type affinity"): the first
    of INT, CHAR/CLOB/TEXT, BLOB, REAL/FLOA/DOUB found in the name decides."""
    if "INT" in name:
        return TYPES["INTEGER"]
    if "CHAR" in name or "CLOB" in name or "TEXT" in name:
        return TYPES["TEXT"]
    if "BLOB" in name:
        return TYPES["BLOB"]
    if not name:
        return None
    if "REAL" in name or "FLOA" in name or "DOUB" in name:
        return TYPES["REAL"]
    return TYPES["NUMERIC"]


_GENERATED_SUFFIX = re.compile(r"\s*\bGENERATED\s+ALWAYS\s*$", re.I)


def resolve_type(declared: str, collation: str | None = None) -> sqltypes.TypeEngine:
    """The hermetic type of a column declared as ``declared``."""
    declared = _GENERATED_SUFFIX.sub("", declared or "")
    name, args, _rest = split_type(declared)
    name = name.upper()
    factory = TYPES.get(name) or _affinity(name)
    if factory is None:
        return sqltypes.NullType()
    type_ = factory(int_args(args))
    if collation is not None and isinstance(type_, sqltypes.String):
        type_.collation = collation
    return type_


# -- the reflector -----------------------------------------------------------------------

_MAX_LISTED = 500  # names filtered in SQL up to this many; more: fetch all, filter here


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class SQLiteReflector(Reflector):
    """Reflection for SQLite: ``sqlite_master`` plus the table-valued PRAGMA functions."""

    def default_schema_name(self) -> Step[str | None]:
        return "main"
        yield  # pragma: no cover

    def schema_names(self) -> Step[list[str]]:
        rows = yield ("SELECT name FROM pragma_database_list ORDER BY seq", {})
        return [r[0] for r in rows if r[0] != "temp"]

    @staticmethod
    def _master(schema: str | None, scope: ObjectScope) -> str:
        """A subquery of (s, type, name, tbl_name, sql) over the catalogs in scope."""
        sources: list[str] = []
        if schema is not None:
            sources.append(schema)
        else:
            if scope & ObjectScope.DEFAULT:
                sources.append("main")
            if scope & ObjectScope.TEMPORARY:
                sources.append("temp")
        return " UNION ALL ".join(
            f"SELECT {_lit(s)} AS s, type, name, tbl_name, sql FROM {_q(s)}.sqlite_master"
            for s in sources
        )

    @staticmethod
    def _types(kind: ObjectKind) -> str:
        types = []
        if kind & ObjectKind.TABLE:
            types.append("'table'")
        if kind & ObjectKind.VIEW:
            types.append("'view'")
        return ", ".join(types) or "''"

    def object_names(
        self, schema: str | None, kind: ObjectKind, scope: ObjectScope
    ) -> Step[list[str]]:
        sql = (
            f"SELECT DISTINCT m.name FROM ({self._master(schema, scope)}) m "
            f"WHERE m.type IN ({self._types(kind)}) AND m.name NOT LIKE 'sqlite~_%' ESCAPE '~' "
            "ORDER BY m.name"
        )
        rows = yield (sql, {})
        return [r[0] for r in rows]

    def has_table(self, name: str, schema: str | None) -> Step[bool]:
        sql = (
            f"SELECT 1 FROM ({self._master(schema, ObjectScope.ANY)}) m "
            "WHERE m.type IN ('table', 'view') AND m.name = :name"
        )
        rows = yield (sql, {"name": name})
        return bool(rows)

    def view_definition(self, name: str, schema: str | None) -> Step[str | None]:
        sql = (
            f"SELECT m.sql FROM ({self._master(schema, ObjectScope.ANY)}) m "
            "WHERE m.type = 'view' AND m.name = :name"
        )
        rows = yield (sql, {"name": name})
        return rows[0][0] if rows else None

    def tables(
        self,
        schema: str | None,
        names: Sequence[str] | None,
        kind: ObjectKind,
        scope: ObjectScope,
        parts: frozenset[str],
    ) -> Step[dict[str, ReflectedTable]]:
        master = self._master(schema, scope)
        params: dict[str, Any] = {}
        if names is not None and len(names) <= _MAX_LISTED:
            keys = [f"n{k}" for k in range(len(names))]
            params = dict(zip(keys, names, strict=True))
            listed = "m.tbl_name IN (" + ", ".join(":" + k for k in keys) + ")"
        else:
            listed = "m.name NOT LIKE 'sqlite~_%' ESCAPE '~'"
        wanted = set(names) if names is not None else None
        types = self._types(kind)

        rows = yield (
            f"SELECT m.s, m.type, m.name, m.tbl_name, m.sql FROM ({master}) m "
            f"WHERE m.type IN ({types}, 'index') AND {listed}",
            params,
        )
        out: dict[str, ReflectedTable] = {}
        sources: dict[str, str] = {}
        ddl: dict[str, TableDDL] = {}
        index_sql: dict[tuple[str, str], str] = {}
        for s, type_, name, tbl_name, sql in rows:
            if wanted is not None and tbl_name not in wanted:
                continue
            if type_ == "index":
                if sql:
                    index_sql[(s, name)] = sql
                continue
            if name in out:  # a temp table of the same name: the first catalog wins
                continue
            t = ReflectedTable(name, ObjectKind.TABLE if type_ == "table" else ObjectKind.VIEW)
            out[name] = t
            sources[name] = s
            ddl[name] = parse_create_table(sql) if type_ == "table" and sql else TableDDL()
        if not out:
            return out

        if parts & {"columns", "pk", "foreign_keys"}:
            rows = yield (
                'SELECT m.s, m.name, p.name, p.type, p."notnull", p.dflt_value, p.pk, '
                f"p.hidden FROM ({master}) m JOIN pragma_table_xinfo(m.name, m.s) p "
                f"WHERE m.type IN ({types}) AND {listed} ORDER BY m.s, m.name, p.cid",
                params,
            )
            self._columns(rows, out, sources, ddl)

        if "foreign_keys" in parts:
            rows = yield (
                'SELECT m.s, m.name, p.id, p."table", p."from", p."to", p.on_update, '
                f"p.on_delete FROM ({master}) m JOIN pragma_foreign_key_list(m.name, m.s) p "
                f"WHERE m.type = 'table' AND {listed} ORDER BY m.s, m.name, p.id DESC, p.seq",
                params,
            )
            missing = self._foreign_keys(rows, out, sources, ddl, schema)
            if missing:
                yield from self._referred_pks(missing, out, schema)

        if "indexes" in parts:
            rows = yield (
                'SELECT m.s, m.name, il.name, il."unique", il.partial, ix.cid, ix.name, '
                f'ix."desc" FROM ({master}) m JOIN pragma_index_list(m.name, m.s) il '
                "JOIN pragma_index_xinfo(il.name, m.s) ix "
                f"WHERE m.type = 'table' AND {listed} AND ix.key = 1 "
                "AND il.name NOT LIKE 'sqlite~_autoindex~_%' ESCAPE '~' "
                "ORDER BY m.s, m.name, il.name, ix.seqno",
                params,
            )
            self._indexes(rows, out, sources, index_sql)

        for name, t in out.items():
            d = ddl[name]
            if "unique" in parts:
                t.unique = [{"name": n, "column_names": cols} for n, cols in d.unique]
            if "check" in parts:
                t.check = [{"name": n, "sqltext": text} for n, text in d.check]
            if "options" in parts and d.without_rowid:
                t.options = {"sqlite_with_rowid": False}
            if "options" in parts and d.strict:
                t.options["sqlite_strict"] = True
        return out

    @staticmethod
    def _columns(
        rows: Rows,
        out: dict[str, ReflectedTable],
        sources: dict[str, str],
        ddl: dict[str, TableDDL],
    ) -> None:
        pks: dict[str, list[tuple[int, str, str]]] = {}
        for s, tname, name, declared, notnull, default, pk, hidden in rows:
            t = out.get(tname)
            if t is None or sources[tname] != s or hidden == 1:  # 1: a virtual table's
                continue
            col_ddl = ddl[tname].columns.get(name.lower())
            collation = col_ddl.collation if col_ddl is not None else None
            col: dict[str, Any] = {
                "name": name,
                "type": resolve_type(declared, collation),
                "nullable": not notnull,
                "default": default,
                "primary_key": pk,
                "autoincrement": False,
                "comment": None,
            }
            if hidden in (2, 3):
                expr = col_ddl.generated[0] if col_ddl and col_ddl.generated else ""
                col["computed"] = {"sqltext": expr, "persisted": hidden == 3}
            t.columns.append(col)
            if pk:
                pks.setdefault(tname, []).append((pk, name, declared or ""))
        for tname, t in out.items():
            keys = sorted(pks.get(tname, ()))
            t.pk = {"constrained_columns": [k[1] for k in keys], "name": ddl[tname].pk_name}
            if len(keys) != 1 or ddl[tname].without_rowid:
                continue
            _, name, declared = keys[0]
            # a column declared INTEGER PRIMARY KEY (that exact type name) is the rowid
            col_ddl = ddl[tname].columns.get(name.lower())
            rowid = split_type(declared)[0].upper() == "INTEGER"
            for col in t.columns:
                if col["name"] == name:
                    col["autoincrement"] = rowid or bool(col_ddl and col_ddl.autoincrement)

    @staticmethod
    def _foreign_keys(
        rows: Rows,
        out: dict[str, ReflectedTable],
        sources: dict[str, str],
        ddl: dict[str, TableDDL],
        schema: str | None,
    ) -> dict[str, list[dict[str, Any]]]:
        """Foreign keys in the order they are declared, each matched with its DDL for the
        name and DEFERRABLE; returns those whose referred columns were left implicit
        (``REFERENCES parent``), by referred table."""
        groups: dict[tuple[str, int], dict[str, Any]] = {}
        order: list[tuple[str, int]] = []
        for s, tname, fk_id, ref, src, dst, on_update, on_delete in rows:
            if tname not in out or sources[tname] != s:
                continue
            key = (tname, fk_id)
            g = groups.get(key)
            if g is None:
                g = groups[key] = {
                    "table": tname,
                    "ref": ref,
                    "src": [],
                    "dst": [],
                    "onupdate": on_update,
                    "ondelete": on_delete,
                }
                order.append(key)
            g["src"].append(src)
            g["dst"].append(dst)
        missing: dict[str, list[dict[str, Any]]] = {}
        used: set[int] = set()
        for key in order:  # descending id: SQLite numbers them last-declared first
            g = groups[key]
            tname = g["table"]
            decls = ddl[tname].foreign_keys
            match: ForeignKeyDDL | None = None
            for d in decls:
                if id(d) in used:
                    continue
                if [c.lower() for c in d.columns] == [c.lower() for c in g["src"]] and (
                    d.referred_table.lower() == g["ref"].lower()
                ):
                    match = d
                    used.add(id(d))
                    break
            options: dict[str, Any] = {}
            if g["onupdate"] and g["onupdate"] != "NO ACTION":
                options["onupdate"] = g["onupdate"]
            if g["ondelete"] and g["ondelete"] != "NO ACTION":
                options["ondelete"] = g["ondelete"]
            if match is not None:
                if match.deferrable is not None:
                    options["deferrable"] = match.deferrable
                if match.initially is not None:
                    options["initially"] = match.initially
                if match.match is not None:
                    options["match"] = match.match
            fk = {
                "name": match.name if match is not None else None,
                "constrained_columns": g["src"],
                "referred_schema": schema,
                "referred_table": g["ref"],
                "referred_columns": g["dst"],
                "options": options,
            }
            out[tname].foreign_keys.append(fk)
            if any(c is None for c in g["dst"]):
                missing.setdefault(g["ref"], []).append(fk)
        return missing

    def _referred_pks(
        self,
        missing: dict[str, list[dict[str, Any]]],
        out: dict[str, ReflectedTable],
        schema: str | None,
    ) -> Step[None]:
        """``REFERENCES parent`` without columns refers to parent's primary key."""
        for ref, fks in missing.items():
            known = out.get(ref)
            if known is not None and known.pk["constrained_columns"]:
                pk = list(known.pk["constrained_columns"])
            else:
                target = f", {_lit(schema)}" if schema is not None else ""
                rows = yield (
                    f"SELECT name, pk FROM pragma_table_info(:name{target}) WHERE pk > 0 "
                    "ORDER BY pk",
                    {"name": ref},
                )
                pk = [r[0] for r in rows]
            for fk in fks:
                fk["referred_columns"] = [
                    c if c is not None else (pk[k] if k < len(pk) else None)
                    for k, c in enumerate(fk["referred_columns"])
                ]

    @staticmethod
    def _indexes(
        rows: Rows,
        out: dict[str, ReflectedTable],
        sources: dict[str, str],
        index_sql: dict[tuple[str, str], str],
    ) -> None:
        current: dict[str, Any] | None = None
        exprs: list[str] = []
        for s, tname, iname, unique, partial, cid, cname, desc in rows:
            t = out.get(tname)
            if t is None or sources[tname] != s:
                continue
            if current is None or current["name"] != iname or current["_t"] is not t:
                parsed = parse_create_index(index_sql.get((s, iname), ""))
                exprs = parsed.expressions
                current = {"name": iname, "column_names": [], "unique": bool(unique), "_t": t}
                if partial and parsed.where is not None:
                    current["dialect_options"] = {"sqlite_where": TextClause(parsed.where)}
                t.indexes.append(current)
            k = len(current["column_names"])
            if cid == -2:  # an expression
                expr = exprs[k] if k < len(exprs) else ""
                current["column_names"].append(None)
                current.setdefault("_exprs", []).append(expr)
                cname = None
            else:
                if cid == -1:
                    cname = "rowid"
                current["column_names"].append(cname)
                current.setdefault("_exprs", []).append(cname)
            if desc:
                key = cname if cname is not None else current["_exprs"][-1]
                current.setdefault("column_sorting", {})[key] = ("desc",)
        for t in out.values():
            for ix in t.indexes:
                ix.pop("_t", None)
                exprs = ix.pop("_exprs", [])
                if None in ix["column_names"]:
                    ix["expressions"] = exprs
            t.indexes.sort(key=lambda ix: ix["name"])


__all__ = [
    "TYPES",
    "ColumnDDL",
    "ForeignKeyDDL",
    "IndexDDL",
    "SQLiteReflector",
    "TableDDL",
    "parse_create_index",
    "parse_create_table",
    "resolve_type",
    "tokenize",
]
