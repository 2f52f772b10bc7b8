"""``lazy="write_only"`` (``WriteOnlyMapped``) and ``lazy="dynamic"`` (``DynamicMapped``)
relationships: the attribute is a handle, never a loaded collection.

* write-only: ``add()`` / ``add_all()`` / ``remove()`` record pending changes that the
  next flush applies (foreign keys set or cleared, association rows inserted or
  deleted); ``select()`` (and ``insert()``/``update()``/``delete()``) build statements
  for the members; iterating it is an error.
* dynamic: the same, plus the legacy ``Query`` interface (``filter()``, ``order_by()``,
  ``count()``, ``all()``, indexing, iteration), each call a new SQL query; ``append()``
  / ``extend()`` / ``remove()`` as on a list.

Pending changes live in the parent's ``__dict__`` under ``_sa_wo_<key>`` as
``[added, removed]`` until the flush (``dependency.py``) applies and clears them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic.orm.attributes import AttributeImpl
from hermetic.orm.state import STATE_ATTR, instance_state

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper


def pending_key(key: str) -> str:
    return f"_sa_wo_{key}"


def pending_changes(obj: Any, key: str) -> list[list[Any]] | None:
    """``[added, removed]`` not yet flushed for relationship ``key`` of ``obj``."""
    return obj.__dict__.get(pending_key(key))  # type: ignore[no-any-return]


class WriteOnlyCollection:
    """``user.events`` of a write-only relationship: ``add``/``add_all``/``remove`` and
    ``select()`` (the statement that loads the members)."""

    def __init__(self, obj: Any, prop: Any) -> None:
        self._obj = obj
        self._prop = prop

    def _session(self) -> Any:
        return instance_state(self._obj).session

    def _criteria(self) -> Any:
        from hermetic.orm.util import with_parent

        return with_parent(self._obj, self._prop)

    def select(self) -> Any:
        """``SELECT`` of the members (add ``.where()``, ``.limit()``... and execute)."""
        from hermetic.sql.selectable import Select

        prop = self._prop
        stmt = Select([prop.mapper.class_]).where(self._criteria())
        if prop.order_by:
            stmt = stmt.order_by(*prop.order_by)
        return stmt

    def insert(self) -> Any:
        """``INSERT`` into the target table with the parent's foreign key filled in."""
        from hermetic.orm.relationships import MANYTOMANY, _value_of
        from hermetic.sql.dml import insert

        prop = self._prop
        if prop.direction == MANYTOMANY:
            raise exc.InvalidRequestError(
                f"{prop}.insert(): a many-to-many needs association rows; use add()"
            )
        d = self._obj.__dict__
        values = {
            rem.key: _value_of(prop.parent, self._obj, d, loc)
            for loc, rem in prop.local_remote_pairs
        }
        return insert(prop.mapper.class_).values(**values)

    def update(self) -> Any:
        from hermetic.sql.dml import update

        return update(self._prop.mapper.class_).where(self._criteria())

    def delete(self) -> Any:
        from hermetic.sql.dml import delete

        return delete(self._prop.mapper.class_).where(self._criteria())

    def _pending(self) -> list[list[Any]]:
        d = self._obj.__dict__
        key = pending_key(self._prop.key)
        found = d.get(key)
        if found is None:
            found = d[key] = [[], []]
        return found  # type: ignore[no-any-return]

    def _touch(self) -> None:
        state = self._obj.__dict__.get(STATE_ATTR) or instance_state(self._obj)
        if state.key is None:
            return
        session = state.session
        if session is not None:
            state.modified = True
            session._modified[state] = self._obj

    def add(self, item: Any) -> None:
        self.add_all([item])

    def add_all(self, items: Iterable[Any]) -> None:
        from hermetic.orm.relationships import _cascade_into_session, _reverse_add

        added, removed = self._pending()
        prop = self._prop
        parent_state = self._obj.__dict__.get(STATE_ATTR) or instance_state(self._obj)
        for item in list(items):
            if any(r is item for r in removed):
                removed[:] = [r for r in removed if r is not item]
            elif not any(a is item for a in added):
                added.append(item)
            if prop._reverse is not None and not prop.viewonly:
                _reverse_add(prop._reverse, item, self._obj)
            if "save-update" in prop.cascade:
                _cascade_into_session(parent_state, item)
        self._touch()

    def remove(self, item: Any) -> None:
        from hermetic.orm.relationships import _expunge_pending_orphan, _reverse_remove

        added, removed = self._pending()
        prop = self._prop
        if any(a is item for a in added):
            added[:] = [a for a in added if a is not item]
        else:
            removed.append(item)
        if prop._reverse is not None and not prop.viewonly:
            _reverse_remove(prop._reverse, item, self._obj)
        if "delete-orphan" in prop.cascade:
            _expunge_pending_orphan(self._obj, item)
        self._touch()

    def __iter__(self) -> Iterator[Any]:
        raise TypeError(
            f"{self._prop} is write-only: it cannot be iterated or loaded; run "
            f"session.scalars(obj.{self._prop.key}.select()) to read its members"
        )

    def __repr__(self) -> str:
        return f"<WriteOnlyCollection {self._prop}>"


class AppenderQuery(WriteOnlyCollection):
    """``user.notes`` of a ``lazy="dynamic"`` relationship: a legacy ``Query`` of the
    members that also appends and removes."""

    def _query(self) -> Any:
        session = self._session()
        if session is None:
            raise exc.InvalidRequestError(
                f"{self._prop}: the parent object is not in a Session, so its dynamic "
                f"collection cannot be queried; add it to a Session first"
            )
        from hermetic.orm.query import Query

        q = Query(self._prop.mapper.class_, session)
        return q._new(self.select())

    def append(self, item: Any) -> None:
        self.add_all([item])

    def extend(self, items: Iterable[Any]) -> None:
        self.add_all(items)

    def __iter__(self) -> Iterator[Any]:
        if self._session() is None:  # transient/pending parent: what was added
            pending = pending_changes(self._obj, self._prop.key)
            return iter(list(pending[0]) if pending else [])
        return iter(self._query().all())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, index: Any) -> Any:
        return self._query()[index]

    def all(self) -> list[Any]:
        return list(self)

    def count(self) -> int:
        if self._session() is None:
            return len(list(self))
        return int(self._query().count())

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._query(), name)

    def __repr__(self) -> str:
        return f"<AppenderQuery {self._prop}>"


class WriteOnlyImpl(AttributeImpl):
    __slots__ = ("prop",)

    def __init__(self, mapper: Mapper, key: str, prop: Any) -> None:
        super().__init__(mapper, key)
        self.prop = prop

    def load(self, obj: Any) -> Any:
        if self.prop.lazy == "dynamic":
            return AppenderQuery(obj, self.prop)
        return WriteOnlyCollection(obj, self.prop)

    def set(self, obj: Any, value: Any) -> None:
        state = obj.__dict__.get(STATE_ATTR) or instance_state(obj)
        if state.key is not None:
            raise exc.InvalidRequestError(
                f"{self.prop} is {self.prop.lazy.replace('_', '-')}: a collection can be "
                f"assigned only to a new object; use .add()/.remove() on persistent ones"
            )
        WriteOnlyCollection(obj, self.prop).add_all(list(value))
