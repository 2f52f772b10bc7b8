"""Per-object ORM state and the session's identity map.

An instance's loaded column values live in its own ``__dict__`` (so reading a loaded
attribute is a plain attribute read); everything the ORM knows about it beyond its
values lives in one :class:`InstanceState`, stored under ``_sa_instance_state`` in the
same dict. The state refers back to the object through a weak reference only, so an
object, its dict and its state form no reference cycle and are freed by reference
counting alone (the garbage collector is what makes loading large results slow
elsewhere).

The identity map holds states by identity key. It does not keep objects alive: an
object nobody references any more drops out of it (unless it has changes waiting for
a flush, which the session holds strongly until then). Dead entries are pruned lazily,
on lookup and when the map has grown, so loading a row costs one weak reference and
no callback.
"""

from __future__ import annotations

import builtins
import weakref
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from hermetic.orm import exc as orm_exc

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper
    from hermetic.orm.session import Session

#: (class, primary key tuple, identity token): what ``session.identity_map`` is keyed by.
IdentityKey = tuple[type, tuple[Any, ...], Any]


class _NoValue:
    __slots__ = ()

    def __repr__(self) -> str:
        return "NO_VALUE"

    def __bool__(self) -> bool:
        return False


NO_VALUE: Any = _NoValue()
"""Marks "no value recorded" (an attribute never set or loaded)."""

STATE_ATTR = "_sa_instance_state"


class InstanceState(weakref.ref):
    """What the ORM tracks about one mapped object (``inspect(obj)`` returns it).

    The state *is* the weak reference to its object (``state()`` returns the object or
    None): one allocation per loaded object instead of two, and one less object for the
    garbage collector to traverse. Equality and hashing are by identity, not by the
    referent as for a plain weak reference (mapped classes may be unhashable).
    """

    __slots__ = (
        "committed",
        "deleted_flushed",
        "expired",
        "info_",
        "insert_order",
        "key",
        "load_path",
        "mapper",
        "modified",
        "session_ref",
        "was_deleted",
    )

    _is_inspectable_self = True

    __hash__ = object.__hash__
    __eq__ = object.__eq__
    __ne__ = object.__ne__

    def __new__(cls, obj: Any, mapper: Mapper) -> InstanceState:
        return weakref.ref.__new__(cls, obj)

    def __init__(self, obj: Any, mapper: Mapper) -> None:
        self.mapper = mapper
        self.key: IdentityKey | None = None
        self.session_ref: weakref.ref[Session] | None = None
        self.committed: dict[str, Any] | None = None  # attribute -> value before changes
        self.modified = False
        self.expired = False
        self.deleted_flushed = False
        self.was_deleted = False
        self.insert_order = 0
        self.load_path: Any = None
        self.info_: builtins.dict[Any, Any] | None = None

    # Every slot but mapper, key and session_ref, with the value __init__ gives it.
    # The row loader (orm/loading.py) builds a loaded object's state from this table
    # without calling __init__ (per row, the call costs as much as the stores); it checks
    # that the table covers every other slot, so a new slot must be listed here too.
    _defaults: tuple[tuple[str, Any], ...] = (
        ("committed", None),
        ("modified", False),
        ("expired", False),
        ("deleted_flushed", False),
        ("was_deleted", False),
        ("insert_order", 0),
        ("load_path", None),
        ("info_", None),
    )

    # -- where the object is ---------------------------------------------------------
    @property
    def session(self) -> Session | None:
        """The Session the object belongs to, or None."""
        ref = self.session_ref
        if ref is None:
            return None
        session = ref()
        if session is None or not session._holds(self):
            return None
        return session

    @property
    def session_id(self) -> int | None:
        session = self.session
        return session.hash_key if session is not None else None

    @property
    def transient(self) -> bool:
        return self.key is None and self.session is None

    @property
    def pending(self) -> bool:
        return self.key is None and self.session is not None

    @property
    def persistent(self) -> bool:
        return self.key is not None and not self.deleted_flushed and self.session is not None

    @property
    def deleted(self) -> bool:
        return self.key is not None and self.deleted_flushed and self.session is not None

    @property
    def detached(self) -> bool:
        return self.key is not None and self.session is None

    @property
    def has_identity(self) -> bool:
        return self.key is not None

    @property
    def identity_key(self) -> IdentityKey | None:
        return self.key

    @property
    def identity(self) -> tuple[Any, ...] | None:
        return self.key[1] if self.key is not None else None

    @property
    def object(self) -> Any:
        return self()

    @property
    def obj(self) -> InstanceState:
        """The weak reference to the object (the state itself): ``state()``."""
        return self

    @property
    def class_(self) -> type:
        return self.mapper.class_

    @property
    def dict(self) -> builtins.dict[str, Any]:
        obj = self()
        return obj.__dict__ if obj is not None else {}

    @property
    def info(self) -> builtins.dict[Any, Any]:
        if self.info_ is None:
            self.info_ = {}
        return self.info_

    @property
    def unloaded(self) -> set[str]:
        """Attributes with no value loaded (expired, deferred or never loaded)."""
        d = self.dict
        return {k for k in self.mapper._attr_keys if k not in d}

    @property
    def expired_attributes(self) -> set[str]:
        return self.unloaded if self.key is not None else set()

    @property
    def attrs(self) -> _AttrStates:
        return _AttrStates(self)

    @property
    def async_session(self) -> Any:
        session = self.session
        return getattr(session, "_async_facade", None) if session is not None else None

    def __repr__(self) -> str:
        obj = self()
        where = (
            "transient"
            if self.transient
            else "pending"
            if self.pending
            else "deleted"
            if self.deleted
            else "persistent"
            if self.persistent
            else "detached"
        )
        return f"<InstanceState of {obj!r} ({where})>"


class AttributeState:
    """``inspect(obj).attrs.name``: the value of one attribute and its history."""

    def __init__(self, state: InstanceState, key: str) -> None:
        self.state = state
        self.key = key

    @property
    def value(self) -> Any:
        return getattr(self.state(), self.key)

    @property
    def loaded_value(self) -> Any:
        return self.state.dict.get(self.key, NO_VALUE)

    @property
    def history(self) -> History:
        from hermetic.orm.attributes import get_history

        return get_history(self.state(), self.key)

    def load_history(self) -> History:
        return self.history


class _AttrStates:
    def __init__(self, state: InstanceState) -> None:
        self._state = state

    def __getattr__(self, key: str) -> AttributeState:
        if key.startswith("__") or key not in self._state.mapper._props:
            raise AttributeError(key)
        return AttributeState(self._state, key)

    def __getitem__(self, key: str) -> AttributeState:
        if key not in self._state.mapper._props:
            raise KeyError(key)
        return AttributeState(self._state, key)

    def __iter__(self) -> Iterator[AttributeState]:
        return (AttributeState(self._state, k) for k in self._state.mapper._props)

    def keys(self) -> list[str]:
        return list(self._state.mapper._props)


class History(tuple[Sequence[Any], Sequence[Any], Sequence[Any]]):
    """(added, unchanged, deleted) values of an attribute since it was loaded; a part
    with values is a list, an empty part ``()`` (``History([new], (), [old])``)."""

    def __new__(cls, added: Any = (), unchanged: Any = (), deleted: Any = ()) -> History:
        return tuple.__new__(cls, (list(added) or (), list(unchanged) or (), list(deleted) or ()))

    @property
    def added(self) -> Sequence[Any]:
        return self[0]

    @property
    def unchanged(self) -> Sequence[Any]:
        return self[1]

    @property
    def deleted(self) -> Sequence[Any]:
        return self[2]

    def has_changes(self) -> bool:
        return bool(self[0] or self[2])

    def empty(self) -> bool:
        return not (self[0] or self[1] or self[2])

    def sum(self) -> list[Any]:
        return [*self[0], *self[1], *self[2]]

    def non_deleted(self) -> list[Any]:
        return [*self[0], *self[1]]

    def non_added(self) -> list[Any]:
        return [*self[1], *self[2]]


class IdentityMap:
    """Identity key -> object, holding objects weakly (``session.identity_map``)."""

    __slots__ = ("_dict", "_prune_at")

    def __init__(self) -> None:
        self._dict: dict[IdentityKey, InstanceState] = {}
        self._prune_at = 1024

    # The session's own fast paths use _dict directly; these are the public mapping.
    def _get_state(self, key: IdentityKey) -> InstanceState | None:
        state = self._dict.get(key)
        if state is not None and state() is None:
            del self._dict[key]
            return None
        return state

    def _add(self, key: IdentityKey, state: InstanceState) -> None:
        d = self._dict
        d[key] = state
        if len(d) >= self._prune_at:
            self._prune()

    def _prune(self) -> None:
        d = self._dict
        dead = [k for k, s in d.items() if s() is None]
        for k in dead:
            del d[k]
        self._prune_at = max(1024, 2 * len(d))

    def _discard(self, key: IdentityKey, state: InstanceState) -> None:
        if self._dict.get(key) is state:
            del self._dict[key]

    def _states(self) -> list[InstanceState]:
        return [s for s in self._dict.values() if s() is not None]

    def get(self, key: IdentityKey, default: Any = None) -> Any:
        state = self._get_state(key)
        if state is None:
            return default
        obj = state()
        return default if obj is None else obj

    def __getitem__(self, key: IdentityKey) -> Any:
        obj = self.get(key, NO_VALUE)
        if obj is NO_VALUE:
            raise KeyError(key)
        return obj

    def __contains__(self, key: object) -> bool:
        return self._get_state(key) is not None  # type: ignore[arg-type]

    def __len__(self) -> int:
        self._prune()
        return len(self._dict)

    def __iter__(self) -> Iterator[IdentityKey]:
        return iter(self.keys())

    def keys(self) -> list[IdentityKey]:
        return [k for k, s in list(self._dict.items()) if s() is not None]

    def values(self) -> list[Any]:
        out = []
        for s in list(self._dict.values()):
            obj = s()
            if obj is not None:
                out.append(obj)
        return out

    def items(self) -> list[tuple[IdentityKey, Any]]:
        out = []
        for k, s in list(self._dict.items()):
            obj = s()
            if obj is not None:
                out.append((k, obj))
        return out

    def all_states(self) -> list[InstanceState]:
        return self._states()

    def __repr__(self) -> str:
        return f"<IdentityMap of {len(self)} objects>"


def instance_state(obj: Any) -> InstanceState:
    """The state of a mapped object, created on first need."""
    try:
        return obj.__dict__[STATE_ATTR]  # type: ignore[no-any-return]
    except KeyError:
        pass
    except AttributeError:
        raise orm_exc.UnmappedInstanceError(obj) from None
    mapper = getattr(type(obj), "__mapper__", None)
    if mapper is None or not getattr(mapper, "_is_mapper", False):
        raise orm_exc.UnmappedInstanceError(obj)
    state = InstanceState(obj, mapper)
    d = obj.__dict__
    # Unsplit the dict (see orm/loading.py): attribute reads stay on the fast path.
    values = d.copy()
    d.clear()
    d.update(values)
    d[STATE_ATTR] = state
    return state
