"""Hybrid attributes (``hermetic.ext.hybrid``): Python attributes and methods that are
computed on instances and become SQL expressions on the class.

``User.fullname`` (class access) calls the expression function with the class and
returns what it builds (by default the getter itself, run against the class's mapped
attributes; ``@fullname.expression`` gives a separate one). ``user.fullname`` (instance
access) calls the getter with the instance. Setters and deleters work as they do for
``property``. ``@fullname.update_expression`` says which columns an ORM ``UPDATE`` sets
when given the hybrid: it returns a list of ``(column, value)`` pairs.

Each modifier (``setter``, ``deleter``, ``expression``, ``update_expression``,
``comparator``) returns a *copy* of the hybrid, so a subclass can redefine part of a
hybrid without changing its base's; ``.inplace`` modifies the hybrid itself instead
(for functions that must keep the hybrid's name).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVar

__all__ = [
    "HYBRID_METHOD",
    "HYBRID_PROPERTY",
    "Comparator",
    "hybrid_method",
    "hybrid_property",
]

_T = TypeVar("_T")


class _HybridExtensionType:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


HYBRID_METHOD = _HybridExtensionType("HYBRID_METHOD")
HYBRID_PROPERTY = _HybridExtensionType("HYBRID_PROPERTY")


def _unwrap(fn: Any) -> Any:
    """``@classmethod``-decorated expression functions are accepted as plain ones."""
    return fn.__func__ if isinstance(fn, (classmethod, staticmethod)) else fn


class hybrid_method(Generic[_T]):
    """A method that runs in Python on instances and builds SQL on the class."""

    is_attribute = True
    extension_type = HYBRID_METHOD

    def __init__(self, func: Callable[..., _T], expr: Callable[..., Any] | None = None) -> None:
        self.func = func
        self.expr: Callable[..., Any] = _unwrap(expr) if expr is not None else func
        self.__doc__ = func.__doc__
        self.__name__ = getattr(func, "__name__", "hybrid_method")

    @property
    def inplace(self) -> hybrid_method[_T]:
        return self

    def __get__(self, instance: Any, owner: type | None) -> Any:
        if instance is None:
            return self.expr.__get__(owner, type(owner))
        return self.func.__get__(instance, owner)

    def expression(self, expr: Callable[..., Any]) -> hybrid_method[_T]:
        """Give the SQL-building function used when the method is called on the class."""
        self.expr = _unwrap(expr)
        return self


class Comparator:
    """Base for ``@hybrid.comparator`` classes: ``Comparator(expression)`` whose
    operators build SQL (override ``__eq__``, ``operate`` ... to customize)."""

    def __init__(self, expression: Any) -> None:
        self.expression = expression

    def __clause_element__(self) -> Any:
        expr = self.expression
        clause = getattr(expr, "__clause_element__", None)
        return clause() if clause is not None else expr

    def __eq__(self, other: Any) -> Any:
        return self.__clause_element__() == other

    def __ne__(self, other: Any) -> Any:
        return self.__clause_element__() != other

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self.__clause_element__(), name)

    __hash__ = object.__hash__


class hybrid_property(Generic[_T]):
    """A property on instances that is also a SQL expression on the class."""

    is_attribute = True
    extension_type = HYBRID_PROPERTY

    def __init__(
        self,
        fget: Callable[[Any], _T],
        fset: Callable[[Any, Any], None] | None = None,
        fdel: Callable[[Any], None] | None = None,
        expr: Callable[[Any], Any] | None = None,
        custom_comparator: Callable[[Any], Any] | None = None,
        update_expr: Callable[[Any, Any], Any] | None = None,
    ) -> None:
        self.fget = fget
        self.fset = fset
        self.fdel = fdel
        self.expr = _unwrap(expr) if expr is not None else None
        self.custom_comparator = (
            _unwrap(custom_comparator) if custom_comparator is not None else None
        )
        self.update_expr = _unwrap(update_expr) if update_expr is not None else None
        self.__doc__ = fget.__doc__
        self.__name__ = getattr(fget, "__name__", "hybrid_property")

    # -- descriptor ------------------------------------------------------------------
    def __set_name__(self, owner: type, name: str) -> None:
        self.__name__ = name

    def __get__(self, instance: Any, owner: type | None = None) -> Any:
        if instance is None:
            if owner is None:
                return self
            return self._class_level(owner)
        return self.fget(instance)

    def __set__(self, instance: Any, value: Any) -> None:
        if self.fset is None:
            raise AttributeError(
                f"hybrid property '{self.__name__}' of {type(instance).__name__} has no "
                "setter; add one with @" + self.__name__ + ".setter"
            )
        self.fset(instance, value)

    def __delete__(self, instance: Any) -> None:
        if self.fdel is None:
            raise AttributeError(
                f"hybrid property '{self.__name__}' of {type(instance).__name__} has no "
                "deleter; add one with @" + self.__name__ + ".deleter"
            )
        self.fdel(instance)

    def _class_level(self, owner: type) -> Any:
        if self.custom_comparator is not None:
            return self.custom_comparator(owner)
        fn = self.expr if self.expr is not None else self.fget
        return fn(owner)

    # -- modifiers (each returns a copy; .inplace changes this hybrid) ------------------
    def _copy(self, **kw: Any) -> hybrid_property[_T]:
        new = type(self).__new__(type(self))
        new.__dict__.update(self.__dict__)
        new.__dict__.update(kw)
        return new

    @property
    def inplace(self) -> _InPlace[_T]:
        """``@x.inplace.setter`` and friends modify this hybrid instead of copying it."""
        return _InPlace(self)

    @property
    def overrides(self) -> hybrid_property[_T]:
        """For redefining an inherited hybrid in a subclass: ``@Base.x.overrides.getter``."""
        return self

    def getter(self, fget: Callable[[Any], _T]) -> hybrid_property[_T]:
        return self._copy(fget=fget)

    def setter(self, fset: Callable[[Any, Any], None]) -> hybrid_property[_T]:
        return self._copy(fset=fset)

    def deleter(self, fdel: Callable[[Any], None]) -> hybrid_property[_T]:
        return self._copy(fdel=fdel)

    def expression(self, expr: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._copy(expr=_unwrap(expr))

    def comparator(self, comparator: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._copy(custom_comparator=_unwrap(comparator))

    def update_expression(self, meth: Callable[[Any, Any], Any]) -> hybrid_property[_T]:
        return self._copy(update_expr=_unwrap(meth))

    def _update_pairs(self, owner: type, value: Any) -> list[tuple[Any, Any]]:
        """The ``(column, value)`` pairs an ORM UPDATE sets for ``hybrid = value``."""
        if self.update_expr is None:
            raise AttributeError(
                f"hybrid property '{self.__name__}' cannot be used in an UPDATE's values: "
                "it has no @" + self.__name__ + ".update_expression"
            )
        return list(self.update_expr(owner, value))


class _InPlace(Generic[_T]):
    """What ``hybrid.inplace`` returns: modifiers that change the hybrid itself."""

    def __init__(self, hybrid: hybrid_property[_T]) -> None:
        self.hybrid = hybrid

    def _set(self, name: str, fn: Any) -> hybrid_property[_T]:
        setattr(self.hybrid, name, _unwrap(fn))
        return self.hybrid

    def getter(self, fget: Callable[[Any], _T]) -> hybrid_property[_T]:
        return self._set("fget", fget)

    def setter(self, fset: Callable[[Any, Any], None]) -> hybrid_property[_T]:
        return self._set("fset", fset)

    def deleter(self, fdel: Callable[[Any], None]) -> hybrid_property[_T]:
        return self._set("fdel", fdel)

    def expression(self, expr: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._set("expr", expr)

    def comparator(self, comparator: Callable[[Any], Any]) -> hybrid_property[_T]:
        return self._set("custom_comparator", comparator)

    def update_expression(self, meth: Callable[[Any, Any], Any]) -> hybrid_property[_T]:
        return self._set("update_expr", meth)
