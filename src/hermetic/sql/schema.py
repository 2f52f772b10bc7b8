"""Schema objects: ``MetaData``, ``Table``, ``Column``, keys, constraints and indexes.

A ``Table`` is a ``TableClause`` (so it selects, compares and caches like one) that also
knows its constraints. A ``Column`` is a ``ColumnClause`` whose ``.table`` is its Table.
Foreign keys name their target as a string (``"user.id"``) and resolve it lazily through
the ``MetaData``, so tables may be declared in any order. Constraint and index names that
are not given come from the MetaData's ``naming_convention`` when it has an entry for the
kind (``ix``, ``uq``, ``ck``, ``fk``, ``pk``); the name is worked out when it is asked for,
once the table is complete.

Creating and dropping goes through the DDL elements of ``sql/ddl.py``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any

from hermetic import exc
from hermetic.sql import sqltypes
from hermetic.sql.base import ClauseElement
from hermetic.sql.elements import ColumnClause, ColumnElement, TextClause
from hermetic.sql.selectable import ColumnCollection, TableClause

# The reference errors live in hermetic.exc, where users catch them.
NoReferenceError = exc.NoReferenceError
NoReferencedTableError = exc.NoReferencedTableError
NoReferencedColumnError = exc.NoReferencedColumnError
DuplicateColumnError = exc.DuplicateColumnError


DEFAULT_NAMING_CONVENTION: Mapping[str, str] = {"ix": "ix_%(column_0_label)s"}


def _fullname(name: str, schema: str | None) -> str:
    return f"{schema}.{name}" if schema else name


class MetaData:
    """A collection of tables, their schema default and the naming convention."""

    def __init__(
        self,
        schema: str | None = None,
        naming_convention: Mapping[Any, str] | None = None,
        info: dict[Any, Any] | None = None,
    ) -> None:
        self.schema = schema
        self.naming_convention: Mapping[Any, str] = (
            dict(naming_convention)
            if naming_convention is not None
            else dict(DEFAULT_NAMING_CONVENTION)
        )
        self.info = info if info is not None else {}
        self.tables: dict[str, Table] = {}

    def __contains__(self, key: object) -> bool:
        if isinstance(key, Table):
            key = key.fullname
        return key in self.tables

    def __repr__(self) -> str:
        return "MetaData()"

    def _add_table(self, table: Table) -> None:
        self.tables[table.fullname] = table

    def remove(self, table: Table) -> None:
        self.tables.pop(table.fullname, None)

    def clear(self) -> None:
        self.tables.clear()

    def _lookup(self, tname: str) -> Table | None:
        table = self.tables.get(tname)
        if table is None and self.schema and "." not in tname:
            table = self.tables.get(f"{self.schema}.{tname}")
        return table

    @property
    def sorted_tables(self) -> list[Table]:
        """The tables in foreign-key dependency order (referenced tables first); ties by
        name, so the order is the same on every run."""
        from hermetic.sql.ddl import sort_tables

        return sort_tables(self.tables.values())

    def create_all(
        self, bind: Any, tables: Iterable[Table] | None = None, checkfirst: bool = True
    ) -> None:
        from hermetic.sql.ddl import SchemaGenerator

        SchemaGenerator.run(bind, self, tables, checkfirst)

    def drop_all(
        self, bind: Any, tables: Iterable[Table] | None = None, checkfirst: bool = True
    ) -> None:
        from hermetic.sql.ddl import SchemaDropper

        SchemaDropper.run(bind, self, tables, checkfirst)

    def reflect(
        self,
        bind: Any,
        schema: str | None = None,
        views: bool = False,
        only: Any = None,
        extend_existing: bool = False,
        autoload_replace: bool = True,
        resolve_fks: bool = True,
        **dialect_kwargs: Any,
    ) -> None:
        """Load the tables of ``schema`` (default: this MetaData's, else the database's
        default) from ``bind``: all of them, those named in ``only``, or those for which
        ``only(name, metadata)`` is true; views too with ``views=True``. Tables already
        here are skipped unless ``extend_existing=True``."""
        from hermetic.inspection import inspect

        inspect(bind)._reflect_metadata(
            self,
            schema,
            views,
            only,
            extend_existing,
            autoload_replace,
            resolve_fks,
            dialect_kwargs,
        )


# -- defaults ----------------------------------------------------------------------------


class DefaultClause:
    """A server-side default: a string (rendered as a quoted literal) or ``text()``."""

    def __init__(self, arg: Any, for_update: bool = False) -> None:
        if not isinstance(arg, (str, ClauseElement)):
            raise exc.ArgumentError(
                f"server_default takes a string or a text() construct, got {arg!r}"
            )
        self.arg = arg
        self.for_update = for_update

    def __repr__(self) -> str:
        return f"DefaultClause({self.arg!r}, for_update={self.for_update!r})"


class ColumnDefault:
    """A client-side default: a scalar, a callable or a SQL expression."""

    def __init__(self, arg: Any, for_update: bool = False) -> None:
        self.arg = arg
        self.for_update = for_update
        self.is_callable = callable(arg)
        self.is_scalar = not self.is_callable and not isinstance(arg, ClauseElement)
        self.is_clause_element = isinstance(arg, ClauseElement)

    def __repr__(self) -> str:
        return f"ColumnDefault({self.arg!r})"


# -- columns -----------------------------------------------------------------------------


class Column(ColumnClause):
    """A table column: name, type, constraints and defaults."""

    def __init__(
        self,
        *args: Any,
        name: str | None = None,
        type_: Any = None,
        key: str | None = None,
        primary_key: bool = False,
        nullable: bool | None = None,
        default: Any = None,
        server_default: Any = None,
        onupdate: Any = None,
        server_onupdate: Any = None,
        unique: bool | None = None,
        index: bool | None = None,
        autoincrement: bool | str = "auto",
        comment: str | None = None,
        doc: str | None = None,
        info: dict[Any, Any] | None = None,
        quote: bool | None = None,
        system: bool = False,
    ) -> None:
        rest = list(args)
        if rest and isinstance(rest[0], str):
            name = rest.pop(0)
        if rest and _is_type(rest[0]):
            type_ = rest.pop(0)
        super().__init__(name or "", type_)
        self.name = name or ""
        self.key = key or self.name
        self.table: Table | None = None
        self.primary_key = primary_key
        self.nullable = (not primary_key) if nullable is None else nullable
        self.default = None if default is None else ColumnDefault(default)
        self.onupdate = None if onupdate is None else ColumnDefault(onupdate, for_update=True)
        self.server_default = (
            server_default
            if server_default is None or isinstance(server_default, DefaultClause)
            else DefaultClause(server_default)
        )
        self.server_onupdate = server_onupdate
        self.unique = unique
        self.index = index
        self.autoincrement = autoincrement
        self.comment = comment
        self.doc = doc
        self.info = info if info is not None else {}
        self.quote = quote
        self.system = system
        self.foreign_keys: set[ForeignKey] = set()
        self._fk_order: list[ForeignKey] = []
        self.constraints: set[Constraint] = set()
        for arg in rest:
            if isinstance(arg, ForeignKey):
                arg.parent = self
                self.foreign_keys.add(arg)
                self._fk_order.append(arg)
            elif isinstance(arg, (CheckConstraint, UniqueConstraint)):
                self.constraints.add(arg)
            elif isinstance(arg, (DefaultClause, Sequence)):
                if isinstance(arg, DefaultClause):
                    self.server_default = arg
            else:
                raise exc.ArgumentError(
                    f"Column() takes a name, a type, ForeignKey and constraint objects "
                    f"positionally; got {arg!r}"
                )

    def references(self, column: Column) -> bool:
        return any(fk.column is column for fk in self.foreign_keys)

    def _copy(self) -> Column:
        """A new Column like this one, not attached to any table (for mixins and
        ``Table.to_metadata``): same name, type, flags, defaults and foreign keys."""
        new = Column.__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.table = None
        new.foreign_keys = set()
        new._fk_order = []
        new.constraints = set(self.constraints)
        new.info = dict(self.info)
        new.__dict__.pop("_compiled_cache", None)
        new.__dict__.pop("_key_memo", None)
        for fk in self._fk_order:
            fk_new = fk._copy()
            fk_new.parent = new
            new.foreign_keys.add(fk_new)
            new._fk_order.append(fk_new)
        return new

    copy = _copy

    def __repr__(self) -> str:
        return f"Column({self.name!r}, {self.type!r}, table={self._tname()})"

    def _tname(self) -> str:
        return f"<{self.table.name}>" if self.table is not None else "None"


def _is_type(obj: Any) -> bool:
    return isinstance(obj, sqltypes.TypeEngine) or (
        isinstance(obj, type) and issubclass(obj, sqltypes.TypeEngine)
    )


class Sequence:
    """A named sequence (accepted on a Column; not created by hermetic yet)."""

    def __init__(self, name: str, start: int | None = None, **kw: Any) -> None:
        self.name = name
        self.start = start
        self.kwargs = kw


# -- foreign keys ------------------------------------------------------------------------


class ForeignKey:
    """A reference from one column to another (``ForeignKey("user.id")``), resolved
    when first needed."""

    def __init__(
        self,
        column: str | Column,
        name: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        use_alter: bool = False,
        match: str | None = None,
        link_to_name: bool = False,
        _constraint: ForeignKeyConstraint | None = None,
        **kw: Any,
    ) -> None:
        self._colspec = column
        self.name = name
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.deferrable = deferrable
        self.initially = initially
        self.use_alter = use_alter
        self.match = match
        self.link_to_name = link_to_name
        self.constraint = _constraint
        self.parent: Column | None = None

    def __repr__(self) -> str:
        return f"ForeignKey({self.target_fullname!r})"

    def _copy(self) -> ForeignKey:
        return ForeignKey(
            self._colspec,
            name=self.name,
            onupdate=self.onupdate,
            ondelete=self.ondelete,
            deferrable=self.deferrable,
            initially=self.initially,
            use_alter=self.use_alter,
            match=self.match,
            link_to_name=self.link_to_name,
        )

    @property
    def target_fullname(self) -> str:
        spec = self._colspec
        if isinstance(spec, Column):
            if spec.table is None:
                return spec.name
            return f"{spec.table.fullname}.{spec.name}"
        return spec

    def _split(self) -> tuple[str, str]:
        spec = self.target_fullname
        if "." not in spec:
            raise exc.ArgumentError(
                f"Invalid foreign key column specification {spec!r}: give "
                "'tablename.columnname' or 'schema.tablename.columnname'"
            )
        tname, cname = spec.rsplit(".", 1)
        return tname, cname

    @property
    def _referred_table_name(self) -> str:
        if isinstance(self._colspec, Column) and self._colspec.table is not None:
            return self._colspec.table.name
        return self._split()[0].rsplit(".", 1)[-1]

    @property
    def column(self) -> Column:
        """The referenced Column (looked up in the parent table's MetaData)."""
        spec = self._colspec
        if isinstance(spec, Column):
            return spec
        parent_table = self.parent.table if self.parent is not None else None
        if parent_table is None or parent_table.metadata is None:
            raise exc.InvalidRequestError(
                f"ForeignKey({spec!r}) is not attached to a Table yet, so its target "
                "cannot be resolved"
            )
        tname, cname = self._split()
        table = parent_table.metadata._lookup(tname)
        if table is None:
            raise NoReferencedTableError(
                f"Foreign key associated with column '{parent_table.name}."
                f"{self.parent.name if self.parent is not None else '?'}' could not find table "
                f"'{tname}' with which to generate a foreign key to target column "
                f"'{cname}'; define Table('{tname}', ...) on the same MetaData",
                tname,
            )
        for c in table._column_list:
            if c.name == cname or (not self.link_to_name and c.key == cname):
                return c
        raise NoReferencedColumnError(
            f"Could not initialize target column for ForeignKey '{spec}' on table "
            f"'{parent_table.name}': table '{table.name}' has no column named '{cname}' "
            f"(its columns are {', '.join(c.name for c in table._column_list) or 'none'})",
            tname,
            cname,
        )

    def references(self, table: TableClause) -> bool:
        return self.column.table is table

    def get_referent(self, table: TableClause) -> Column | None:
        col = self.column
        return col if col.table is table else None


# -- constraints -------------------------------------------------------------------------


class Constraint:
    """A table-level constraint; its name may come from the naming convention."""

    _convention_key = ""

    def __init__(
        self,
        *columns: Any,
        name: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        info: dict[Any, Any] | None = None,
        **dialect_kw: Any,
    ) -> None:
        self._name = name
        self.deferrable = deferrable
        self.initially = initially
        self.info = info if info is not None else {}
        self._pending: list[Any] = list(columns)
        self._cols: list[Column] = []
        self.table: Table | None = None
        self.kwargs, self.dialect_options = _dialect_kw(dialect_kw, type(self).__name__)

    def __iter__(self) -> Iterator[Column]:
        return iter(list(self._cols))

    def __len__(self) -> int:
        return len(self._cols)

    def __contains__(self, col: object) -> bool:
        return col in self._cols

    @property
    def columns(self) -> ColumnCollection:
        return ColumnCollection(self._cols)

    def _set_parent(self, table: Table) -> None:
        self.table = table
        for c in self._pending:
            col = table._resolve_column(c)
            if col not in self._cols:
                self._cols.append(col)
        self._pending = []

    @property
    def name(self) -> str | None:
        return _convention_name(self, self._name)

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    def _column_names(self) -> list[Column]:
        return list(self._cols)

    def __repr__(self) -> str:
        cols = ", ".join(repr(c.name) for c in self._cols)
        return f"{type(self).__name__}({cols}, name={self.name!r})"


class PrimaryKeyConstraint(Constraint):
    _convention_key = "pk"

    def _add(self, col: Column) -> None:
        if col not in self._cols:
            self._cols.append(col)


class UniqueConstraint(Constraint):
    _convention_key = "uq"


class CheckConstraint(Constraint):
    _convention_key = "ck"

    def __init__(self, sqltext: Any, name: str | None = None, **kw: Any) -> None:
        super().__init__(name=name, **kw)
        self.sqltext = TextClause(sqltext) if isinstance(sqltext, str) else sqltext

    def _set_parent(self, table: Table) -> None:
        self.table = table

    def __repr__(self) -> str:
        return f"CheckConstraint({self.sqltext!r}, name={self.name!r})"


class ForeignKeyConstraint(Constraint):
    """A (possibly composite) foreign key: local columns and the columns they refer to."""

    _convention_key = "fk"

    def __init__(
        self,
        columns: Iterable[Any],
        refcolumns: Iterable[Any],
        name: str | None = None,
        onupdate: str | None = None,
        ondelete: str | None = None,
        deferrable: bool | None = None,
        initially: str | None = None,
        use_alter: bool = False,
        match: str | None = None,
        link_to_name: bool = False,
        **kw: Any,
    ) -> None:
        columns = list(columns)
        refcolumns = list(refcolumns)
        if len(columns) != len(refcolumns):
            raise exc.ArgumentError(
                f"ForeignKeyConstraint with {len(columns)} local columns and "
                f"{len(refcolumns)} referenced columns; the counts must match"
            )
        super().__init__(*columns, name=name, deferrable=deferrable, initially=initially, **kw)
        self.onupdate = onupdate
        self.ondelete = ondelete
        self.use_alter = use_alter
        self.match = match
        self.elements: list[ForeignKey] = [
            ForeignKey(
                ref,
                name=name,
                onupdate=onupdate,
                ondelete=ondelete,
                deferrable=deferrable,
                initially=initially,
                use_alter=use_alter,
                match=match,
                link_to_name=link_to_name,
                _constraint=self,
            )
            for ref in refcolumns
        ]

    def _set_parent(self, table: Table) -> None:
        super()._set_parent(table)
        for col, fk in zip(self._cols, self.elements, strict=True):
            if fk.parent is None:
                fk.parent = col
            col.foreign_keys.add(fk)
            table.foreign_keys.add(fk)

    @property
    def referred_table(self) -> Table:
        table = self.elements[0].column.table
        assert table is not None
        return table

    @property
    def column_keys(self) -> list[str]:
        return [c.key or "" for c in self._cols]


# -- indexes -----------------------------------------------------------------------------


class Index:
    """``CREATE [UNIQUE] INDEX name ON table (expressions)``; dialect options such as
    ``postgresql_where`` / ``sqlite_where`` / ``postgresql_using`` are kept in
    ``.dialect_options`` (by dialect) and ``.kwargs`` (as given)."""

    _convention_key = "ix"

    def __init__(
        self,
        name: str | None,
        *expressions: Any,
        unique: bool = False,
        quote: bool | None = None,
        info: dict[Any, Any] | None = None,
        _table: Table | None = None,
        **dialect_kw: Any,
    ) -> None:
        self._name = name
        self.unique = unique
        self.info = info if info is not None else {}
        self.table: Table | None = None
        self._pending: list[Any] = list(expressions)
        self.expressions: list[Any] = []
        self.kwargs, self.dialect_options = _dialect_kw(dialect_kw, "Index")
        table = _table
        if table is None:
            for e in expressions:
                for col in _columns_in(e):
                    if isinstance(col.table, Table):
                        table = col.table
                        break
                if table is not None:
                    break
        if table is not None:
            table._add_index(self)

    @property
    def name(self) -> str | None:
        return _convention_name(self, self._name)

    @name.setter
    def name(self, value: str | None) -> None:
        self._name = value

    @property
    def columns(self) -> ColumnCollection:
        return ColumnCollection(self._cols)

    @property
    def _cols(self) -> list[Column]:
        cols: list[Column] = []
        for e in self.expressions:
            cols.extend(c for c in _columns_in(e) if c not in cols)
        return cols

    def _set_parent(self, table: Table) -> None:
        if self.table is not None and self.table is not table:
            raise exc.ArgumentError(
                f"Index {self._name!r} is already attached to table {self.table.name!r}"
            )
        self.table = table
        for e in self._pending:
            if isinstance(e, str):
                self.expressions.append(table._resolve_column(e))
            else:
                for col in _columns_in(e):
                    if col.table is not table:
                        raise exc.ArgumentError(
                            f"Index {self._name!r} on table {table.name!r} names column "
                            f"{col.name!r} of another table"
                        )
                self.expressions.append(e)
        self._pending = []

    def create(self, bind: Any, checkfirst: bool = False) -> None:
        from hermetic.sql.ddl import CreateIndex

        _run_ddl(bind, [CreateIndex(self)])

    def drop(self, bind: Any, checkfirst: bool = False) -> None:
        from hermetic.sql.ddl import DropIndex

        _run_ddl(bind, [DropIndex(self)])

    def __repr__(self) -> str:
        return f"Index({self.name!r}, unique={self.unique!r})"


def _columns_in(expr: Any) -> Iterator[Column]:
    if isinstance(expr, Column):
        yield expr
        return
    for attr in getattr(expr, "_traverse", ()):
        child = getattr(expr, attr, None)
        if child is None:
            continue
        if isinstance(child, (list, tuple)):
            for c in child:
                yield from _columns_in(c)
        else:
            yield from _columns_in(child)
    for attr in ("clauses", "clause_expr", "element"):
        if attr in getattr(expr, "_traverse", ()):
            continue
        child = getattr(expr, attr, None)
        if isinstance(child, (list, tuple)):
            for c in child:
                if isinstance(c, ClauseElement):
                    yield from _columns_in(c)
        elif isinstance(child, ClauseElement):
            yield from _columns_in(child)


def _dialect_kw(kw: Mapping[str, Any], owner: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """``postgresql_where=...`` -> ({"postgresql_where": ...}, {"postgresql": {"where": ...}})."""
    options: dict[str, dict[str, Any]] = {}
    for key, value in kw.items():
        dialect, sep, arg = key.partition("_")
        if not sep or not arg:
            raise TypeError(
                f"{owner}() got an unexpected keyword argument {key!r}; dialect options "
                "are spelled <dialect>_<option>, e.g. postgresql_where"
            )
        options.setdefault(dialect, {})[arg] = value
    return dict(kw), dict(options)


# -- naming conventions ------------------------------------------------------------------


def _convention_name(obj: Constraint | Index, explicit: str | None) -> str | None:
    table = obj.table
    if table is None or table.metadata is None:
        return explicit
    conv = table.metadata.naming_convention
    template = conv.get(obj._convention_key) or conv.get(type(obj))
    if template is None:
        return explicit
    if explicit is not None and "%(constraint_name)s" not in template:
        return explicit
    if explicit is None and "%(constraint_name)s" in template:
        return None
    tokens = _NameTokens(obj, explicit)
    try:
        return template % tokens
    except KeyError as e:
        raise exc.InvalidRequestError(
            f"Naming convention {template!r} for {type(obj).__name__} uses the unknown "
            f"token {e.args[0]!r}"
        ) from None


class _NameTokens(Mapping[str, str]):
    """The tokens a naming convention template may use, computed on demand."""

    def __init__(self, obj: Constraint | Index, explicit: str | None) -> None:
        self.obj = obj
        self.explicit = explicit

    def __getitem__(self, key: str) -> str:
        obj = self.obj
        table = obj.table
        assert table is not None
        if key == "table_name":
            return table.name
        if key == "constraint_name":
            if self.explicit is None:
                raise KeyError(key)
            return self.explicit
        cols = obj._cols
        if key.startswith("referred_"):
            if not isinstance(obj, ForeignKeyConstraint):
                raise KeyError(key)
            if key == "referred_table_name":
                return obj.elements[0]._referred_table_name
            sub = key[len("referred_") :]
            names = [fk._split()[1] for fk in obj.elements]
            return self._column_token(sub, names, names, obj.elements[0]._referred_table_name)
        return self._column_token(
            key, [c.name for c in cols], [c.key or c.name for c in cols], table.name
        )

    @staticmethod
    def _column_token(key: str, names: list[str], keys: list[str], tname: str) -> str:
        kinds = {"name": names, "key": keys, "label": [f"{tname}_{n}" for n in names]}
        if not key.startswith("column_0"):
            raise KeyError(key)
        rest = key[len("column_0") :]
        for joiner, prefix in (("_", "_N_"), ("", "N_")):
            if rest.startswith(prefix) and rest[len(prefix) :] in kinds:
                values = kinds[rest[len(prefix) :]]
                return joiner.join(values)
        if rest.startswith("_") and rest[1:] in kinds:
            values = kinds[rest[1:]]
            if not values:
                raise KeyError(key)
            return values[0]
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(())

    def __len__(self) -> int:
        return 0


# -- tables ------------------------------------------------------------------------------


class Table(TableClause):
    """A table of a MetaData: columns, primary key, foreign keys, constraints, indexes."""

    _initialized = False

    def __new__(cls, name: str, metadata: MetaData, *args: Any, **kw: Any) -> Table:
        if not isinstance(metadata, MetaData):
            raise exc.ArgumentError(
                f"Table({name!r}, ...) takes a MetaData as its second argument, got {metadata!r}"
            )
        schema = kw.get("schema")
        if schema is None:
            schema = metadata.schema
        existing = metadata.tables.get(_fullname(name, schema))
        if existing is not None:
            if args and not (kw.get("extend_existing") or kw.get("keep_existing")):
                raise exc.InvalidRequestError(
                    f"Table '{_fullname(name, schema)}' is already defined for this MetaData "
                    "instance.  Specify 'extend_existing=True' to redefine options and "
                    "columns on an existing Table object."
                )
            return existing
        return super().__new__(cls)

    def __init__(
        self,
        name: str,
        metadata: MetaData,
        *args: Any,
        schema: str | None = None,
        extend_existing: bool = False,
        keep_existing: bool = False,
        comment: str | None = None,
        info: dict[Any, Any] | None = None,
        quote: bool | None = None,
        autoload_with: Any = None,
        autoload_replace: bool = True,
        include_columns: Iterable[str] | None = None,
        resolve_fks: bool = True,
        _extend_on: Any = None,
        _reflect_info: Any = None,
        **dialect_kw: Any,
    ) -> None:
        reflect = (include_columns, autoload_replace, resolve_fks, _extend_on, _reflect_info)
        if self._initialized:
            if extend_existing:
                if autoload_with is not None:
                    self._autoload(autoload_with, args, *reflect)
                else:
                    self._extend(args)
            return
        self._initialized = True
        super().__init__(name, schema=schema if schema is not None else metadata.schema)
        self.metadata = metadata
        self.comment = comment
        self.info = info if info is not None else {}
        self.kwargs, self.dialect_options = _dialect_kw(dialect_kw, "Table")
        self._column_list: list[Column] = []
        self.primary_key = PrimaryKeyConstraint()
        self.primary_key._set_parent(self)
        self.foreign_keys: set[ForeignKey] = set()
        self._constraints: list[Constraint] = [self.primary_key]
        self._indexes: list[Index] = []
        metadata._add_table(self)
        if autoload_with is None:
            self._extend(args)
            return
        try:
            self._autoload(autoload_with, args, *reflect)
        except BaseException:
            metadata.remove(self)
            raise

    def _autoload(
        self,
        bind: Any,
        args: Iterable[Any],
        include_columns: Iterable[str] | None,
        autoload_replace: bool,
        resolve_fks: bool,
        extend_on: Any,
        reflect_info: Any,
    ) -> None:
        """Reflect this table from ``bind`` (an Engine, a Connection or an Inspector);
        Column objects among ``args`` replace the reflected columns of the same name."""
        from hermetic.inspection import inspect

        args = list(args)
        overrides = {a.name: a for a in args if isinstance(a, Column)}
        exclude = [] if autoload_replace else [c.name for c in self._column_list]
        inspect(bind).reflect_table(
            self,
            None if include_columns is None else list(include_columns),
            exclude,
            resolve_fks,
            _extend_on=extend_on,
            _reflect_info=reflect_info,
            _overrides=overrides,
        )
        self._extend([a for a in args if not isinstance(a, Column) or a.name in overrides])

    @property
    def fullname(self) -> str:
        return _fullname(self.name, self.schema)

    @property
    def constraints(self) -> set[Constraint]:
        return set(self._constraints)

    @property
    def indexes(self) -> set[Index]:
        return set(self._indexes)

    @property
    def foreign_key_constraints(self) -> set[ForeignKeyConstraint]:
        return {c for c in self._constraints if isinstance(c, ForeignKeyConstraint)}

    def _extend(self, args: Iterable[Any]) -> None:
        later: list[Any] = []
        for arg in args:
            if isinstance(arg, Column):
                self.append_column(arg, replace_existing=True)
            elif isinstance(arg, (Constraint, Index)):
                later.append(arg)
            else:
                raise exc.ArgumentError(
                    f"Table({self.name!r}, ...) takes Column, Constraint and Index objects, "
                    f"got {arg!r}"
                )
        for arg in later:
            if isinstance(arg, Index):
                self._add_index(arg)
            else:
                self.append_constraint(arg)

    def append_column(self, column: Column, replace_existing: bool = False) -> None:
        if column.table is not None and column.table is not self:
            raise exc.ArgumentError(
                f"Column {column.name!r} already belongs to table {column.table.name!r}; "
                "use a new Column object (or column.copy()) for this table"
            )
        if not column.name:
            raise exc.ArgumentError(f"A Column of table {self.name!r} has no name")
        for i, existing in enumerate(self._column_list):
            if existing.key == column.key:
                if not replace_existing:
                    raise DuplicateColumnError(
                        f"A column with name {column.key!r} is already present in table "
                        f"{self.name!r}"
                    )
                self._column_list[i] = column
                self._constraints = [
                    c for c in self._constraints if existing not in c._cols or c is self.primary_key
                ]
                if existing in self.primary_key._cols:
                    self.primary_key._cols.remove(existing)
                break
        else:
            self._column_list.append(column)
        column.table = self
        self.c = ColumnCollection(self._column_list)
        if column.primary_key:
            self.primary_key._add(column)
        for fk in column._fk_order:
            if fk.constraint is None:
                fkc = ForeignKeyConstraint(
                    [column],
                    [fk._colspec],
                    name=fk.name,
                    onupdate=fk.onupdate,
                    ondelete=fk.ondelete,
                    deferrable=fk.deferrable,
                    initially=fk.initially,
                    use_alter=fk.use_alter,
                    match=fk.match,
                    link_to_name=fk.link_to_name,
                )
                column.foreign_keys.discard(fk)
                fkc.elements = [fk]
                fk.constraint = fkc
                fk.parent = column
                self.append_constraint(fkc)
        for con in column.constraints:
            if isinstance(con, UniqueConstraint) and not con._pending:
                con._pending = [column]
            self.append_constraint(con)
        if column.unique and not column.index:
            self.append_constraint(UniqueConstraint(column))
        if column.index:
            self._add_index(Index(None, column, unique=bool(column.unique), _table=None))

    def append_constraint(self, constraint: Constraint) -> None:
        if isinstance(constraint, PrimaryKeyConstraint):
            constraint._set_parent(self)
            keys = {id(c) for c in constraint._cols}  # `in` a list would build SQL (==)
            for col in self._column_list:
                col.primary_key = id(col) in keys
                if col.primary_key and col.nullable is True:
                    col.nullable = False
            self._constraints = [c for c in self._constraints if c is not self.primary_key]
            self.primary_key = constraint
            self._constraints.insert(0, constraint)
            return
        constraint._set_parent(self)
        if constraint not in self._constraints:
            self._constraints.append(constraint)

    def _add_index(self, index: Index) -> None:
        if index.table is self and index in self._indexes:
            return
        index._set_parent(self)
        self._indexes.append(index)

    def _resolve_column(self, ref: Any) -> Column:
        if isinstance(ref, Column):
            if ref.table is not None and ref.table is not self:
                raise exc.ArgumentError(
                    f"Column {ref.name!r} of table {ref.table.name!r} cannot be used in a "
                    f"constraint of table {self.name!r}"
                )
            return ref
        if isinstance(ref, str):
            for c in self._column_list:
                if c.key == ref or c.name == ref:
                    return c
            raise exc.ArgumentError(
                f"Table {self.name!r} has no column {ref!r} (its columns are "
                f"{', '.join(c.name for c in self._column_list) or 'none'})"
            )
        raise exc.ArgumentError(f"Expected a column or a column name, got {ref!r}")

    @property
    def _sorted_constraints(self) -> list[Constraint]:
        return list(self._constraints)

    def create(self, bind: Any, checkfirst: bool = False) -> None:
        self.metadata.create_all(bind, tables=[self], checkfirst=checkfirst)

    def drop(self, bind: Any, checkfirst: bool = False) -> None:
        self.metadata.drop_all(bind, tables=[self], checkfirst=checkfirst)

    def __repr__(self) -> str:
        return f"Table({self.name!r}, {self.metadata!r}, schema={self.schema!r})"


def _run_ddl(bind: Any, elements: Iterable[Any]) -> None:
    from hermetic.sql.ddl import _connection

    with _connection(bind) as conn:
        for e in elements:
            conn.execute(e)


__all__ = [
    "CheckConstraint",
    "Column",
    "ColumnDefault",
    "ColumnElement",
    "Constraint",
    "DefaultClause",
    "DuplicateColumnError",
    "ForeignKey",
    "ForeignKeyConstraint",
    "Index",
    "MetaData",
    "NoReferenceError",
    "NoReferencedColumnError",
    "NoReferencedTableError",
    "PrimaryKeyConstraint",
    "Sequence",
    "Table",
    "UniqueConstraint",
]
