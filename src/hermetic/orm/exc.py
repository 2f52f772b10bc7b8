"""ORM exceptions (``hermetic.orm.exc``), named as in SQLAlchemy's ``orm.exc``.

Every message says what happened to which object or attribute and how to avoid it.
"""

from __future__ import annotations

from typing import Any

from hermetic.exc import (
    ArgumentError,
    HermeticError,
    InvalidRequestError,
    MultipleResultsFound,
    NoResultFound,
)

__all__ = [
    "ConcurrentModificationError",
    "DetachedInstanceError",
    "FlushError",
    "LoaderStrategyException",
    "MappedAnnotationError",
    "MultipleResultsFound",
    "NoResultFound",
    "ObjectDeletedError",
    "ObjectDereferencedError",
    "StaleDataError",
    "UnmappedClassError",
    "UnmappedColumnError",
    "UnmappedError",
    "UnmappedInstanceError",
    "object_description",
]


def object_description(obj: Any) -> str:
    """``<User at 0x...>``-style text naming an object without touching its attributes."""
    return f"<{type(obj).__name__} at {hex(id(obj))}>"


class DetachedInstanceError(HermeticError):
    """An attribute needed a load but the object belongs to no Session."""

    code = "bhk3"


class ObjectDeletedError(InvalidRequestError):
    """The row behind an object is gone (deleted in the database)."""

    def __init__(self, state: Any, msg: str | None = None) -> None:
        obj = state() if hasattr(state, "obj") else state
        super().__init__(
            msg
            or f"Instance {object_description(obj)} has been deleted, or its row is otherwise "
            "not present: it was expired, and reloading it found no row with its primary "
            "key. Don't use objects after deleting their rows, or call session.expunge(obj)"
        )


class ObjectDereferencedError(HermeticError):
    """An operation needed an object that has been garbage collected."""


class FlushError(HermeticError):
    """The unit of work could not flush the session's changes."""


class StaleDataError(HermeticError):
    """An UPDATE or DELETE matched a different number of rows than expected
    (the row was changed or deleted by someone else: ``version_id_col``)."""


ConcurrentModificationError = StaleDataError


class UnmappedError(InvalidRequestError):
    """An object or class is not mapped."""


class UnmappedInstanceError(UnmappedError):
    def __init__(self, obj: Any, msg: str | None = None) -> None:
        super().__init__(
            msg
            or f"Class '{type(obj).__module__}.{type(obj).__qualname__}' is not mapped: "
            f"{obj!r} cannot be used with a Session. Map the class (subclass your "
            "DeclarativeBase and give it a __tablename__), or pass an instance of a mapped class"
        )


class UnmappedClassError(UnmappedError):
    def __init__(self, cls: Any, msg: str | None = None) -> None:
        name = getattr(cls, "__qualname__", repr(cls))
        super().__init__(
            msg
            or f"Class '{name}' is not mapped; subclass your DeclarativeBase with a "
            "__tablename__ (or use registry.map_imperatively) to map it"
        )


class UnmappedColumnError(InvalidRequestError):
    """A column is not mapped by the mapper it was looked up on."""


class LoaderStrategyException(InvalidRequestError):
    """A loader option cannot apply to the attribute it was given."""


class MappedAnnotationError(ArgumentError):
    """A ``Mapped[...]`` annotation cannot be turned into a column or relationship."""
