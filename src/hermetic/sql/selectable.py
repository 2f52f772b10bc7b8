"""FROM-clause elements and ``select()``.

Lightweight ``table()`` / ``column()``, joins, aliases, subqueries, CTEs, and a
generative ``select()`` (columns, FROM, WHERE, GROUP BY, HAVING, ORDER BY, LIMIT/OFFSET
or FETCH FIRST, DISTINCT, row locks, correlation) with its compound forms.

Correlation (what a nested SELECT leaves out of its FROM because an enclosing statement
provides it) follows SQLAlchemy 2.0: a scalar subquery or EXISTS in WHERE or in the
columns clause auto-correlates the enclosing SELECT's FROM entries it names, as long as
it keeps at least one FROM of its own; ``correlate(t, ...)`` names the tables to
correlate (at any enclosing level, also for subqueries in FROM), ``correlate(None)``
turns correlation off and ``correlate_except(t, ...)`` correlates everything but ``t``.
The compiler applies these rules (``sql/compiler.py``); the statement only records them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from typing import Any, ClassVar

from typing_extensions import Self

from hermetic import exc
from hermetic.sql import operators as ops
from hermetic.sql import sqltypes
from hermetic.sql.base import Executable
from hermetic.sql.elements import (
    BindParameter,
    ColumnClause,
    ColumnElement,
    KeyedElement,
    _coerce,
    and_,
    literal_column,
)


class ColumnCollection:
    """``table.c``: columns by key, in order; attribute and item access."""

    def __init__(self, columns: Iterable[ColumnElement]) -> None:
        self._cols: dict[str, ColumnElement] = {}
        for c in columns:
            self._cols[c.key or ""] = c

    def __getattr__(self, key: str) -> ColumnElement:
        try:
            col: ColumnElement = self.__dict__["_cols"][key]
            return col
        except KeyError:
            raise AttributeError(
                f"No column {key!r}; the columns are {', '.join(self._cols) or 'none'}"
            ) from None

    def get(self, key: str, default: Any = None) -> Any:
        """The column with this key, or ``default``."""
        return self._cols.get(key, default)

    def __getitem__(self, key: str | int) -> ColumnElement:
        if isinstance(key, int):
            return list(self._cols.values())[key]
        return self._cols[key]

    def __iter__(self) -> Any:
        return iter(self._cols.values())

    def __len__(self) -> int:
        return len(self._cols)

    def __contains__(self, key: object) -> bool:
        return key in self._cols

    def keys(self) -> list[str]:
        return list(self._cols)


def _join_target(target: Any, onclause: Any) -> tuple[Any, Any, Any]:
    """An ORM relationship attribute (``User.addresses``) names both the table to join
    and the ON clause; a many-to-many also names the table to join on the way
    (``via``: (secondary table, its ON clause), or None)."""
    relationship = getattr(target, "_sa_join_target", None)
    if relationship is not None:
        found = relationship()
        if onclause is not None:
            return found[0], onclause, None
        return found[0], found[1], found[2] if len(found) > 2 else None
    onclause_rel = getattr(onclause, "_sa_join_target", None)
    if onclause_rel is not None:  # join(Address, User.addresses)
        found = onclause_rel()
        return target, found[1], found[2] if len(found) > 2 else None
    return target, onclause, None


def _as_from(obj: Any) -> FromClause:
    """A FROM element: itself, or what an ORM entity (a mapped class) stands for."""
    if isinstance(obj, FromClause):
        return obj
    clause_element = getattr(obj, "__clause_element__", None)
    if clause_element is not None:
        element = clause_element()
        if isinstance(element, FromClause):
            return element
    raise exc.ArgumentError(
        f"Expected a table, alias, subquery or mapped class here, got {obj!r}; "
        "pass a Table, a mapped class, or select(...).subquery()"
    )


class FromClause(KeyedElement):
    """Something that can appear after FROM."""

    __visit_name__ = "fromclause"
    name: str = ""
    schema: str | None = None
    c: ColumnCollection

    @property
    def columns(self) -> ColumnCollection:
        return self.c

    def select(self) -> Select:
        return Select([self])

    def join(
        self, right: FromClause, onclause: Any = None, isouter: bool = False, full: bool = False
    ) -> Join:
        return Join(self, right, onclause, isouter=isouter, full=full)

    def outerjoin(self, right: FromClause, onclause: Any = None, full: bool = False) -> Join:
        return Join(self, right, onclause, isouter=True, full=full)

    def alias(self, name: str | None = None) -> Alias:
        return Alias(self, name)

    def _covers(self) -> list[FromClause]:
        """The FROM entries this one stands for (a join covers both of its sides)."""
        return [self]


class TableClause(FromClause):
    """A table known by name and the columns given (``table("t", column("a"))``)."""

    __visit_name__ = "table"
    _key_attrs = ("name", "schema")

    def __init__(self, name: str, *columns: ColumnClause, schema: str | None = None) -> None:
        self.name = name
        self.schema = schema
        cols = []
        for c in columns:
            c.table = self
            cols.append(c)
        self.c = ColumnCollection(cols)

    def __repr__(self) -> str:
        return f"table({self.name!r})"

    def _gen_key(self, binds: list[BindParameter]) -> tuple[Any, ...]:
        key = self.__dict__.get("_key_memo")  # a table's name and schema do not change
        if key is None:
            key = self.__dict__["_key_memo"] = super()._gen_key(binds)
        return key

    def insert(self) -> Any:
        from hermetic.sql.dml import insert

        return insert(self)

    def update(self) -> Any:
        from hermetic.sql.dml import update

        return update(self)

    def delete(self) -> Any:
        from hermetic.sql.dml import delete

        return delete(self)


class Join(FromClause):
    """``left [LEFT OUTER | FULL OUTER] JOIN right ON onclause``."""

    __visit_name__ = "join"
    _traverse = ("left", "right", "onclause")
    _key_attrs = ("isouter", "full")

    def __init__(
        self,
        left: FromClause,
        right: FromClause,
        onclause: Any = None,
        isouter: bool = False,
        full: bool = False,
    ) -> None:
        left = _as_from(left)
        right = _as_from(right)
        self.left = left
        self.right = right
        self.isouter = isouter
        self.full = full
        self.onclause = _coerce(onclause) if onclause is not None else _infer_onclause(left, right)
        self.c = ColumnCollection([*left.c, *right.c])

    def _covers(self) -> list[FromClause]:
        return [self, *self.left._covers(), *self.right._covers()]


def _infer_onclause(left: FromClause, right: FromClause) -> ColumnElement:
    """The join condition from foreign keys between the two sides (schema Tables)."""
    left_ids = {id(t) for t in left._covers()}
    # the left side's column first: users JOIN addresses ON users.id = addresses.user_id
    pairs: list[ColumnElement] = [
        fk.column == fk.parent
        for fk in getattr(right, "foreign_keys", ()) or ()
        if id(fk.column.table) in left_ids
    ]
    pairs.extend(
        fk.parent == fk.column
        for side in left._covers()
        for fk in getattr(side, "foreign_keys", ()) or ()
        if fk.column.table is right
    )
    if not pairs:
        raise exc.NoForeignKeysError(
            f"Can't find any foreign key relationships between {_name(left)!r} and "
            f"{_name(right)!r}; pass the ON clause: a.join(b, a.c.x == b.c.y)"
        )
    if len(pairs) > 1:
        raise exc.AmbiguousForeignKeysError(
            f"There are {len(pairs)} foreign keys between {_name(left)!r} and "
            f"{_name(right)!r}; pass the ON clause explicitly to choose one"
        )
    return pairs[0]


def _name(f: FromClause) -> str:
    return getattr(f, "name", None) or type(f).__name__


_anon_counter = itertools.count(1)


class Alias(FromClause):
    """A FROM element under another name (``t.alias("u")``, ``select.subquery()``)."""

    __visit_name__ = "alias"
    _traverse = ("element",)
    _key_attrs: ClassVar[tuple[str, ...]] = ("name",)

    def __init__(self, element: Any, name: str | None = None) -> None:
        self.element = element
        self.name = name or f"anon_{next(_anon_counter)}"
        source = element.c if isinstance(element, FromClause) else element.selected_columns
        self.c = ColumnCollection(_proxy(col, self) for col in source)


def _proxy(col: Any, selectable: FromClause) -> ColumnClause:
    """The column of an alias / subquery that stands for ``col``: a copy of a named
    column (its class too, so that ``alias.c.x == table.c.y`` keeps its operand order:
    Python lets a subclass on the right answer ``==`` first), else a column by key."""
    if isinstance(col, ColumnClause) and not col.is_literal:
        new: ColumnClause = col._copy()
        new.table = selectable
        new.__dict__.pop("_key_memo", None)
        return new
    return ColumnClause(col.key or "", col.type, _selectable=selectable)


class Subquery(Alias):
    __visit_name__ = "subquery"


class Lateral(Alias):
    """``LATERAL (SELECT ...) AS name``: a subquery that may refer to earlier FROMs."""

    __visit_name__ = "lateral"


class CTE(Alias):
    """A common table expression: ``WITH name AS (SELECT ...)``, used by name."""

    __visit_name__ = "cte"
    _key_attrs = ("name", "recursive")

    def __init__(self, element: Any, name: str | None = None, recursive: bool = False) -> None:
        super().__init__(element, name)
        self.recursive = recursive

    def union_all(self, *others: Select) -> CTE:
        """The recursive form: ``cte.union_all(select(...).where(... cte.c.x ...))``."""
        return self._compound("UNION ALL", others)

    def union(self, *others: Select) -> CTE:
        return self._compound("UNION", others)

    def _compound(self, keyword: str, others: tuple[Select, ...]) -> CTE:
        new = CTE(CompoundSelect(keyword, self.element, *others), self.name, self.recursive)
        # The recursive members already refer to this CTE's columns: they become the new
        # CTE's columns (same name, so the SQL is the same), and selecting from them
        # selects from the complete CTE.
        new.c = self.c
        for col in self.c:
            col.table = new
        return new


class _SelectWrapper(ColumnElement):
    """A value made of a SELECT (scalar subquery, EXISTS): the SELECT's WHERE and
    correlation stay adjustable, each call giving a new wrapper."""

    _traverse = ("element",)
    element: Select

    def _wrap(self, element: Select) -> Self:
        new: Self = self._copy()
        new.element = element
        return new

    def where(self, *criteria: Any) -> Self:
        return self._wrap(self.element.where(*criteria))

    def correlate(self, *fromclauses: Any) -> Self:
        return self._wrap(self.element.correlate(*fromclauses))

    def correlate_except(self, *fromclauses: Any) -> Self:
        return self._wrap(self.element.correlate_except(*fromclauses))


class ScalarSelect(_SelectWrapper):
    """``(SELECT ...)`` used as a value."""

    __visit_name__ = "scalar_select"

    def __init__(self, element: Select) -> None:
        self.element = element
        cols = element._raw_columns
        self.type = cols[0].type if cols else sqltypes.NULLTYPE


class Exists(_SelectWrapper):
    """``EXISTS (SELECT ...)``."""

    __visit_name__ = "exists"

    def __init__(self, element: Select) -> None:
        self.element = element
        self.type = sqltypes.Boolean()

    def select_from(self, *froms: FromClause) -> Exists:
        return self._wrap(self.element.select_from(*froms))

    def select(self) -> Select:
        """``SELECT EXISTS (...)``."""
        return Select([self])


def exists(*args: Any) -> Exists:
    """``exists(select(...))``, or ``exists(col, ...)`` for ``EXISTS (SELECT col ...)``."""
    if len(args) == 1 and isinstance(args[0], Select):
        return Exists(args[0])
    return Exists(Select(args or (literal_column("*"),)))


def table(name: str, *columns: ColumnClause, schema: str | None = None) -> TableClause:
    return TableClause(name, *columns, schema=schema)


class SelectBase(Executable, KeyedElement):
    """What SELECT and compound SELECTs share: ordering, limits, naming as a FROM
    element, compilation. Subclasses provide ``_generate()`` (a copy to modify)."""

    _is_textual = False
    _order_by: list[ColumnElement]
    _limit: ColumnElement | None
    _offset: ColumnElement | None
    # FETCH FIRST: the row count and (with_ties, percent); exclusive with LIMIT
    _fetch: ColumnElement | None = None
    _fetch_options: tuple[bool, bool] | None = None

    def _generate(self) -> Self:
        raise NotImplementedError

    def order_by(self, *clauses: Any) -> Self:
        new = self._generate()
        if len(clauses) == 1 and clauses[0] is None:
            new._order_by = []
        else:
            new._order_by.extend(_by(c) for c in clauses)
        return new

    def limit(self, limit: Any) -> Self:
        """``LIMIT n`` (``None`` removes it); replaces a ``fetch()``."""
        new = self._generate()
        new._limit = _row_count(limit, "limit")
        new._fetch = new._fetch_options = None
        return new

    def offset(self, offset: Any) -> Self:
        """``OFFSET n`` (``None`` removes it)."""
        new = self._generate()
        new._offset = _row_count(offset, "offset")
        return new

    def fetch(self, count: Any, with_ties: bool = False, percent: bool = False) -> Self:
        """``FETCH FIRST count [PERCENT] ROWS ONLY | WITH TIES`` (SQL standard;
        ``None`` removes it); replaces a ``limit()``. With ``offset()`` it renders
        ``OFFSET n ROWS FETCH FIRST ...``. A database without FETCH gets ``LIMIT`` when
        neither option is set, and a CompileError when one is (see the dialect flags
        ``supports_fetch_first`` / ``supports_fetch_percent``)."""
        new = self._generate()
        new._fetch = _row_count(count, "fetch")
        new._fetch_options = None if new._fetch is None else (bool(with_ties), bool(percent))
        new._limit = None
        return new

    def subquery(self, name: str | None = None) -> Subquery:
        return Subquery(self, name)

    def cte(self, name: str | None = None, recursive: bool = False) -> CTE:
        return CTE(self, name, recursive)

    def lateral(self, name: str | None = None) -> Lateral:
        return Lateral(self, name)

    @property
    def _cache_key(self) -> Any:
        return self._key_and_binds()[0]

    def _compile_for(self, dialect: Any) -> Any:
        from hermetic.sql.compiler import SQLCompiler

        return SQLCompiler(dialect).compile_statement(self)

    def __str__(self) -> str:
        from hermetic.sql.compiler import generic_string

        return generic_string(self)


class Select(SelectBase):
    """``SELECT ...``: generative; every method returns a new statement."""

    __visit_name__ = "select"
    _traverse = (
        "_raw_columns",
        "_from_obj",
        "_where",
        "_group_by",
        "_having",
        "_order_by",
        "_limit",
        "_offset",
        "_fetch",
        "_distinct_on",
        "_for_update_of",
        "_correlate",
        "_correlate_except",
    )
    _key_attrs = ("_distinct", "_for_update", "_fetch_options", "_auto_correlate")

    def __init__(self, entities: Iterable[Any] = ()) -> None:
        self._raw_columns: list[Any] = []
        self._from_obj: list[FromClause] = []
        self._where: list[ColumnElement] = []
        self._group_by: list[ColumnElement] = []
        self._having: list[ColumnElement] = []
        self._order_by: list[ColumnElement] = []
        self._limit: BindParameter | None = None
        self._offset: BindParameter | None = None
        self._distinct = False
        self._distinct_on: list[ColumnElement] = []
        # (read, nowait, skip_locked, key_share) or None
        self._for_update: tuple[bool, bool, bool, bool] | None = None
        self._for_update_of: list[Any] = []
        # correlation (see the module docstring): explicit targets, the exceptions of
        # correlate_except() (None: not used) and whether auto-correlation applies
        self._correlate: list[FromClause] = []
        self._correlate_except: list[FromClause] | None = None
        self._auto_correlate = True
        self._raw_entities: tuple[tuple[Any, int, int], ...] = ()
        for e in entities:
            orm_entity = getattr(e, "_sa_select_entity", None)
            if orm_entity is not None:  # a mapped class: its columns, FROM and criteria
                start = len(self._raw_columns)
                columns, from_, criteria = orm_entity()
                self._raw_columns.extend(columns)
                if from_ is not None and from_ not in self._from_obj:
                    self._from_obj.append(from_)
                if criteria is not None:
                    self._where.append(criteria)
                self._raw_entities += ((e, start, len(self._raw_columns)),)
                continue
            clause_element = getattr(e, "__clause_element__", None)
            if clause_element is not None:  # ORM attributes: kept for the ORM
                start = len(self._raw_columns)
                e_el = clause_element()
                if isinstance(e_el, FromClause):
                    self._raw_columns.extend(e_el.c)
                else:
                    self._raw_columns.append(e_el)
                self._raw_entities += ((e, start, len(self._raw_columns)),)
                # an inheriting class's attribute brings its class's FROM (joined
                # inheritance) and criteria (single-table inheritance)
                extras = getattr(e, "_sa_select_extras", None)
                if extras is not None:
                    from_, criteria = extras()
                    if from_ is not None and from_ not in self._from_obj:
                        self._from_obj.append(from_)
                    if criteria is not None and not any(c is criteria for c in self._where):
                        self._where.append(criteria)
            elif isinstance(e, FromClause):
                self._raw_columns.extend(e.c)
            elif isinstance(e, ColumnElement):
                self._raw_columns.append(e)
            else:
                raise exc.ArgumentError(
                    f"select() takes columns, tables or SQL expressions, got {e!r}; wrap "
                    "literal values in literal() and SQL text in literal_column() or text()"
                )

    def _generate(self) -> Select:
        new = Select.__new__(Select)
        # (one local dict, lists copied by slicing: this runs for every .where() of a
        # statement built per execution)
        d = self.__dict__.copy()
        d.pop("_compiled_cache", None)
        for attr in (
            "_raw_columns",
            "_from_obj",
            "_where",
            "_group_by",
            "_having",
            "_order_by",
            "_distinct_on",
            "_for_update_of",
            "_correlate",
        ):
            d[attr] = d[attr][:]
        new.__dict__ = d
        return new

    @property
    def selected_columns(self) -> ColumnCollection:
        return ColumnCollection(self._raw_columns)

    def where(self, *criteria: Any) -> Select:
        new = self._generate()
        new._where.extend(_coerce(c) for c in criteria)
        return new

    filter = where

    def filter_by(self, **kwargs: Any) -> Select:
        """``where(entity.key == value, ...)`` against the last joined table, or the
        first entity selected (a mapped class's attributes, a table's columns)."""
        target: Any = None
        if self._from_obj and isinstance(self._from_obj[-1], Join):
            target = self._from_obj[-1].right
            target = getattr(target, "_orm_entity", None) or target
        elif self._raw_entities:
            target = self._raw_entities[0][0]
            # an ORM attribute (select(User.id)) stands for its entity
            target = getattr(target, "_sa_filter_by_target", None) or target
        elif self._from_obj:
            target = self._from_obj[0]
        else:
            froms = self._froms()
            target = froms[0] if froms else None
        criteria = []
        for key, value in kwargs.items():
            if isinstance(target, FromClause):
                if key not in target.c:
                    raise exc.InvalidRequestError(
                        f"filter_by(): {getattr(target, 'name', target)!r} has no column {key!r}"
                    )
                attr: Any = target.c[key]
            else:
                attr = getattr(target, key, None)
                if attr is None or not hasattr(attr, "__clause_element__"):
                    raise exc.InvalidRequestError(
                        f"filter_by(): entity {getattr(target, '__name__', target)!r} has no "
                        f"property {key!r}"
                    )
            criteria.append(attr == value)
        return self.where(*criteria)

    def options(self, *options: Any) -> Select:
        """ORM loader options (``selectinload(User.orders)``, ...)."""
        new = self._generate()
        new.__dict__["_with_options"] = (*self.__dict__.get("_with_options", ()), *options)
        return new

    def select_from(self, *froms: FromClause) -> Select:
        new = self._generate()
        new._from_obj.extend(_as_from(f) for f in froms)
        return new

    def group_by(self, *clauses: Any) -> Select:
        new = self._generate()
        new._group_by.extend(_by(c) for c in clauses)
        return new

    def having(self, *criteria: Any) -> Select:
        new = self._generate()
        new._having.extend(_coerce(c) for c in criteria)
        return new

    def distinct(self, *on: Any) -> Select:
        """``SELECT DISTINCT``; with expressions, PostgreSQL's ``DISTINCT ON (...)``."""
        new = self._generate()
        new._distinct = True
        new._distinct_on = [*self._distinct_on, *(_coerce(e) for e in on)]
        return new

    def with_for_update(
        self,
        *,
        nowait: bool = False,
        read: bool = False,
        of: Any = None,
        skip_locked: bool = False,
        key_share: bool = False,
    ) -> Select:
        """``FOR UPDATE`` / ``FOR SHARE`` row locks (rendered where the database has
        them; SQLite locks the whole database and renders nothing)."""
        new = self._generate()
        new._for_update = (read, nowait, skip_locked, key_share)
        targets = of if isinstance(of, (list, tuple)) else ([of] if of is not None else [])
        new._for_update_of = list(targets)
        return new

    def correlate(self, *fromclauses: Any) -> Select:
        """Correlate these FROM entries to an enclosing statement (at any level) when
        this SELECT is nested; ``correlate(None)`` turns correlation off, auto-correlation
        included. Either way auto-correlation no longer applies."""
        new = self._generate()
        new._auto_correlate = False
        if not fromclauses or fromclauses[0] is None or fromclauses[0] is False:
            if len(fromclauses) > 1:
                raise exc.ArgumentError(
                    "correlate(None) turns correlation off and takes no other arguments; "
                    "pass the tables to correlate instead"
                )
            new._correlate = []
        else:
            new._correlate.extend(_from_arg(f, "correlate") for f in fromclauses)
        return new

    def correlate_except(self, *fromclauses: Any) -> Select:
        """Correlate every FROM entry an enclosing statement provides except these;
        ``correlate_except(None)`` correlates all of them."""
        new = self._generate()
        new._auto_correlate = False
        if not fromclauses or fromclauses[0] is None or fromclauses[0] is False:
            if len(fromclauses) > 1:
                raise exc.ArgumentError(
                    "correlate_except(None) takes no other arguments; pass only the "
                    "tables to leave uncorrelated"
                )
            new._correlate_except = list(self._correlate_except or ())
        else:
            new._correlate_except = [
                *(self._correlate_except or ()),
                *(_from_arg(f, "correlate_except") for f in fromclauses),
            ]
        return new

    def union(self, *others: Select) -> CompoundSelect:
        return CompoundSelect("UNION", self, *others)

    def union_all(self, *others: Select) -> CompoundSelect:
        return CompoundSelect("UNION ALL", self, *others)

    def intersect(self, *others: Select) -> CompoundSelect:
        return CompoundSelect("INTERSECT", self, *others)

    def except_(self, *others: Select) -> CompoundSelect:
        return CompoundSelect("EXCEPT", self, *others)

    def add_columns(self, *entities: Any) -> Select:
        new = self._generate()
        added = Select(entities)
        offset = len(new._raw_columns)
        new._raw_entities = self._raw_entities + tuple(
            (e, start + offset, stop + offset) for e, start, stop in added._raw_entities
        )
        new._raw_columns.extend(added._raw_columns)
        for from_ in added._from_obj:  # mapped entities' FROMs and criteria
            if from_ not in new._from_obj:
                new._from_obj.append(from_)
        for criteria in added._where:
            if not any(c is criteria for c in new._where):
                new._where.append(criteria)
        return new

    def with_only_columns(self, *entities: Any) -> Select:
        new = self._generate()
        only = Select(entities)
        new._raw_columns = only._raw_columns
        new._raw_entities = only._raw_entities
        return new

    def join(
        self, target: FromClause, onclause: Any = None, *, isouter: bool = False, full: bool = False
    ) -> Select:
        """Join ``target`` to the last FROM (the leftmost table selected, or the last join)."""
        target, onclause, via = _join_target(target, onclause)
        new = self._generate()
        if new._from_obj:
            left = new._from_obj.pop()
        else:
            froms = self._froms()
            if not froms:
                raise exc.InvalidRequestError(
                    "Nothing to join from: select some columns first, or use join_from()"
                )
            left = froms[0]
        if via is not None:
            left = Join(left, via[0], via[1], isouter, full)
        new._from_obj.append(Join(left, target, onclause, isouter, full))
        return new

    def outerjoin(self, target: FromClause, onclause: Any = None, *, full: bool = False) -> Select:
        return self.join(target, onclause, isouter=True, full=full)

    def join_from(
        self,
        left: FromClause,
        right: FromClause,
        onclause: Any = None,
        *,
        isouter: bool = False,
        full: bool = False,
    ) -> Select:
        right, onclause, via = _join_target(right, onclause)
        new = self._generate()
        if via is not None:
            left = Join(left, via[0], via[1], isouter, full)
        new._from_obj.append(Join(left, right, onclause, isouter, full))
        return new

    def alias(self, name: str | None = None) -> Subquery:
        return Subquery(self, name)

    def scalar_subquery(self) -> ScalarSelect:
        return ScalarSelect(self)

    def exists(self) -> Exists:
        return Exists(self)

    def label(self, name: str) -> ColumnElement:
        return ScalarSelect(self).label(name)

    @property
    def whereclause(self) -> ColumnElement | None:
        return and_(*self._where) if self._where else None

    def _froms(self) -> list[FromClause]:
        """Explicit FROMs, then the tables of the columns and criteria, in order of
        first appearance, each once."""
        seen: dict[int, FromClause] = {}
        covered: set[int] = set()
        for f in self._from_obj:
            seen.setdefault(id(f), f)
            covered.update(id(c) for c in f._covers()[1:])
        for group in (self._raw_columns, self._where, self._group_by, self._having, self._order_by):
            for elem in group:
                for t in _tables_of(elem):
                    seen.setdefault(id(t), t)
        return [f for i, f in seen.items() if i not in covered]


class CompoundSelect(SelectBase):
    """``SELECT ... UNION [ALL] | INTERSECT | EXCEPT SELECT ...``."""

    __visit_name__ = "compound_select"
    _traverse = ("selects", "_order_by", "_limit", "_offset", "_fetch")
    _key_attrs = ("keyword", "_fetch_options")

    def __init__(self, keyword: str, *selects: Any) -> None:
        self.keyword = keyword
        self.selects = list(selects)
        self._order_by: list[ColumnElement] = []
        self._limit: ColumnElement | None = None
        self._offset: ColumnElement | None = None

    def _generate(self) -> CompoundSelect:
        new = CompoundSelect.__new__(CompoundSelect)
        new.__dict__ = self.__dict__.copy()
        new.__dict__.pop("_compiled_cache", None)
        new._order_by = list(self._order_by)
        return new

    @property
    def selected_columns(self) -> ColumnCollection:
        return self.selects[0].selected_columns  # type: ignore[no-any-return]

    def _froms(self) -> list[FromClause]:
        return []


def union(*selects: Select) -> CompoundSelect:
    return CompoundSelect("UNION", *selects)


def union_all(*selects: Select) -> CompoundSelect:
    return CompoundSelect("UNION ALL", *selects)


def intersect(*selects: Select) -> CompoundSelect:
    return CompoundSelect("INTERSECT", *selects)


def except_(*selects: Select) -> CompoundSelect:
    return CompoundSelect("EXCEPT", *selects)


def _by(value: Any) -> ColumnElement:
    """An ORDER BY / GROUP BY entry: a string names a label or column of the SELECT
    (``order_by("n")`` is ``ORDER BY n``), anything else is an expression."""
    if isinstance(value, str):
        return ColumnClause(value)
    return _coerce(value)


def _row_count(value: Any, method: str) -> ColumnElement | None:
    """The bound row count of limit() / offset() / fetch(): an int, or an SQL
    expression (``bindparam("n")``) as given."""
    if value is None:
        return None
    if isinstance(value, ColumnElement):
        return value
    if isinstance(value, bool) or not isinstance(value, int):
        try:
            value = int(value)
        except (TypeError, ValueError):
            raise exc.ArgumentError(
                f"{method}() takes an int, an SQL expression or None, got {value!r}"
            ) from None
    return BindParameter("param", value, type_=sqltypes.Integer(), unique=True)


def _from_arg(value: Any, method: str) -> FromClause:
    try:
        return _as_from(value)
    except exc.ArgumentError:
        raise exc.ArgumentError(
            f"{method}() takes tables, aliases, subqueries or mapped classes (FROM "
            f"entries), got {value!r}"
        ) from None


def _tables_of(elem: Any) -> Iterable[FromClause]:
    if isinstance(elem, ColumnClause):
        if elem.table is not None:
            yield elem.table
        return
    if isinstance(elem, (ScalarSelect, Exists)):
        return  # a nested SELECT has its own FROM
    for attr in getattr(elem, "_traverse", ()):
        child = getattr(elem, attr)
        if child is None:
            continue
        if isinstance(child, (list, tuple)):
            for c in child:
                yield from _tables_of(c)
        else:
            yield from _tables_of(child)


def select(*entities: Any) -> Select:
    """``SELECT`` of columns, tables or expressions."""
    return Select(entities)


__all__ = [
    "CTE",
    "Alias",
    "CompoundSelect",
    "except_",
    "intersect",
    "union",
    "union_all",
    "ColumnCollection",
    "Exists",
    "FromClause",
    "Join",
    "ScalarSelect",
    "Select",
    "Subquery",
    "TableClause",
    "exists",
    "ops",
    "select",
    "table",
]
