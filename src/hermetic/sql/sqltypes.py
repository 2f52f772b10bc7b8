"""Column types (the subset the engine needs; the SQL expression layer extends it).

A type converts values at the boundary with the driver: ``bind_processor(dialect)`` and
``result_processor(dialect, coltype)`` return a callable or ``None``, chosen once per
compiled statement, never per row. Processors depend on dialect flags
(``supports_native_datetime`` ...), never on dialect names.
"""

from __future__ import annotations

import datetime as dt
import decimal
from collections.abc import Callable
from typing import Any

Processor = Callable[[Any], Any] | None


class TypeEngine:
    """Base of all types."""

    python_type: type = object
    __visit_name__ = "type"

    def bind_processor(self, dialect: Any) -> Processor:
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        return None

    @property
    def _type_affinity(self) -> type[TypeEngine]:
        for cls in type(self).__mro__:
            if cls.__module__ == __name__ and cls is not TypeEngine:
                return cls
        return type(self)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class NullType(TypeEngine):
    """The type of a value whose type is unknown."""


class Integer(TypeEngine):
    python_type = int


class SmallInteger(Integer):
    pass


class BigInteger(Integer):
    pass


class Float(TypeEngine):
    python_type = float

    def __init__(self, precision: int | None = None, asdecimal: bool = False) -> None:
        self.precision = precision
        self.asdecimal = asdecimal


class Double(Float):
    pass


class Numeric(TypeEngine):
    python_type = decimal.Decimal

    def __init__(
        self, precision: int | None = None, scale: int | None = None, asdecimal: bool = True
    ) -> None:
        self.precision = precision
        self.scale = scale
        self.asdecimal = asdecimal

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_decimal:
            return None
        return lambda v: float(v) if isinstance(v, decimal.Decimal) else v

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.asdecimal:
            if dialect.supports_native_decimal:
                return None
            scale = self.scale
            if scale is not None:
                fmt = f"%.{scale}f"
                return lambda v: None if v is None else decimal.Decimal(fmt % v)
            return lambda v: None if v is None else decimal.Decimal(str(v))
        if dialect.supports_native_decimal:
            return lambda v: None if v is None else float(v)
        return None


class String(TypeEngine):
    python_type = str

    def __init__(self, length: int | None = None, collation: str | None = None) -> None:
        self.length = length
        self.collation = collation

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.length})" if self.length else super().__repr__()


class Text(String):
    pass


class Unicode(String):
    pass


class UnicodeText(Text):
    pass


class Boolean(TypeEngine):
    python_type = bool

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_boolean:
            return None
        return lambda v: None if v is None else int(bool(v))

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.supports_native_boolean:
            return None
        return lambda v: None if v is None else bool(v)


def _parse(kind: Callable[[str], Any]) -> Processor:
    def process(v: Any) -> Any:
        if v is None or not isinstance(v, str):
            return v
        return kind(v)

    return process


# SQLAlchemy's SQLite storage formats (always with microseconds), so that values written
# by either library compare equal as strings.
def _datetime_to_str(v: Any) -> Any:
    if isinstance(v, dt.datetime):
        return "%04d-%02d-%02d %02d:%02d:%02d.%06d" % (  # noqa: UP031
            v.year,
            v.month,
            v.day,
            v.hour,
            v.minute,
            v.second,
            v.microsecond,
        )
    if isinstance(v, dt.date):
        return "%04d-%02d-%02d 00:00:00.000000" % (v.year, v.month, v.day)  # noqa: UP031
    return v


def _time_to_str(v: Any) -> Any:
    if isinstance(v, dt.time):
        return "%02d:%02d:%02d.%06d" % (v.hour, v.minute, v.second, v.microsecond)  # noqa: UP031
    return v


class DateTime(TypeEngine):
    python_type = dt.datetime

    def __init__(self, timezone: bool = False) -> None:
        self.timezone = timezone

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        return _datetime_to_str

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        return _parse(dt.datetime.fromisoformat)


class Date(TypeEngine):
    python_type = dt.date

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        # a datetime is a date too: keep only its date, as SQLAlchemy does
        return lambda v: (
            "%04d-%02d-%02d" % (v.year, v.month, v.day)  # noqa: UP031
            if isinstance(v, dt.date)
            else v
        )

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        return _parse(dt.date.fromisoformat)


class Time(TypeEngine):
    python_type = dt.time

    def __init__(self, timezone: bool = False) -> None:
        self.timezone = timezone

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        return _time_to_str

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.supports_native_datetime:
            return None
        return _parse(dt.time.fromisoformat)


class LargeBinary(TypeEngine):
    python_type = bytes

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        return lambda v: bytes(v) if isinstance(v, (memoryview, bytearray)) else v


NULLTYPE = NullType()

_TYPE_FOR_PYTHON: dict[type, TypeEngine] = {
    bool: Boolean(),
    int: Integer(),
    float: Float(),
    str: String(),
    decimal.Decimal: Numeric(),
    dt.datetime: DateTime(),
    dt.date: Date(),
    dt.time: Time(),
    bytes: LargeBinary(),
}


def to_instance(t: TypeEngine | type[TypeEngine] | None) -> TypeEngine:
    if t is None:
        return NULLTYPE
    if isinstance(t, type):
        return t()
    return t


def type_for_value(value: Any) -> TypeEngine:
    return _TYPE_FOR_PYTHON.get(type(value), NULLTYPE)
