"""The legacy ``session.query(User)`` API, built on ``select()``.

Every Query method makes a new Query around a new Select; running it goes through
``session.execute``, so caching, autoflush and the identity map behave exactly as for
2.0-style statements.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.orm.loading import _entity_mapper
from hermetic.sql.functions import func
from hermetic.sql.selectable import Select

if TYPE_CHECKING:
    from hermetic.orm.session import Session


class Query:
    """``session.query(User).filter(...).order_by(...).all()``."""

    def __init__(self, entities: Any, session: Session | None = None) -> None:
        if not isinstance(entities, (list, tuple)):
            entities = (entities,)
        self.session = session
        self._entities = tuple(entities)
        self._stmt = Select(self._entities)
        self._opts: dict[str, Any] = {}
        self._params: dict[str, Any] = {}

    def _new(self, stmt: Select, **opts: Any) -> Query:
        q = Query.__new__(type(self))
        q.__dict__.update(self.__dict__)
        q._stmt = stmt
        if opts:
            q._opts = {**self._opts, **opts}
        return q

    def _sess(self) -> Session:
        if self.session is None:
            raise exc.InvalidRequestError(
                "This Query is not bound to a Session; use session.query(...) or "
                "query.with_session(session)"
            )
        return self.session

    def with_session(self, session: Session) -> Query:
        q = self._new(self._stmt)
        q.session = session
        return q

    # -- building ---------------------------------------------------------------------
    def filter(self, *criteria: Any) -> Query:
        return self._new(self._stmt.where(*criteria))

    where = filter  # noqa: A003

    def filter_by(self, **kw: Any) -> Query:
        return self._new(self._stmt.filter_by(**kw))

    def order_by(self, *clauses: Any) -> Query:
        if len(clauses) == 1 and clauses[0] is None:
            stmt = self._stmt._generate()
            stmt._order_by = []
            return self._new(stmt)
        return self._new(self._stmt.order_by(*clauses))

    def group_by(self, *clauses: Any) -> Query:
        return self._new(self._stmt.group_by(*clauses))

    def having(self, *criteria: Any) -> Query:
        return self._new(self._stmt.having(*criteria))

    def limit(self, n: Any) -> Query:
        return self._new(self._stmt.limit(n))

    def offset(self, n: Any) -> Query:
        return self._new(self._stmt.offset(n))

    def slice(self, start: int, stop: int) -> Query:
        return self._new(self._stmt.offset(start).limit(max(0, stop - start)))

    def distinct(self, *expr: Any) -> Query:
        return self._new(self._stmt.distinct(*expr))

    def join(
        self, target: Any, onclause: Any = None, *, isouter: bool = False, full: bool = False
    ) -> Query:
        return self._new(self._stmt.join(target, onclause, isouter=isouter, full=full))

    def outerjoin(self, target: Any, onclause: Any = None, *, full: bool = False) -> Query:
        return self._new(self._stmt.outerjoin(target, onclause, full=full))

    def select_from(self, *froms: Any) -> Query:
        return self._new(self._stmt.select_from(*froms))

    def options(self, *options: Any) -> Query:
        return self._new(self._stmt.options(*options))

    def with_for_update(self, **kw: Any) -> Query:
        return self._new(self._stmt.with_for_update(**kw))

    def add_columns(self, *cols: Any) -> Query:
        q = self._new(self._stmt.add_columns(*cols))
        q._entities = (*self._entities, *cols)
        return q

    add_column = add_columns

    def add_entity(self, entity: Any) -> Query:
        return self.add_columns(entity)

    def with_entities(self, *entities: Any) -> Query:
        q = self._new(self._stmt.with_only_columns(*entities))
        q._entities = tuple(entities)
        return q

    def populate_existing(self) -> Query:
        return self._new(self._stmt, populate_existing=True)

    def execution_options(self, **opts: Any) -> Query:
        return self._new(self._stmt, **opts)

    def yield_per(self, count: int) -> Query:
        return self._new(self._stmt, yield_per=count)

    def params(self, *args: Any, **kw: Any) -> Query:
        q = self._new(self._stmt)
        q._params = {**self._params, **(args[0] if args else {}), **kw}
        return q

    def enable_assertions(self, value: bool) -> Query:
        return self

    def autoflush(self, setting: bool) -> Query:
        return self._new(self._stmt, autoflush=setting)

    def correlate(self, *froms: Any) -> Query:
        return self._new(self._stmt.correlate(*froms))

    # -- SQL forms --------------------------------------------------------------------
    @property
    def statement(self) -> Select:
        return self._stmt

    def subquery(self, name: str | None = None, **kw: Any) -> Any:
        return self._stmt.subquery(name)

    def cte(self, name: str | None = None, recursive: bool = False) -> Any:
        return self._stmt.cte(name, recursive=recursive)

    def scalar_subquery(self) -> Any:
        return self._stmt.scalar_subquery()

    def exists(self) -> Any:
        return self._stmt.exists()

    def label(self, name: str) -> Any:
        return self._stmt.label(name)

    def __str__(self) -> str:
        return str(self._stmt)

    # -- running ---------------------------------------------------------------------
    def _single_entity(self) -> bool:
        return len(self._entities) == 1 and _entity_mapper(self._entities[0]) is not None

    def _execute(self) -> Any:
        return self._sess().execute(
            self._stmt, self._params or None, execution_options=self._opts or None
        )

    def _result(self) -> Any:
        result = self._execute()
        if getattr(result, "_needs_unique", False):
            result = result.unique()  # the legacy Query de-duplicates joined eager rows
        if self._single_entity():
            return result.scalars()
        if len(self._entities) == 1 and not hasattr(self._entities[0], "__mapper__"):
            return result
        return result

    def all(self) -> list[Any]:
        return list(self._result().all())

    def __iter__(self) -> Iterator[Any]:
        return iter(self._result())

    def first(self) -> Any:
        return self.limit(1)._result().first()

    def one(self) -> Any:
        return self._result().one()

    def one_or_none(self) -> Any:
        return self._result().one_or_none()

    def scalar(self) -> Any:
        row = self._execute().one_or_none()
        if row is None:
            return None
        return row[0]

    def count(self) -> int:
        stmt = Select([func.count()]).select_from(self._stmt.subquery())
        return int(self._sess().execute(stmt, self._params or None).scalar() or 0)

    def get(self, ident: Any) -> Any:
        return self._sess().get(self._entities[0], ident)

    def update(
        self, values: dict[Any, Any], synchronize_session: Any = "auto", update_args: Any = None
    ) -> int:
        from hermetic.sql.dml import update

        mapper = _entity_mapper(self._entities[0])
        if mapper is None:
            raise exc.InvalidRequestError(
                "Query.update() needs a query of one mapped class (session.query(User)); "
                "for columns or several entities use session.execute(update(User).where(...))"
            )
        stmt = update(mapper.class_).values(
            {(getattr(mapper.class_, k) if isinstance(k, str) else k): v for k, v in values.items()}
        )
        if self._stmt._where:
            stmt = stmt.where(*self._stmt._where)
        result = self._sess().execute(
            stmt, execution_options={"synchronize_session": synchronize_session}
        )
        return int(result.rowcount)

    def delete(self, synchronize_session: Any = "auto", delete_args: Any = None) -> int:
        from hermetic.sql.dml import delete

        mapper = _entity_mapper(self._entities[0])
        if mapper is None:
            raise exc.InvalidRequestError(
                "Query.delete() needs a query of one mapped class (session.query(User)); "
                "for columns or several entities use session.execute(delete(User).where(...))"
            )
        stmt = delete(mapper.class_)
        if self._stmt._where:
            stmt = stmt.where(*self._stmt._where)
        result = self._sess().execute(
            stmt, execution_options={"synchronize_session": synchronize_session}
        )
        return int(result.rowcount)

    def __getitem__(self, item: Any) -> Any:
        if isinstance(item, slice):
            start = item.start or 0
            if item.stop is None:
                return list(self.offset(start))
            return list(self.slice(start, item.stop))
        return next(iter(self.offset(item).limit(1)))
