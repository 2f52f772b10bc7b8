"""INSERT, UPDATE and DELETE (``insert()``, ``update()``, ``delete()``).

The statements are generative like ``select()``: every method returns a new statement.
Their structure (table, target column names, RETURNING list, WHERE criteria) makes the
structural cache key; the values given to ``.values()`` are bound parameters named after
their columns, so ``insert(t).values(n=1)`` and ``insert(t).values(n=2)`` share one
compiled form and the engine supplies each statement's own values (``bind_slots``).

Parameters given at execution decide the column list of a statement without
``.values()``: ``conn.execute(insert(t), [{"a": 1}, {"a": 2}])`` renders
``INSERT INTO t (a) VALUES (:a)`` from the first parameter set and runs executemany.

``CursorResult.inserted_primary_key`` (single-row inserts): the primary key columns are
``table.primary_key`` when the table has one (schema Tables); a lightweight
``table()`` knows none, so name them with ``.return_defaults(t.c.id)``. Without that hint
SQLite reports ``(cursor.lastrowid,)`` and PostgreSQL ``None``. A value given for a key
column is reported as given; otherwise SQLite uses ``lastrowid`` and PostgreSQL adds
``RETURNING`` of the key columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, TypeVar

from typing_extensions import Self

from hermetic import exc
from hermetic.sql.base import Executable
from hermetic.sql.compiler import SQLCompiler, _State, quote_identifier
from hermetic.sql.elements import (
    BinaryExpression,
    BindParameter,
    ColumnClause,
    ColumnElement,
    Grouping,
    KeyedElement,
    _coerce,
)
from hermetic.sql.selectable import (
    ColumnCollection,
    FromClause,
    Select,
    TableClause,
    _as_from,
    _tables_of,
)


def _column_key(table: FromClause, key: Any) -> str:
    """The name of a target column given as a string or a column of ``table``."""
    name = key if isinstance(key, str) else getattr(key, "key", None)
    if not isinstance(name, str):
        raise exc.ArgumentError(f"Expected a column name or a column object, got {key!r}")
    if name not in table.c:
        raise exc.CompileError(
            f"Unconsumed column names: {name}; table {table.name!r} has "
            f"{', '.join(table.c.keys()) or 'no columns'}"
        )
    return name


def _value_element(table: FromClause, name: str, value: Any, bind_name: str) -> ColumnElement:
    """A value for column ``name``: SQL expressions pass (grouped), Python values bind."""
    if isinstance(value, Select):
        value = value.scalar_subquery()
    if isinstance(value, ColumnElement):
        if isinstance(value, BinaryExpression):
            return Grouping(value)
        return value
    col = table.c[name]
    return BindParameter(bind_name, value, type_=col.type)


class UpdateBase(Executable, KeyedElement):
    """What INSERT, UPDATE and DELETE share: a target table, RETURNING, execution."""

    is_dml = True
    _is_textual = False
    table: TableClause
    _returning: list[ColumnElement]
    _return_defaults: list[ColumnElement] | None = None

    def _generate(self) -> Any:
        new = self._copy()
        for attr, value in list(new.__dict__.items()):
            if isinstance(value, list):
                new.__dict__[attr] = list(value)
        return new

    def returning(self, *cols: Any) -> Any:
        """``RETURNING`` these columns (a table for all of its columns)."""
        new = self._generate()
        for c in cols:
            orm_entity = getattr(c, "_sa_select_entity", None)
            if orm_entity is not None:  # a mapped class: its columns; the ORM makes objects
                new._returning_entity = (c, len(new._returning))
                new._returning.extend(orm_entity()[0])
            elif isinstance(c, FromClause):
                new._returning.extend(c.c)
            else:
                new._returning.append(_coerce(c))
        return new

    @property
    def _cache_key(self) -> Any:
        return self._key_and_binds()[0]

    _compiler_cls: type[SQLCompiler]

    def _compile_for(self, dialect: Any) -> Any:
        return self._compiler_cls(dialect).compile_statement(self)

    def __str__(self) -> str:
        from hermetic.sql.compiler import _GenericDialect

        return self._compiler_cls(_GenericDialect()).compile_statement(self).string

    # -- execution --------------------------------------------------------------------
    def _with_params(self, params: Mapping[str, Any]) -> Any:
        """This statement with a SET/VALUES entry for each parameter naming a column
        not already given one (SQLAlchemy: parameters decide the columns)."""
        return self

    def _execute_on_connection(
        self, connection: Any, distilled_params: Any, execution_options: Any
    ) -> Any:
        first: Mapping[str, Any] | None = None
        if isinstance(distilled_params, Mapping):
            first = distilled_params
        elif isinstance(distilled_params, (list, tuple)) and distilled_params:
            first = distilled_params[0]
        stmt = self._with_params(first or {})
        return connection._execute_clauseelement(stmt, distilled_params, execution_options)


class _ValuesBase(UpdateBase):
    """A statement with ``.values()``: (column name, value element) pairs."""

    _value_keys: tuple[str, ...]
    _value_exprs: list[ColumnElement]

    def _add_values(self, new: Any, values: Mapping[Any, Any]) -> None:
        keys = list(new._value_keys)
        for k, v in values.items():
            name = _column_key(self.table, k)
            element = _value_element(self.table, name, v, name)
            if name in keys:
                new._value_exprs[keys.index(name)] = element
            else:
                keys.append(name)
                new._value_exprs.append(element)
        new._value_keys = tuple(keys)

    def _with_params(self, params: Mapping[str, Any]) -> Any:
        if getattr(self, "_multi_rows", 0) or getattr(self, "_select", None) is not None:
            return self
        extra = [k for k in params if k in self.table.c and k not in self._value_keys]
        if not extra:
            return self
        _key, binds = self._key_and_binds()
        taken = {b.key for b in binds}
        extra = [k for k in extra if k not in taken]
        if not extra:
            return self
        new = self._generate()
        for k in extra:
            new._value_keys = (*new._value_keys, k)
            new._value_exprs.append(BindParameter(k, type_=self.table.c[k].type, required=True))
        return new


class Insert(_ValuesBase):
    """``INSERT INTO table (...) VALUES (...)`` / ``... SELECT ...``."""

    __visit_name__ = "insert"
    _traverse: ClassVar[tuple[str, ...]] = (
        "table",
        "_value_exprs",
        "_multi_exprs",
        "_select",
        "_returning",
    )
    _key_attrs = (
        "_value_keys",
        "_multi_keys",
        "_multi_rows",
        "_select_names",
        "_rd_key",
        "_default_values",
    )

    def __init__(self, table: TableClause) -> None:
        self.table = table
        self._value_keys = ()
        self._value_exprs = []
        self._multi_keys: tuple[str, ...] = ()
        self._multi_rows = 0
        self._multi_exprs: list[ColumnElement] = []
        self._select: Select | None = None
        self._select_names: tuple[str, ...] | None = None
        self._returning = []

    @property
    def _rd_key(self) -> Any:
        rd = self._return_defaults
        return None if rd is None else tuple(c.key for c in rd)

    def values(self, *args: Any, **kwargs: Any) -> Insert:
        """Values for one row (``values(a=1)``, ``values({"a": 1})``) or several
        (``values([{"a": 1}, {"a": 2}])``: one multi-row VALUES clause)."""
        if self._select is not None:
            raise exc.InvalidRequestError("This insert() already has from_select()")
        new: Insert = self._generate()
        if args:
            if len(args) > 1 or kwargs:
                raise exc.ArgumentError(
                    "values() takes one dict, one list of dicts, or keyword arguments"
                )
            arg = args[0]
            if isinstance(arg, (list, tuple)):
                if self._value_keys or self._multi_rows:
                    raise exc.InvalidRequestError(
                        "Can't mix single-row and multi-row values(); give all rows at once"
                    )
                self._set_multi(new, arg)
                return new
            if not isinstance(arg, Mapping):
                raise exc.ArgumentError(f"values() takes a dict or a list of dicts, got {arg!r}")
            kwargs = dict(arg)
        if new._multi_rows:
            raise exc.InvalidRequestError("This insert() already has multi-row values()")
        self._add_values(new, kwargs)
        return new

    def _set_multi(self, new: Insert, rows: Sequence[Any]) -> None:
        if not rows:
            raise exc.ArgumentError("values() got an empty list of rows")
        first = rows[0]
        if not isinstance(first, Mapping):
            raise exc.ArgumentError("multi-row values() takes a list of dicts")
        keys = tuple(_column_key(self.table, k) for k in first)
        exprs: list[ColumnElement] = []
        for i, row in enumerate(rows):
            if not isinstance(row, Mapping):
                raise exc.ArgumentError("multi-row values() takes a list of dicts")
            named = {_column_key(self.table, k): v for k, v in row.items()}
            if set(named) != set(keys):
                raise exc.ArgumentError(
                    f"Row {i} of a multi-row values() has columns {sorted(named)}; every "
                    f"row must have the same columns as the first, {sorted(keys)}"
                )
            exprs.extend(_value_element(self.table, k, named[k], f"{k}_m{i}") for k in keys)
        new._multi_keys = keys
        new._multi_rows = len(rows)
        new._multi_exprs = exprs

    def from_select(self, names: Iterable[Any], select: Select) -> Insert:
        """``INSERT INTO table (names) SELECT ...``."""
        if self._value_keys or self._multi_rows:
            raise exc.InvalidRequestError("This insert() already has values()")
        new: Insert = self._generate()
        new._select_names = tuple(_column_key(self.table, n) for n in names)
        new._select = select
        return new

    def return_defaults(self, *cols: Any) -> Insert:
        """Name the key columns for ``inserted_primary_key`` (see the module docstring)."""
        new: Insert = self._generate()
        new._return_defaults = [self.table.c[_column_key(self.table, c)] for c in cols] or list(
            self.table.c
        )
        return new

    # -- inserted_primary_key -----------------------------------------------------------
    def _pk_columns(self) -> list[ColumnElement]:
        # a schema Table's PrimaryKeyConstraint has .columns; table() has none
        pk_columns = getattr(getattr(self.table, "primary_key", None), "columns", None)
        if pk_columns is not None and len(pk_columns):
            return list(pk_columns)
        return list(self._return_defaults or ())

    def _execute_on_connection(
        self, connection: Any, distilled_params: Any, execution_options: Any
    ) -> Any:
        first: Mapping[str, Any] | None = None
        many = False
        if isinstance(distilled_params, Mapping):
            first = distilled_params
        elif isinstance(distilled_params, (list, tuple)) and distilled_params:
            first = distilled_params[0]
            many = len(distilled_params) > 1
        params = first or {}
        stmt: Insert = self._with_params(params)
        single = not many and not stmt._multi_rows and stmt._select is None
        pk_cols = stmt._pk_columns() if single else []
        pk_keys = [str(c.key) for c in pk_cols]
        given: dict[str, Any] = {}
        if single:
            for k, e in zip(stmt._value_keys, stmt._value_exprs, strict=True):
                if isinstance(e, BindParameter):
                    given[k] = params.get(str(e.key), e.effective_value)
        # the new key comes from cursor.lastrowid (SQLite), else from RETURNING
        lastrowid = connection.dialect.postfetch_lastrowid
        fetch_pk = (
            bool(pk_cols)
            and not stmt._returning
            and not lastrowid
            and connection.dialect.supports_returning
            and any(given.get(k) is None for k in pk_keys)
        )
        run = stmt
        if fetch_pk:
            run = stmt._generate()
            run._returning = list(pk_cols)
        if not stmt._value_keys and not stmt._multi_rows and stmt._select is None:
            run = run._generate()
            run._default_values = True
        result = connection._execute_clauseelement(run, distilled_params, execution_options)
        result.is_insert = True
        if not single:
            return result
        if pk_cols:
            if fetch_pk:
                # the RETURNING row is ours, not the caller's: read it and close
                row = result.fetchone()
                result.close()
                generated = dict(zip(pk_keys, row or (), strict=False))
            elif len(pk_keys) == 1 and lastrowid:
                generated = {pk_keys[0]: result.lastrowid}
            else:
                generated = {}
            result._inserted_primary_key = tuple(
                given[k] if given.get(k) is not None else generated.get(k) for k in pk_keys
            )
        elif lastrowid:
            result._inserted_primary_key = (result.lastrowid,)
        return result

    _default_values = False


class _Filtered(UpdateBase):
    """UPDATE and DELETE: ``.where()`` (alias ``.filter()``) adds criteria, AND-ed."""

    _where: list[ColumnElement]

    def where(self, *criteria: Any) -> Self:
        new: Self = self._generate()
        new._where.extend(_coerce(c) for c in criteria)
        return new

    filter = where

    def _criteria(self) -> list[ColumnElement]:
        return self._where

    def _extra_froms(self) -> list[FromClause]:
        """Tables other than the target that the criteria (and an UPDATE's values) name:
        PostgreSQL's ``UPDATE ... FROM`` / ``DELETE ... USING`` list. Nested SELECTs
        keep their own tables."""
        target = {id(p) for p in self.table._covers()}
        found: dict[int, FromClause] = {}
        for elem in self._criteria():
            for t in _tables_of(elem):
                if id(t) not in target:
                    found.setdefault(id(t), t)
        return list(found.values())


class Update(_Filtered, _ValuesBase):
    """``UPDATE table SET ... WHERE ...``."""

    __visit_name__ = "update"
    _traverse = ("table", "_value_exprs", "_where", "_returning")
    _key_attrs = ("_value_keys",)

    def __init__(self, table: TableClause) -> None:
        self.table = table
        self._value_keys = ()
        self._value_exprs = []
        self._where: list[ColumnElement] = []
        self._returning = []

    def _criteria(self) -> list[ColumnElement]:
        return [*self._where, *self._value_exprs]

    def values(self, *args: Any, **kwargs: Any) -> Update:
        if args:
            if len(args) > 1 or kwargs or not isinstance(args[0], Mapping):
                raise exc.ArgumentError("update().values() takes one dict or keyword arguments")
            kwargs = dict(args[0])
        new: Update = self._generate()
        self._add_values(new, kwargs)
        return new


class Delete(_Filtered):
    """``DELETE FROM table WHERE ...``."""

    __visit_name__ = "delete"
    _traverse = ("table", "_where", "_returning")

    def __init__(self, table: TableClause) -> None:
        self.table = table
        self._where: list[ColumnElement] = []
        self._returning = []


class DMLCompiler(SQLCompiler):
    """The Core compiler plus INSERT / UPDATE / DELETE."""

    def _target(self, table: Any, state: _State) -> None:
        self.process(table, state)

    def _returning_clause(
        self,
        stmt: Any,
        state: _State,
        result_columns: list[tuple[str, Any]] | None,
        result_objects: list[tuple[Any, ...]] | None,
    ) -> None:
        if not stmt._returning:
            return
        w = state.write
        w(" RETURNING ")
        in_columns = state.in_columns
        state.in_columns = True
        anon = 0
        for i, col in enumerate(stmt._returning):
            if i:
                w(", ")
            self.process(col, state)
            key = getattr(col, "key", None)
            if col.__visit_name__ not in ("column", "label") or not key:
                anon += 1
                key = f"anon_{anon}"
                w(f" AS {key}")
            if result_columns is not None:
                result_columns.append((str(key), col.type))
            if result_objects is not None:
                result_objects.append((col,))
        state.in_columns = in_columns

    def _value(self, element: Any, state: _State) -> None:
        if element.__visit_name__ == "select":
            self._nested_select(element, state)
        else:
            self.process(element, state)

    def visit_insert(
        self,
        stmt: Insert,
        state: _State,
        result_columns: list[tuple[str, Any]] | None = None,
        result_objects: list[tuple[Any, ...]] | None = None,
    ) -> None:
        w = state.write
        w("INSERT INTO ")
        self._target(stmt.table, state)
        if stmt._select is not None:
            names = stmt._select_names or ()
            w(" (" + ", ".join(quote_identifier(n) for n in names) + ") ")
            self.process(stmt._select, state)
        elif stmt._multi_rows:
            keys = stmt._multi_keys
            w(" (" + ", ".join(quote_identifier(n) for n in keys) + ") VALUES ")
            width = len(keys)
            for r in range(stmt._multi_rows):
                w(", (" if r else "(")
                for i, e in enumerate(stmt._multi_exprs[r * width : (r + 1) * width]):
                    if i:
                        w(", ")
                    self._value(e, state)
                w(")")
        elif stmt._value_keys:
            w(" (" + ", ".join(quote_identifier(n) for n in stmt._value_keys) + ") VALUES (")
            for i, e in enumerate(stmt._value_exprs):
                if i:
                    w(", ")
                self._value(e, state)
            w(")")
        elif stmt._default_values:
            w(" DEFAULT VALUES")
        else:
            # no values and no parameters: every column, each a required parameter
            cols = list(stmt.table.c)
            w(" (" + ", ".join(quote_identifier(c.name) for c in cols) + ") VALUES (")
            for i, c in enumerate(cols):
                if i:
                    w(", ")
                self.process(BindParameter(c.key or "", type_=c.type, required=True), state)
            w(")")
        self.post_values_clause(stmt, state)
        self._returning_clause(stmt, state, result_columns, result_objects)

    def post_values_clause(self, stmt: Any, state: _State) -> None:
        """Dialect inserts render ON CONFLICT here."""

    def _set_clause(self, stmt: Any, state: _State) -> None:
        w = state.write
        w(" SET ")
        for i, (k, e) in enumerate(zip(stmt._value_keys, stmt._value_exprs, strict=True)):
            if i:
                w(", ")
            w(quote_identifier(stmt.table.c[k].name) + "=")
            self._value(e, state)

    def visit_update(
        self,
        stmt: Update,
        state: _State,
        result_columns: list[tuple[str, Any]] | None = None,
        result_objects: list[tuple[Any, ...]] | None = None,
    ) -> None:
        if not stmt._value_keys:
            raise exc.CompileError(
                "update() has no values: call .values(col=...) or pass parameters naming "
                "the columns to set"
            )
        extra = stmt._extra_froms()
        if extra and not self.dialect.supports_update_from:
            raise exc.CompileError(
                f"{self.dialect.name} has no UPDATE ... FROM, and this update() of "
                f"{stmt.table.name!r} names {_names(extra)} in its WHERE or values; use a "
                "correlated subquery instead, e.g. .values(x=select(other.c.y).where("
                "other.c.id == t.c.id).scalar_subquery())"
            )
        if extra and stmt._returning and not self.dialect.returning_sees_update_from:
            named = {id(t) for col in stmt._returning for t in _tables_of(col)}
            others = [f for f in extra if named.intersection(id(p) for p in f._covers())]
            if others:
                raise exc.CompileError(
                    f"{self.dialect.name}'s RETURNING can name only the updated table "
                    f"{stmt.table.name!r}, not {_names(others)} of UPDATE ... FROM; return "
                    "the updated table's columns and read the others with a SELECT"
                )
        state.write("UPDATE ")
        self._target(stmt.table, state)
        # nested SELECTs correlate to the target table and the FROM list
        state.enclosing.append(_covered(stmt.table, extra))
        self._set_clause(stmt, state)
        self._from_list(" FROM ", extra, state)
        self._clause(stmt._where, " WHERE ", " AND ", state, and_=True)
        state.enclosing.pop()
        self._returning_clause(stmt, state, result_columns, result_objects)

    def _from_list(self, head: str, froms: list[Any], state: _State) -> None:
        if not froms:
            return
        state.write(head)
        for i, f in enumerate(froms):
            if i:
                state.write(", ")
            self.process(f, state)

    def visit_delete(
        self,
        stmt: Delete,
        state: _State,
        result_columns: list[tuple[str, Any]] | None = None,
        result_objects: list[tuple[Any, ...]] | None = None,
    ) -> None:
        extra = stmt._extra_froms()
        if extra and not self.dialect.supports_delete_using:
            name = stmt.table.name
            other = getattr(extra[0], "name", None) or "other"
            raise exc.CompileError(
                f"{self.dialect.name} has no multi-table DELETE (DELETE ... USING), and "
                f"this delete() of {name!r} names {_names(extra)} in its WHERE clause; "
                "use a correlated subquery instead, e.g. "
                f"delete({name}).where({name}.c.id.in_(select({other}.c.<col>).where(...)))"
                f" or delete({name}).where(exists().where({other}.c.<col> == {name}.c.id))"
            )
        state.write("DELETE FROM ")
        self._target(stmt.table, state)
        state.enclosing.append(_covered(stmt.table, extra))
        self._from_list(" USING ", extra, state)
        self._clause(stmt._where, " WHERE ", " AND ", state, and_=True)
        state.enclosing.pop()
        self._returning_clause(stmt, state, result_columns, result_objects)


def _covered(table: Any, extra: list[Any]) -> set[int]:
    return {id(p) for f in (table, *extra) for p in f._covers()}


def _names(froms: list[Any]) -> str:
    return ", ".join(repr(getattr(f, "name", None) or type(f).__name__) for f in froms)


UpdateBase._compiler_cls = DMLCompiler


_S = TypeVar("_S", bound="UpdateBase")


def dml_for(cls: type[_S], target: Any) -> _S:
    """A DML statement of ``cls`` on ``target``: a table, or a mapped class (the ORM
    then runs the statement: attribute names, identity map, RETURNING of entities)."""
    stmt = cls(_as_from(target))  # type: ignore[call-arg]
    if not isinstance(target, FromClause):
        stmt.__dict__["_orm_entity"] = target
    return stmt


def insert(table: Any) -> Insert:
    """``INSERT INTO table``; give rows with ``.values()`` or as execute() parameters."""
    return dml_for(Insert, table)


def update(table: Any) -> Update:
    """``UPDATE table``; ``.values()`` for SET and ``.where()`` for the rows."""
    return dml_for(Update, table)


def delete(table: Any) -> Delete:
    """``DELETE FROM table``; ``.where()`` for the rows."""
    return dml_for(Delete, table)


# -- ON CONFLICT (the dialect inserts of PostgreSQL and SQLite) ---------------------------
def _index_names(table: TableClause, elements: Iterable[Any] | None) -> tuple[str, ...] | None:
    if elements is None:
        return None
    return tuple(e if isinstance(e, str) else str(e.key) for e in elements)


class OnConflictClause(KeyedElement):
    """``ON CONFLICT (index_elements) [WHERE index_where] DO ...``."""

    _traverse: ClassVar[tuple[str, ...]] = ("index_where",)
    _key_attrs: ClassVar[tuple[str, ...]] = ("index_elements", "constraint", "_where_values")

    def __init__(
        self,
        table: TableClause,
        constraint: str | None = None,
        index_elements: Iterable[Any] | None = None,
        index_where: Any = None,
    ) -> None:
        if constraint is not None and not isinstance(constraint, str):
            constraint = getattr(constraint, "name", None)
        self.constraint = constraint
        self.index_elements = _index_names(table, index_elements)
        self.index_where = _coerce(index_where) if index_where is not None else None

    @property
    def _where_values(self) -> tuple[str, ...]:
        # index_where renders its values inline (it must match the index's predicate):
        # they belong to the cache key, not to the parameters
        if self.index_where is None:
            return ()
        return tuple(repr(b.effective_value) for b in self.index_where._key_and_binds()[1])


class OnConflictDoNothing(OnConflictClause):
    __visit_name__ = "on_conflict_do_nothing"


class OnConflictDoUpdate(OnConflictClause):
    """``... DO UPDATE SET col = value, ... [WHERE where]``."""

    __visit_name__ = "on_conflict_do_update"
    _traverse = ("index_where", "set_values", "where")
    _key_attrs = ("index_elements", "constraint", "_where_values", "set_keys")

    def __init__(
        self,
        table: TableClause,
        constraint: str | None = None,
        index_elements: Iterable[Any] | None = None,
        index_where: Any = None,
        set_: Mapping[Any, Any] | None = None,
        where: Any = None,
    ) -> None:
        super().__init__(table, constraint, index_elements, index_where)
        if not set_:
            raise exc.ArgumentError("on_conflict_do_update() needs set_={column: value, ...}")
        keys: list[str] = []
        values: list[ColumnElement] = []
        for k, v in set_.items():
            name = k if isinstance(k, str) else str(k.key)
            keys.append(name)
            if isinstance(v, (ColumnElement, Select)):
                values.append(_value_element(table, name, v, "param"))
            else:
                col = table.c[name] if name in table.c else None  # noqa: SIM401
                values.append(
                    BindParameter(
                        "param", v, type_=col.type if col is not None else None, unique=True
                    )
                )
        self.set_keys = tuple(keys)
        self.set_values = values
        self.where = _coerce(where) if where is not None else None


class OnConflictInsert(Insert):
    """An insert with ``on_conflict_do_nothing()`` / ``on_conflict_do_update()`` and
    ``excluded``; the dialect modules subclass it with their compilers."""

    _traverse = (*Insert._traverse, "_post_values_clause")
    _post_values_clause: OnConflictClause | None = None

    @property
    def excluded(self) -> ColumnCollection:
        """The row proposed for insertion: ``excluded.<col>`` in ON CONFLICT DO UPDATE."""
        cached = self.__dict__.get("_excluded")
        if cached is None:
            pseudo = TableClause(
                "excluded", *(ColumnClause(c.key or "", c.type) for c in self.table.c)
            )
            cached = self.__dict__["_excluded"] = pseudo.c
        return cached

    def _check_conflict(self) -> None:
        if self._post_values_clause is not None:
            raise exc.InvalidRequestError("This insert already has an ON CONFLICT clause")

    def on_conflict_do_nothing(
        self, constraint: Any = None, index_elements: Any = None, index_where: Any = None
    ) -> Any:
        self._check_conflict()
        new = self._generate()
        new._post_values_clause = OnConflictDoNothing(
            self.table, constraint, index_elements, index_where
        )
        return new

    def on_conflict_do_update(
        self,
        constraint: Any = None,
        index_elements: Any = None,
        index_where: Any = None,
        set_: Mapping[Any, Any] | None = None,
        where: Any = None,
    ) -> Any:
        self._check_conflict()
        new = self._generate()
        new._post_values_clause = OnConflictDoUpdate(
            self.table, constraint, index_elements, index_where, set_, where
        )
        return new


class OnConflictCompiler(DMLCompiler):
    """Renders the ON CONFLICT clause as PostgreSQL and SQLite share it."""

    def post_values_clause(self, stmt: Any, state: _State) -> None:
        clause = getattr(stmt, "_post_values_clause", None)
        if clause is not None:
            state.write(" ")
            self.process(clause, state)

    def _conflict_target(self, clause: OnConflictClause, state: _State) -> None:
        w = state.write
        w("ON CONFLICT")
        if clause.constraint is not None:
            w(" ON CONSTRAINT " + quote_identifier(clause.constraint))
        elif clause.index_elements:
            w(" (" + ", ".join(quote_identifier(n) for n in clause.index_elements) + ")")
            if clause.index_where is not None:
                # the predicate of a partial unique index, matched against the index's
                # own: written as the index has it, bare columns and values inline
                w(" WHERE ")
                literal, bare = self.literal_binds, state.bare_columns
                self.literal_binds = state.bare_columns = True
                try:
                    self.process(clause.index_where, state)
                finally:
                    self.literal_binds, state.bare_columns = literal, bare

    def visit_on_conflict_do_nothing(self, clause: OnConflictDoNothing, state: _State) -> None:
        self._conflict_target(clause, state)
        state.write(" DO NOTHING")

    def visit_on_conflict_do_update(self, clause: OnConflictDoUpdate, state: _State) -> None:
        if clause.constraint is None and not clause.index_elements:
            raise exc.CompileError(
                "ON CONFLICT DO UPDATE needs a conflict target: index_elements= or constraint="
            )
        self._conflict_target(clause, state)
        w = state.write
        w(" DO UPDATE SET ")
        for i, (k, e) in enumerate(zip(clause.set_keys, clause.set_values, strict=True)):
            if i:
                w(", ")
            w(quote_identifier(k) + " = ")
            self._value(e, state)
        if clause.where is not None:
            w(" WHERE ")
            self.process(clause.where, state)


__all__ = [
    "DMLCompiler",
    "Delete",
    "Insert",
    "OnConflictCompiler",
    "OnConflictDoNothing",
    "OnConflictDoUpdate",
    "OnConflictInsert",
    "Update",
    "UpdateBase",
    "delete",
    "insert",
    "update",
]
