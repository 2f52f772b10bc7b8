"""Instrumented attributes: ``User.name`` in expressions, and change tracking on objects.

Reads: a mapped attribute on the class is a *non-data* descriptor, so once a value is in
the object's ``__dict__`` Python finds it there first and a read costs what a plain
attribute read costs. The descriptor's ``__get__`` only runs when the value is missing:
a transient object answers ``None`` (or an empty collection); a persistent one loads
its expired or deferred columns; a detached one raises DetachedInstanceError.

Writes: mapped classes get a ``__setattr__`` that sends mapped names to the attribute's
implementation (validators, ``set`` events, remembering the committed value for the
flush) and everything else to the ordinary path.

At class level ``User.name`` builds SQL: comparisons and every column operator are
delegated to the mapped column, so expressions contain only Core elements.
"""

from __future__ import annotations

import builtins
import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from hermetic import exc
from hermetic._util.cpython import seal
from hermetic.orm import exc as orm_exc
from hermetic.orm.state import NO_VALUE, STATE_ATTR, History, InstanceState, instance_state

if TYPE_CHECKING:
    from hermetic.orm.mapper import Mapper


class AttributeImpl:
    """How one mapped attribute is read when missing and written."""

    __slots__ = (
        "active_history",
        "hooks",
        "init_listeners",
        "key",
        "mapper",
        "set_listeners",
        "validators",
    )
    is_collection = False

    def __init__(self, mapper: Mapper, key: str) -> None:
        self.mapper = mapper
        self.key = key
        self.set_listeners: list[Callable[..., Any]] = []
        self.init_listeners: list[Callable[..., Any]] = []
        self.validators: list[Callable[..., Any]] = []
        self.hooks = False
        self.active_history = False

    def _refresh_hooks(self) -> None:
        self.hooks = bool(self.set_listeners or self.validators)

    # -- reading a missing value ------------------------------------------------------
    def load(self, obj: Any) -> Any:
        d = obj.__dict__
        key = self.key
        if key in d:
            return d[key]
        state: InstanceState | None = d.get(STATE_ATTR)
        if state is None or state.key is None:
            return self.initial(obj, state)
        session = state.session
        if session is None:
            raise orm_exc.DetachedInstanceError(
                f"Instance {orm_exc.object_description(obj)} is not bound to a Session; "
                f"attribute '{key}' was not loaded (expired on commit, deferred, or never "
                "loaded) and cannot be loaded now. Fix: read it while the Session is open, "
                "create the Session with expire_on_commit=False, or load it first "
                f"(undefer/selectinload); then session.merge(obj) or session.add(obj) to "
                "re-attach the object"
            )
        if state.load_path is not None:  # defer(..., raiseload=True)
            from hermetic.orm.strategies import raise_on_column

            raise_on_column(state, obj, key)
        try:
            session._load_unloaded(state, obj, key)
        except exc.MissingGreenlet as e:
            raise missing_greenlet(obj, key, False) from e
        if key in d:
            return d[key]
        return self.initial(obj, state)

    def initial(self, obj: Any, state: InstanceState | None) -> Any:
        """The value of an attribute never set (transient/pending objects)."""
        if self.init_listeners:
            value = None
            for fn in self.init_listeners:
                ret = fn(obj, None, obj.__dict__)
                if ret is not None:
                    value = ret
            return value
        return None

    # -- writing ----------------------------------------------------------------------
    def set(self, obj: Any, value: Any) -> None:
        d = obj.__dict__
        state: InstanceState | None = d.get(STATE_ATTR)
        if state is None:
            state = instance_state(obj)
        key = self.key
        if self.hooks:
            if (
                self.active_history
                and key not in d
                and state.key is not None
                and state.session is not None
            ):
                self.load(obj)  # listeners asked for the old value
            old = d.get(key, NO_VALUE)
            for validator in self.validators:
                value = validator(obj, key, value)
            for fn in self.set_listeners:
                ret = fn(obj, value, old, self)
                if getattr(fn, "_retval", False):
                    value = ret
        if state.key is not None:
            committed = state.committed
            if committed is None:
                committed = state.committed = {}
            if key not in committed:
                if self.active_history and key not in d and state.session is not None:
                    self.load(obj)
                committed[key] = d.get(key, NO_VALUE)
            if not state.modified:
                state.modified = True
                ref = state.session_ref
                if ref is not None:
                    session = ref()
                    if session is not None:
                        session._modified[state] = obj
        d[key] = value

    def delete(self, obj: Any) -> None:
        if self.key not in obj.__dict__ and instance_state(obj).key is None:
            raise AttributeError(
                f"{type(obj).__name__} object has no value for '{self.key}' to delete; set it "
                "first (or leave it unset: unset attributes are NULL when inserted)"
            )
        self.set(obj, None)


class QueryableAttribute:
    """``User.name``: an SQL expression at class level, a value on instances."""

    is_attribute = True
    _is_orm_attribute = True

    def __init__(self, class_: type, key: str, prop: Any, impl: AttributeImpl | None) -> None:
        self.class_ = class_
        self.key = key
        self.prop = prop
        self.impl = impl
        self.__doc__ = getattr(prop, "doc", None)

    # -- descriptor -------------------------------------------------------------------
    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        impl = self.impl
        if impl is None:
            return self.prop.get_value(obj)
        return impl.load(obj)

    # -- SQL ---------------------------------------------------------------------------
    def __clause_element__(self) -> Any:
        return self.prop.expression

    @builtins.property
    def _sa_filter_by_target(self) -> Any:
        """``select(User.id).filter_by(name=...)`` filters on the attribute's class."""
        return self.class_

    def _sa_select_extras(self) -> tuple[Any, Any]:
        """For ``select(Car.doors)``: the FROM of an inheriting class (its joined
        tables) and its criteria (single-table discriminator), as ``select(Car)`` has."""
        mapper = self.class_.__dict__.get("__mapper__")
        if mapper is None or mapper.inherits is None:
            return None, None
        _, from_, criteria = mapper._select_entity()
        return from_, criteria

    @property
    def expression(self) -> Any:
        return self.prop.expression

    @property
    def property(self) -> Any:
        return self.prop

    @builtins.property
    def parent(self) -> Any:
        return self.prop.parent

    @builtins.property
    def mapper(self) -> Any:
        return self.prop.parent

    @builtins.property
    def info(self) -> dict[Any, Any]:
        return self.prop.info  # type: ignore[no-any-return]

    @builtins.property
    def comparator(self) -> Any:
        return self.prop.expression

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            expression = self.prop.expression
        except AttributeError:
            expression = None
        if expression is not None and hasattr(expression, name):
            return getattr(expression, name)
        raise AttributeError(
            f"Neither {type(self).__name__} object for '{self.class_.__name__}.{self.key}' "
            f"nor the SQL expression it stands for has an attribute '{name}'"
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.class_.__name__}.{self.key}>"

    def __str__(self) -> str:
        return f"{self.class_.__name__}.{self.key}"

    __hash__ = object.__hash__

    def of_type(self, entity: Any) -> Any:
        return self.prop.of_type(self, entity)

    def and_(self, *criteria: Any) -> Any:
        return self.prop.with_criteria(self, criteria)


def delegate_operator(name: str) -> Callable[..., Any]:
    """A method sending Python operator ``name`` to ``self.__clause_element__()``."""

    def method(self: Any, *args: Any) -> Any:
        return getattr(self.__clause_element__(), name)(*args)

    method.__name__ = name
    return method


OPERATOR_NAMES: tuple[str, ...] = (
    "__eq__",
    "__ne__",
    "__lt__",
    "__le__",
    "__gt__",
    "__ge__",
    "__add__",
    "__radd__",
    "__sub__",
    "__rsub__",
    "__mul__",
    "__rmul__",
    "__truediv__",
    "__rtruediv__",
    "__floordiv__",
    "__rfloordiv__",
    "__mod__",
    "__rmod__",
    "__neg__",
    "__invert__",
    "__and__",
    "__rand__",
    "__or__",
    "__ror__",
    "__getitem__",
    "__lshift__",
    "__rshift__",
    "__pow__",
    "__contains__",
)
for _name in OPERATOR_NAMES:
    setattr(QueryableAttribute, _name, delegate_operator(_name))
QueryableAttribute.__hash__ = object.__hash__  # type: ignore[method-assign,assignment]
# Complete now: sealed so reads of loaded attributes get the interpreter's fast path.
seal(QueryableAttribute)

InstrumentedAttribute = QueryableAttribute


def missing_greenlet(obj: Any, key: str, relationship: bool) -> exc.MissingGreenlet:
    """The error for an attribute load attempted from plain async code."""
    cls = type(obj).__name__
    what = "lazy-loaded relationship" if relationship else "expired or deferred attribute"
    first = (
        f"selectinload({cls}.{key}) in the query"
        if relationship
        else f"expire_on_commit=False on the session (or undefer({cls}.{key}))"
    )
    return exc.MissingGreenlet(
        f"'{cls}.{key}' is a {what} and would need a database round trip, which cannot "
        f"run implicitly in async code (greenlet_spawn has not been called here: no await "
        f"is in progress to carry the I/O). Fix: {first}, `await obj.awaitable_attrs.{key}`, "
        f"or run the code with `await session.run_sync(...)`"
    )


def _make_setattr(base_setattr: Callable[[Any, str, Any], None]) -> Callable[[Any, str, Any], None]:
    def __setattr__(self: Any, key: str, value: Any) -> None:
        impl = type(self)._sa_impls.get(key)
        if impl is None:
            base_setattr(self, key, value)
        else:
            impl.set(self, value)

    __setattr__._sa_instrumented = True  # type: ignore[attr-defined]
    return __setattr__


def _make_delattr(base_delattr: Callable[[Any, str], None]) -> Callable[[Any, str], None]:
    def __delattr__(self: Any, key: str) -> None:
        impl = type(self)._sa_impls.get(key)
        if impl is None:
            base_delattr(self, key)
        else:
            impl.delete(self)

    __delattr__._sa_instrumented = True  # type: ignore[attr-defined]
    return __delattr__


def instrument_class(cls: type) -> None:
    """Give ``cls`` the tracking ``__setattr__``/``__delattr__`` (keeping any the class
    or its bases define for the names the ORM does not manage)."""
    current: Any = cls.__setattr__
    if not getattr(current, "_sa_instrumented", False):
        cls.__setattr__ = _make_setattr(current)  # type: ignore[method-assign,assignment]
    current_del: Any = cls.__delattr__
    if not getattr(current_del, "_sa_instrumented", False):
        cls.__delattr__ = _make_delattr(current_del)  # type: ignore[method-assign,assignment]


# -- public helpers (hermetic.orm.attributes) ---------------------------------------------


def get_history(obj: Any, key: str, passive: Any = None) -> History:
    """(added, unchanged, deleted) for one attribute of ``obj`` since it was loaded."""
    state = instance_state(obj)
    d = obj.__dict__
    committed = state.committed or {}
    if key in committed:
        old = committed[key]
        new = d.get(key, NO_VALUE)
        if new is NO_VALUE:
            return History((), (), () if old is NO_VALUE else (old,))
        if old is not NO_VALUE and _same(old, new):
            return History((), (new,), ())
        return History((new,), (), () if old is NO_VALUE else (old,))
    if key in d:
        value = d[key]
        prop = state.mapper._props.get(key)
        if prop is not None and getattr(prop, "_is_relationship", False):
            return prop.history(state, obj)  # type: ignore[attr-defined,no-any-return]
        if state.key is None:
            return History((value,), (), ()) if value is not None else History()
        return History((), (value,), ())
    return History()


def _same(a: Any, b: Any) -> bool:
    if a is b:
        return True
    try:
        return bool(a == b) and type(a) is type(b)
    except Exception:
        return False


def flag_modified(obj: Any, key: str) -> None:
    """Mark an attribute changed (e.g. after mutating a JSON value in place), so the
    next flush writes it."""
    state = instance_state(obj)
    if key not in state.mapper._props:
        raise orm_exc.UnmappedColumnError(
            f"'{key}' is not a mapped attribute of {state.class_.__name__}; flag_modified() "
            f"takes one of: {', '.join(state.mapper._props)}"
        )
    d = obj.__dict__
    if key not in d:
        raise KeyError(
            f"Attribute '{key}' of {orm_exc.object_description(obj)} is not loaded; "
            "load or set it before flag_modified()"
        )
    committed = state.committed
    if committed is None:
        committed = state.committed = {}
    committed.setdefault(key, NO_VALUE)
    if not state.modified and state.key is not None:
        state.modified = True
        session = state.session
        if session is not None:
            session._modified[state] = obj


def flag_dirty(obj: Any) -> None:
    state = instance_state(obj)
    if not state.modified and state.key is not None:
        state.modified = True
        session = state.session
        if session is not None:
            session._modified[state] = obj


def set_committed_value(obj: Any, key: str, value: Any) -> None:
    """Set a value as if it had been loaded from the database (no change recorded)."""
    state = instance_state(obj)
    obj.__dict__[key] = value
    if state.committed is not None:
        state.committed.pop(key, None)


def set_attribute(obj: Any, key: str, value: Any) -> None:
    setattr(obj, key, value)


def get_attribute(obj: Any, key: str) -> Any:
    return getattr(obj, key)


def del_attribute(obj: Any, key: str) -> None:
    delattr(obj, key)


def init_collection(obj: Any, key: str) -> Any:
    return getattr(obj, key)


instance_dict = operator.attrgetter("__dict__")
