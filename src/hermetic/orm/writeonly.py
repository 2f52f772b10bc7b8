"""``lazy="write_only"`` (``WriteOnlyMapped``) and ``lazy="dynamic"`` relationships: the
attribute is a handle that adds/removes members and builds queries, never a loaded
collection."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.orm.attributes import AttributeImpl
from hermetic.orm.state import STATE_ATTR, instance_state

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper


class WriteOnlyCollection:
    """``user.orders`` of a write-only relationship: ``add``/``add_all``/``remove`` and
    ``select()`` (the statement that loads the members)."""

    def __init__(self, obj: Any, prop: Any) -> None:
        self._obj = obj
        self._prop = prop

    def _session(self) -> Any:
        state = instance_state(self._obj)
        return state.session

    def select(self) -> Any:
        from hermetic.orm.util import with_parent
        from hermetic.sql.selectable import Select

        stmt = Select([self._prop.mapper.class_]).where(with_parent(self._obj, self._prop))
        if self._prop.order_by:
            stmt = stmt.order_by(*self._prop.order_by)
        return stmt

    def add(self, item: Any) -> None:
        self.add_all([item])

    def add_all(self, items: Any) -> None:
        pending = self._obj.__dict__.setdefault(f"_sa_wo_{self._prop.key}", [[], []])
        for item in items:
            pending[0].append(item)
            reverse = self._prop._reverse
            if reverse is not None and not reverse.uselist:
                item.__dict__[reverse.key] = self._obj
        state = instance_state(self._obj)
        session = state.session
        if session is not None:
            for item in items:
                session.add(item)
            session._modified[state] = self._obj

    def remove(self, item: Any) -> None:
        pending = self._obj.__dict__.setdefault(f"_sa_wo_{self._prop.key}", [[], []])
        pending[1].append(item)

    # dynamic relationships also iterate / filter like a Query
    def __iter__(self) -> Any:
        if self._prop.lazy != "dynamic":
            raise TypeError(
                f"{self._prop} is write-only: it cannot be iterated; run "
                f"session.scalars({self._prop.key}.select()) to read it"
            )
        session = self._session()
        if session is None:
            raise exc.InvalidRequestError(f"{self._prop}: the parent object is not in a Session")
        return iter(session.scalars(self.select()).all())

    def all(self) -> list[Any]:
        return list(self.__iter__())

    def filter(self, *criteria: Any) -> Any:
        session = self._session()
        return session.query(self._prop.mapper.class_).filter(self.select().whereclause, *criteria)

    def count(self) -> int:
        return len(self.all())


class WriteOnlyImpl(AttributeImpl):
    __slots__ = ("prop",)

    def __init__(self, mapper: Mapper, key: str, prop: Any) -> None:
        super().__init__(mapper, key)
        self.prop = prop

    def load(self, obj: Any) -> Any:
        return WriteOnlyCollection(obj, self.prop)

    def set(self, obj: Any, value: Any) -> None:
        state = obj.__dict__.get(STATE_ATTR) or instance_state(obj)
        if state.key is not None:
            raise exc.InvalidRequestError(
                f"{self.prop} is write-only: assign a collection only to new objects; use "
                f".add()/.remove() on persistent ones"
            )
        WriteOnlyCollection(obj, self.prop).add_all(list(value))
