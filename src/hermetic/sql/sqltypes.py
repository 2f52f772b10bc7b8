"""Column types: the generic types (``Integer``, ``String``, ``JSON`` ...) and their
uppercase SQL-standard names (``INTEGER``, ``VARCHAR`` ...).

A type converts values at the boundary with the driver: ``bind_processor(dialect)`` and
``result_processor(dialect, coltype)`` return a one-argument callable or ``None``. They are
called once per compiled statement, never per row, so every decision that a dialect flag
can make (``supports_native_decimal``, ``driver_decodes_json`` ...) is made there and the
returned callable is a straight conversion. Processors never look at ``dialect.name``.

Every type has a ``__visit_name__`` and keeps its constructor arguments as attributes of
the same name, which is all a type compiler needs to render it in DDL.

Storage on databases without the native type (SQLite), compatible with SQLAlchemy's so
that either library reads what the other wrote:

- ``Numeric``/``Float``: bound as a float (the database compares and sums numbers), read
  back as ``Decimal`` formatted at the type's ``scale`` (or ``decimal_return_scale``,
  default 10 digits): ``Decimal("1.10")`` in a ``Numeric(10, 2)`` comes back
  ``Decimal("1.10")``. Digits beyond a float's 15-16 significant ones are not kept;
  store such values in a ``String`` column or use PostgreSQL.
- ``DateTime``/``Date``/``Time``: ISO strings with microseconds; time zones are dropped.
- ``Interval``: the ``DateTime`` at the epoch (1970-01-01) plus the interval.
- ``Uuid``: 32 hex digits without dashes.
- ``JSON``: the serialized text.
"""

from __future__ import annotations

import copy as _copy
import datetime as dt
import decimal
import enum as _enum
import inspect
import json
import math
import operator
import pickle
import uuid as _uuid
from collections.abc import Callable, Iterable
from typing import Any, ClassVar

from hermetic import exc

Processor = Callable[[Any], Any] | None
# Renders one Python value as SQL text (``literal_binds``, DDL defaults).
LiteralProcessor = Callable[[Any], str] | None


class TypeEngine:
    """Base of all types."""

    python_type: type = object
    __visit_name__ = "type"
    # Whether a Python None is sent as a value the type converts (JSON's 'null') rather
    # than as SQL NULL.
    should_evaluate_none: bool = False
    hashable: bool = True
    _variant_mapping: dict[str, TypeEngine] = {}

    def bind_processor(self, dialect: Any) -> Processor:
        """Converts a Python value to what the driver takes, or None when no conversion."""
        return None

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        """Converts what the driver returns to the Python value, or None."""
        return None

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        """Renders a value as SQL text for ``dialect`` (``literal_binds``), or None
        when the type has no literal form. The callable raises ``_WrongKind`` for a
        value that is not of this type (a date compared with a String column), and the
        caller then renders the value by its own type; see
        :func:`render_literal_value`."""
        return None

    def dialect_impl(self, dialect: Any) -> TypeEngine:
        """The type that actually handles values for ``dialect`` (a variant, or self)."""
        return self._variant_mapping.get(dialect.name, self)

    def with_variant(self, type_: Any, *dialect_names: str) -> TypeEngine:
        """A copy of this type that behaves as ``type_`` on the named dialects
        (``JSON().with_variant(JSONB(), "postgresql")``)."""
        if not dialect_names:
            raise exc.ArgumentError("with_variant() needs at least one dialect name")
        variant = to_instance(type_)
        new = self.copy()
        mapping = dict(self._variant_mapping)
        for name in dialect_names:
            if name in mapping:
                raise exc.ArgumentError(
                    f"Dialect {name!r} already has a variant for {self!r}: {mapping[name]!r}"
                )
            mapping[name] = variant
        new._variant_mapping = mapping
        own_bind = type(self).bind_processor
        own_result = type(self).result_processor

        # The instance's processors dispatch on the dialect; callers keep asking the
        # type itself, so a variant needs no support from the compiler.
        def bind_processor(dialect: Any) -> Processor:
            impl = mapping.get(dialect.name)
            return own_bind(new, dialect) if impl is None else impl.bind_processor(dialect)

        def result_processor(dialect: Any, coltype: Any) -> Processor:
            impl = mapping.get(dialect.name)
            if impl is None:
                return own_result(new, dialect, coltype)
            return impl.result_processor(dialect, coltype)

        own_literal = type(self).literal_processor

        def literal_processor(dialect: Any) -> LiteralProcessor:
            impl = mapping.get(dialect.name)
            return own_literal(new, dialect) if impl is None else impl.literal_processor(dialect)

        setattr(new, "bind_processor", bind_processor)  # noqa: B010
        setattr(new, "result_processor", result_processor)  # noqa: B010
        setattr(new, "literal_processor", literal_processor)  # noqa: B010
        return new

    def copy(self, **kw: Any) -> TypeEngine:
        new = _copy.copy(self)
        new.__dict__.update(kw)
        return new

    def evaluates_none(self) -> TypeEngine:
        """A copy that sends Python None through the bind processor."""
        return self.copy(should_evaluate_none=True)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine:
        """The type of a literal compared against an expression of this type."""
        own = type_for_value(value)
        if own._type_affinity is self._type_affinity or own is NULLTYPE:
            return self
        return own

    @property
    def _type_affinity(self) -> type[TypeEngine]:
        # the generic type: Integer for INTEGER, _Binary for BLOB, JSON for JSONB
        ours = [
            c
            for c in type(self).__mro__
            if c.__module__ == __name__ and c is not TypeEngine and issubclass(c, TypeEngine)
        ]
        for cls in ours:
            if not cls.__name__.isupper():
                return cls
        return ours[0] if ours else type(self)

    def __repr__(self) -> str:
        return _generic_repr(self)


def _generic_repr(obj: Any, skip: Iterable[str] = ()) -> str:
    """``String(length=50)``: the constructor arguments that differ from their defaults."""
    args = []
    try:
        params = list(inspect.signature(type(obj).__init__).parameters.values())[1:]
    except (TypeError, ValueError):  # pragma: no cover - builtins
        params = []
    for p in params:
        if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) or p.name in skip:
            continue
        if p.name not in obj.__dict__:
            continue
        value = obj.__dict__[p.name]
        if p.default is p.empty:
            args.append(repr(value))
        elif value is not p.default and value != p.default:
            args.append(f"{p.name}={value!r}")
    return f"{type(obj).__name__}({', '.join(args)})"


class NullType(TypeEngine):
    """The type of a value whose type is unknown: values pass through unchanged."""

    __visit_name__ = "null"


# -- literals -------------------------------------------------------------------------
#
# ``literal_binds`` and DDL write values into the SQL text. Each type's
# ``literal_processor(dialect)`` renders the values it binds; the dialect flags that
# shape a literal (read with defaults, so any object with the type flags will do):
#   literal_backslash_escapes  a string holding a backslash is written E'...' with the
#                              backslashes doubled (PostgreSQL): right whatever the
#                              server's standard_conforming_strings says
#   binary_literal_template    bytes, ``{}`` taking the hex digits (X'{}' by default)
#   float_literal_specials     SQL for "inf", "-inf", "nan" (and "-0.0" where a plain
#                              -0.0 loses its sign), written inside CAST(... AS type);
#                              a missing entry means the database cannot store it


class _WrongKind(TypeError):
    """A literal processor got a value of another kind (a date compared with a String
    column); :func:`render_literal_value` then renders it by the value's own type."""


def _wrong(value: Any, kind: str) -> _WrongKind:
    return _WrongKind(f"{type(value).__name__} is not a {kind} value")


def _cannot(value: Any, why: str) -> exc.CompileError:
    return exc.CompileError(
        f"Cannot render {type(value).__name__} value {value!r:.60} as a SQL literal: {why}. "
        "Bind the value instead (compile without literal_binds and pass it as a parameter)"
    )


def quote_literal(value: str, dialect: Any) -> str:
    """``value`` as an SQL string literal for ``dialect``: quotes doubled; on dialects
    with ``literal_backslash_escapes``, E'...' with backslashes doubled when it holds
    any (so a backslash is data under either standard_conforming_strings setting)."""
    if "\x00" in value:
        raise _cannot(value, "SQL text cannot hold NUL (\\x00) characters")
    quoted = value.replace("'", "''")
    if "\\" in quoted and getattr(dialect, "literal_backslash_escapes", False):
        return "E'" + quoted.replace("\\", "\\\\") + "'"
    return "'" + quoted + "'"


def _nonfinite(value: Any, key: str, cast: str, dialect: Any) -> str:
    special = getattr(dialect, "float_literal_specials", {}).get(key)
    if special is None:
        if key == "-0.0":
            return "-0.0"
        raise _cannot(value, f"{getattr(dialect, 'name', 'this database')} has no such value")
    return f"CAST({special} AS {cast})"


def _number_literal(value: Any, dialect: Any, cast: str) -> str:
    """Integers as digits, floats by ``repr`` (the shortest text that reads back as the
    same float), Decimals in positional notation (exact, no exponent). SQLite's own
    decimal parser (3.40) misrounds about one double in ten thousand by one unit in the
    last place; bind floats where bit-exactness on SQLite matters."""
    if isinstance(value, float):
        if math.isfinite(value):
            if value == 0 and math.copysign(1.0, value) < 0:
                return _nonfinite(value, "-0.0", cast, dialect)
            return repr(value)
        key = "nan" if value != value else ("inf" if value > 0 else "-inf")
        return _nonfinite(value, key, cast, dialect)
    if isinstance(value, decimal.Decimal):
        if value.is_finite():
            return format(value, "f")
        key = "nan" if value.is_nan() else ("-inf" if value.is_signed() else "inf")
        return _nonfinite(value, key, "NUMERIC", dialect)
    if isinstance(value, bool):
        raise _wrong(value, "number")
    try:
        return str(operator.index(value))
    except TypeError:
        raise _wrong(value, "number") from None


def render_literal_value(value: Any, type_: Any, dialect: Any) -> str:
    """``value`` as SQL text, rendered by ``type_`` (a variant or decorator included);
    a value the type does not take (a date compared with a String column) is rendered
    by its own type. Raises ``CompileError`` naming the value's type and the fix when
    there is no literal form."""
    type_ = to_instance(type_)
    if value is None and not type_.should_evaluate_none:
        return "NULL"
    proc: LiteralProcessor = type_.literal_processor(dialect)
    if proc is not None:
        try:
            return proc(value)
        except _WrongKind:
            pass
    if value is None:
        return "NULL"
    own = type_for_value(value)
    if own is not NULLTYPE and type(own) is not type(type_):
        proc = own.literal_processor(dialect)
        if proc is not None:
            try:
                return proc(value)
            except _WrongKind:
                pass
    shown = "" if type_ is NULLTYPE else f" (type {type_!r})"
    raise _cannot(value, f"there is no literal form for it{shown} on {dialect.name}")


class Concatenable:
    """Mixin for types whose ``+`` means concatenation (strings, binary, arrays)."""


class Indexable:
    """Mixin for types that support ``expr[index]`` (JSON, ARRAY)."""


# -- numbers --------------------------------------------------------------------------


def _integer_literal(value: Any) -> str:
    if isinstance(value, (float, decimal.Decimal)):
        raise _wrong(value, "integer")  # rendered as the number it is, not truncated
    try:
        return str(operator.index(value))  # int, bool, IntEnum, numpy integers
    except TypeError:
        raise _wrong(value, "integer") from None


class Integer(TypeEngine):
    __visit_name__ = "integer"
    python_type = int

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        return _integer_literal


class SmallInteger(Integer):
    __visit_name__ = "small_integer"


class BigInteger(Integer):
    __visit_name__ = "big_integer"


def _to_float(v: Any) -> Any:
    return None if v is None else float(v)


# floats pass unchanged: the executemany path skips the call for them
_to_float.identity_for = float  # type: ignore[attr-defined]


def _decimal_reader(scale: int) -> Callable[[Any], Any]:
    fmt = f"%.{scale}f"
    quantum = decimal.Decimal(1).scaleb(-scale)

    def process(v: Any) -> Any:
        if v is None:
            return None
        try:
            return decimal.Decimal(fmt % v)
        except TypeError:  # stored as text (a TEXT column): exact already
            return decimal.Decimal(v).quantize(quantum)

    return process


class Numeric(TypeEngine):
    """Fixed-precision numbers; ``Decimal`` in Python unless ``asdecimal=False``."""

    __visit_name__ = "numeric"
    python_type: type = decimal.Decimal
    _default_decimal_return_scale = 10

    def __init__(
        self,
        precision: int | None = None,
        scale: int | None = None,
        decimal_return_scale: int | None = None,
        asdecimal: bool = True,
    ) -> None:
        self.precision = precision
        self.scale = scale
        self.decimal_return_scale = decimal_return_scale
        self.asdecimal = asdecimal

    @property
    def _effective_decimal_return_scale(self) -> int:
        if self.decimal_return_scale is not None:
            return self.decimal_return_scale
        if getattr(self, "scale", None) is not None:
            return int(self.scale)  # type: ignore[arg-type]
        return self._default_decimal_return_scale

    def bind_processor(self, dialect: Any) -> Processor:
        if dialect.supports_native_decimal:
            return None
        return _to_float  # sqlite3 cannot bind Decimal

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.asdecimal:
            if dialect.supports_native_decimal:
                return None
            return _decimal_reader(self._effective_decimal_return_scale)
        return _to_float

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        return lambda v: _number_literal(v, dialect, "NUMERIC")


class Float(Numeric):
    """Floating point numbers; ``float`` in Python unless ``asdecimal=True``."""

    __visit_name__ = "float"
    python_type = float
    scale = None

    def __init__(
        self,
        precision: int | None = None,
        asdecimal: bool = False,
        decimal_return_scale: int | None = None,
    ) -> None:
        self.precision = precision
        self.asdecimal = asdecimal
        self.decimal_return_scale = decimal_return_scale

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.asdecimal:
            # the driver's float (or a numeric column's Decimal) at the return scale
            return _decimal_reader(self._effective_decimal_return_scale)
        if dialect.supports_native_decimal:
            # a NUMERIC column gives Decimal; a float column (known by the driver's type
            # code, where the dialect lists them) gives floats already
            if coltype is not None and coltype in getattr(dialect, "float_type_codes", ()):
                return None
            return _to_float
        return None

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        return lambda v: _number_literal(v, dialect, "DOUBLE PRECISION")


class Double(Float):
    __visit_name__ = "double"


# -- strings --------------------------------------------------------------------------


class String(Concatenable, TypeEngine):
    __visit_name__ = "string"
    python_type = str

    def __init__(self, length: int | None = None, collation: str | None = None) -> None:
        self.length = length
        self.collation = collation

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        def process(v: Any) -> str:
            if isinstance(v, str):
                return quote_literal(v, dialect)
            raise _wrong(v, "string")

        return process


class Text(String):
    __visit_name__ = "text"


class Unicode(String):
    __visit_name__ = "unicode"


class UnicodeText(Text):
    __visit_name__ = "unicode_text"


# -- booleans -------------------------------------------------------------------------

_NOT_BOOL = object()


def _strict_bool(table: dict[Any, Any]) -> Callable[[Any], Any]:
    get = table.get

    def process(v: Any) -> Any:
        out = get(v, _NOT_BOOL)
        if out is _NOT_BOOL:
            raise TypeError(f"Not a boolean value: {v!r} (a Boolean takes True, False, 1 or 0)")
        return out

    return process


class Boolean(TypeEngine):
    __visit_name__ = "boolean"
    python_type = bool

    def __init__(self, create_constraint: bool = False, name: str | None = None) -> None:
        self.create_constraint = create_constraint
        self.name = name

    def bind_processor(self, dialect: Any) -> Processor:
        # True == 1 and False == 0 as dict keys, so 1/0 are accepted as SQLAlchemy does;
        # anything else ("no", 2) raises instead of silently becoming true.
        if dialect.supports_native_boolean:
            return _strict_bool({True: True, False: False, None: None})
        return _strict_bool({True: 1, False: 0, None: None})

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.supports_native_boolean:
            return None
        return lambda v: None if v is None else bool(v)

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        true, false = ("true", "false") if dialect.supports_native_boolean else ("1", "0")

        def process(v: Any) -> str:
            # the values the bind processor takes (True, False, 1, 0), nothing else
            if v is True or v is False or (type(v) is int and v in (0, 1)):
                return true if v else false
            raise exc.CompileError(
                f"Not a boolean value: {v!r} (a Boolean takes True, False, 1 or 0)"
            )

        return process


# -- dates and times ------------------------------------------------------------------


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


def _aware(v: Any) -> bool:
    return v.tzinfo is not None and v.utcoffset() is not None


def _datetime_literal(dialect: Any) -> Callable[[Any], str]:
    """Where the database has the types, the SQL standard's typed literals (``TIMESTAMP
    '...'``) so that the value keeps its type anywhere (``SELECT`` lists, comparisons
    with expressions); elsewhere the stored text form, as the bind processor writes it."""
    if dialect.supports_native_datetime:

        def native(v: Any) -> str:
            if isinstance(v, dt.datetime):
                kind = "TIMESTAMP WITH TIME ZONE" if _aware(v) else "TIMESTAMP"
                return f"{kind} {quote_literal(v.isoformat(' '), dialect)}"
            if isinstance(v, dt.date):
                return f"TIMESTAMP {quote_literal(v.isoformat(), dialect)}"
            raise _wrong(v, "datetime")

        return native

    def stored(v: Any) -> str:
        if isinstance(v, dt.date):
            return quote_literal(_datetime_to_str(v), dialect)
        raise _wrong(v, "datetime")

    return stored


class DateTime(TypeEngine):
    __visit_name__ = "datetime"
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

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        return _datetime_literal(dialect)


class Date(TypeEngine):
    __visit_name__ = "date"
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
        return _parse(lambda s: dt.date.fromisoformat(s[:10]))

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        native = dialect.supports_native_datetime

        def process(v: Any) -> str:
            if not isinstance(v, dt.date):
                raise _wrong(v, "date")
            # a datetime is a date too: its date, as the bind processor keeps
            text = "%04d-%02d-%02d" % (v.year, v.month, v.day)  # noqa: UP031
            return (
                f"DATE {quote_literal(text, dialect)}" if native else quote_literal(text, dialect)
            )

        return process


class Time(TypeEngine):
    __visit_name__ = "time"
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

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        native = dialect.supports_native_datetime

        def process(v: Any) -> str:
            if not isinstance(v, dt.time):
                raise _wrong(v, "time")
            if not native:
                return quote_literal(_time_to_str(v), dialect)
            kind = "TIME WITH TIME ZONE" if _aware(v) else "TIME"
            return f"{kind} {quote_literal(v.isoformat(), dialect)}"

        return process


_EPOCH = dt.datetime(1970, 1, 1)


class Interval(TypeEngine):
    """A ``datetime.timedelta``: native on PostgreSQL; elsewhere stored as the DateTime
    ``1970-01-01 + value`` (as SQLAlchemy does)."""

    __visit_name__ = "interval"
    python_type = dt.timedelta
    epoch = _EPOCH

    def __init__(
        self,
        native: bool = True,
        second_precision: int | None = None,
        day_precision: int | None = None,
    ) -> None:
        self.native = native
        self.second_precision = second_precision
        self.day_precision = day_precision

    def bind_processor(self, dialect: Any) -> Processor:
        if self.native and dialect.supports_native_interval:
            return None
        epoch = self.epoch
        as_datetime = DateTime().bind_processor(dialect)
        if as_datetime is None:
            return lambda v: None if v is None else epoch + v
        to_db = as_datetime
        return lambda v: None if v is None else to_db(epoch + v)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.native and dialect.supports_native_interval:
            return None
        epoch = self.epoch
        as_datetime = DateTime().result_processor(dialect, coltype)
        if as_datetime is None:
            return lambda v: None if v is None else v - epoch
        from_db = as_datetime
        return lambda v: None if v is None else from_db(v) - epoch

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        if self.native and dialect.supports_native_interval:

            def native(v: Any) -> str:
                if not isinstance(v, dt.timedelta):
                    raise _wrong(v, "timedelta")
                return f"INTERVAL {quote_literal(_interval_text(v), dialect)}"

            return native
        epoch = self.epoch
        as_datetime = _datetime_literal(dialect)

        def stored(v: Any) -> str:
            if not isinstance(v, dt.timedelta):
                raise _wrong(v, "timedelta")
            return as_datetime(epoch + v)

        return stored


def _interval_text(v: dt.timedelta) -> str:
    """``-1 days 86399.000001 seconds``: a timedelta's own normalized parts, which
    PostgreSQL reads back as the same timedelta."""
    parts = [f"{v.days} days"] if v.days else []
    if v.seconds or v.microseconds or not parts:
        micro = f".{v.microseconds:06d}" if v.microseconds else ""
        parts.append(f"{v.seconds}{micro} seconds")
    return " ".join(parts)


# -- binary ---------------------------------------------------------------------------


def _to_bytes(v: Any) -> Any:
    return None if v is None else bytes(v)


class _Binary(TypeEngine):
    python_type = bytes

    def __init__(self, length: int | None = None) -> None:
        self.length = length

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        return _to_bytes if dialect.driver_returns_memoryview else None

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        template: str = getattr(dialect, "binary_literal_template", "X'{}'")

        def process(v: Any) -> str:
            if not isinstance(v, (bytes, bytearray, memoryview)):
                raise _wrong(v, "bytes")
            return template.format(bytes(v).hex())

        return process


class LargeBinary(_Binary):
    __visit_name__ = "large_binary"


# -- Enum -----------------------------------------------------------------------------


class Enum(String):
    """A fixed set of string values, or a Python ``enum.Enum`` class.

    ``Enum(Color)`` stores the members' names (or ``values_callable(Color)``) and gives
    back members. A value outside the set raises ``LookupError`` naming the valid values
    (the engine reports it as a ``StatementError`` with the statement); an unknown
    *string* passes through unless ``validate_strings=True``, as in SQLAlchemy.
    """

    __visit_name__ = "enum"

    def __init__(
        self,
        *enums: Any,
        name: str | None = None,
        native_enum: bool = True,
        create_constraint: bool = False,
        length: int | None = None,
        schema: str | None = None,
        metadata: Any = None,
        inherit_schema: bool = False,
        quote: bool | None = None,
        values_callable: Callable[[Any], list[str]] | None = None,
        validate_strings: bool = False,
        omit_aliases: bool = True,
        sort_key_function: Any = None,
        collation: str | None = None,
    ) -> None:
        self.values_callable = values_callable
        self.validate_strings = validate_strings
        self.omit_aliases = omit_aliases
        self.native_enum = native_enum
        self.create_constraint = create_constraint
        self.schema = schema
        self.metadata = metadata
        self.inherit_schema = inherit_schema
        self.quote = quote
        self.sort_key_function = sort_key_function
        enum_class: type[_enum.Enum] | None = None
        if len(enums) == 1 and isinstance(enums[0], type) and issubclass(enums[0], _enum.Enum):
            enum_class = enums[0]
            members: list[Any] = (
                list(enum_class) if omit_aliases else list(enum_class.__members__.values())
            )
            db_values = (
                [str(v) for v in values_callable(enum_class)]
                if values_callable is not None
                else [m.name for m in members]
            )
            if len(db_values) != len(members):
                raise exc.ArgumentError(
                    f"values_callable gave {len(db_values)} values for the "
                    f"{len(members)} members of {enum_class.__name__}"
                )
            self._object_lookup: dict[Any, Any] = dict(zip(db_values, members, strict=True))
            valid: dict[Any, Any] = dict(zip(members, db_values, strict=True))
        else:
            for e in enums:
                if not isinstance(e, str):
                    raise exc.ArgumentError(
                        f"Enum() takes strings or one enum.Enum class, got {e!r}"
                    )
            db_values = list(enums)
            self._object_lookup = {v: v for v in db_values}
            valid = {}
        valid.update((v, v) for v in db_values)
        self._valid_lookup = valid
        self.enum_class = enum_class
        self.enums = db_values
        if name is None and enum_class is not None:
            name = enum_class.__name__.lower()
        self.name = name
        if length is None:
            length = max((len(v) for v in db_values), default=0)
        elif db_values and length < max(len(v) for v in db_values):
            raise ValueError(
                f"When provided, length must be larger or equal than the length of the "
                f"longest enum value. {length} < {max(len(v) for v in db_values)}"
            )
        super().__init__(length=length, collation=collation)

    @property
    def python_type(self) -> type:  # type: ignore[override]
        return self.enum_class if self.enum_class is not None else str

    def _lookup_error(self, value: Any) -> LookupError:
        shown = ", ".join(repr(v) for v in self.enums[:20])
        if len(self.enums) > 20:
            shown += f", ... ({len(self.enums)} in all)"
        owner = self.enum_class.__name__ if self.enum_class is not None else "Enum"
        hint = f" or members of {owner}" if self.enum_class is not None else ""
        return EnumLookupError(
            f"{value!r} is not among the defined enum values of {owner}"
            f"{f' (name={self.name!r})' if self.name else ''}; "
            f"valid values are {shown}{hint}"
        )

    def bind_processor(self, dialect: Any) -> Processor:
        valid = self._valid_lookup
        passthrough_strings = not self.validate_strings
        error = self._lookup_error

        def process(v: Any) -> Any:
            if v is None:
                return None
            try:
                return valid[v]
            except (KeyError, TypeError):
                if passthrough_strings and isinstance(v, str):
                    return v
                raise error(v) from None

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.enum_class is None:
            return None
        objects = self._object_lookup
        error = self._lookup_error

        def process(v: Any) -> Any:
            if v is None:
                return None
            try:
                return objects[v]
            except KeyError:
                raise error(v) from None

        return process

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        to_db = self.bind_processor(dialect)
        assert to_db is not None

        def process(v: Any) -> str:
            try:
                stored = to_db(v)
            except LookupError as e:
                raise exc.CompileError(str(e)) from e
            return quote_literal(stored, dialect)

        return process

    def __repr__(self) -> str:
        args = [self.enum_class.__name__] if self.enum_class else [repr(e) for e in self.enums]
        if self.name and self.enum_class is None:
            args.append(f"name={self.name!r}")
        return f"{type(self).__name__}({', '.join(args)})"


class EnumLookupError(exc.InvalidRequestError, LookupError):
    """A value that is not one of an Enum's values. A ``LookupError`` (as SQLAlchemy
    raises); being an ``InvalidRequestError`` too, the engine wraps it in a
    ``StatementError`` that shows the statement and parameters."""


# -- JSON -----------------------------------------------------------------------------


class _JSONNull:
    def __repr__(self) -> str:
        return "JSON.NULL"


class JSON(Indexable, TypeEngine):
    """JSON documents. Python ``None`` is stored as JSON ``null`` unless
    ``none_as_null=True`` (then SQL NULL); ``JSON.NULL`` is always JSON ``null``.

    Serialization uses ``json.dumps``/``json.loads`` (a dialect may carry
    ``_json_serializer``/``_json_deserializer``). PostgreSQL drivers already parse
    json/jsonb columns, so there the result needs no processor; a bare
    ``SELECT :param`` has no json type on PostgreSQL (write ``CAST(:param AS JSONB)``).
    """

    __visit_name__ = "JSON"
    python_type = dict
    hashable = False
    NULL: ClassVar[Any] = _JSONNull()

    def __init__(self, none_as_null: bool = False) -> None:
        self.none_as_null = none_as_null

    @property
    def should_evaluate_none(self) -> bool:
        return not self.none_as_null

    @should_evaluate_none.setter
    def should_evaluate_none(self, value: bool) -> None:
        self.none_as_null = not value

    def bind_processor(self, dialect: Any) -> Processor:
        dumps: Callable[[Any], str] = getattr(dialect, "_json_serializer", None) or json.dumps
        null = JSON.NULL
        if self.none_as_null:

            def process(v: Any) -> Any:
                if v is None:
                    return None
                if v is null:
                    return "null"
                return dumps(v)

        else:

            def process(v: Any) -> Any:
                if v is null:
                    return "null"
                return dumps(v)

        return process

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if dialect.driver_decodes_json:
            return None
        loads: Callable[[Any], Any] = getattr(dialect, "_json_deserializer", None) or json.loads
        # SQLite gives a column declared JSON numeric affinity: the text '1.5' comes
        # back as the number 1.5, already decoded (None, too, needs no decoding)
        return lambda v: loads(v) if v.__class__ is str else v

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        # the serialized document as a string literal, which the database reads into a
        # json/jsonb column (or compares with one) as it reads a bound string
        dumps = self.bind_processor(dialect)
        assert dumps is not None

        def process(v: Any) -> str:
            try:
                text = dumps(v)
            except (TypeError, ValueError) as e:
                raise _cannot(v, f"it does not serialize to JSON ({e})") from e
            return "NULL" if text is None else quote_literal(text, dialect)

        return process


# -- UUID -----------------------------------------------------------------------------


def _uuid_hex(v: Any) -> Any:
    if v is None:
        return None
    try:
        return v.hex
    except AttributeError:
        return _uuid.UUID(v).hex


def _to_str(v: Any) -> Any:
    return None if v is None else str(v)


def _to_uuid(v: Any) -> Any:
    if v is None or isinstance(v, _uuid.UUID):
        return v
    return _uuid.UUID(str(v))


class Uuid(TypeEngine):
    """A UUID: ``uuid.UUID`` in Python (strings with ``as_uuid=False``); the native type
    where the database has one, else 32 hex characters."""

    __visit_name__ = "uuid"
    python_type = _uuid.UUID

    def __init__(self, as_uuid: bool = True, native_uuid: bool = True) -> None:
        self.as_uuid = as_uuid
        self.native_uuid = native_uuid

    def bind_processor(self, dialect: Any) -> Processor:
        if self.native_uuid and dialect.supports_native_uuid:
            return None if dialect.driver_binds_uuid else _to_str
        if self.as_uuid:
            return _uuid_hex
        return lambda v: None if v is None else _uuid.UUID(v).hex

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        if self.native_uuid and dialect.supports_native_uuid:
            if self.as_uuid:
                return None if dialect.driver_returns_uuid else _to_uuid
            return _to_str if dialect.driver_returns_uuid else None
        if self.as_uuid:
            return _to_uuid
        return lambda v: None if v is None else str(_uuid.UUID(v))

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        native = self.native_uuid and dialect.supports_native_uuid

        def process(v: Any) -> str:
            if isinstance(v, _uuid.UUID):
                u = v
            elif isinstance(v, str):
                try:
                    u = _uuid.UUID(v)
                except ValueError:
                    raise _wrong(v, "UUID") from None
            else:
                raise _wrong(v, "UUID")
            # typed where native, so a bare SELECT of it is a uuid too; else the 32 hex
            # digits the bind processor stores
            return f"UUID '{u}'" if native else f"'{u.hex}'"

        return process


# -- ARRAY ----------------------------------------------------------------------------


def _array_map(proc: Callable[[Any], Any], dimensions: int | None, as_tuple: bool) -> Processor:
    seq: Callable[[Any], Any] = tuple if as_tuple else list
    if dimensions == 1:
        return lambda v: None if v is None else seq([proc(x) for x in v])

    def walk(v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return seq([walk(x) for x in v])
        return proc(v)

    return lambda v: None if v is None else walk(v)


def _identity(v: Any) -> Any:
    return v


class ARRAY(Indexable, Concatenable, TypeEngine):
    """An array of ``item_type`` (PostgreSQL). Lists (nested for more dimensions) are
    converted item by item with the item type's processors."""

    __visit_name__ = "ARRAY"
    python_type = list
    hashable = False

    def __init__(
        self,
        item_type: Any,
        as_tuple: bool = False,
        dimensions: int | None = None,
        zero_indexes: bool = False,
    ) -> None:
        if isinstance(item_type, ARRAY) or (
            isinstance(item_type, type) and issubclass(item_type, ARRAY)
        ):
            raise exc.ArgumentError(
                "Do not nest ARRAY types; ARRAY(basetype) handles multi-dimensional "
                "arrays of basetype (give dimensions=N)"
            )
        self.item_type = to_instance(item_type)
        self.as_tuple = as_tuple
        self.dimensions = dimensions
        self.zero_indexes = zero_indexes

    def _check(self, dialect: Any) -> None:
        if not dialect.supports_native_array:
            raise exc.CompileError(
                f"ARRAY is not supported by the {dialect.name} dialect; store a list in a "
                "JSON column instead"
            )

    def bind_processor(self, dialect: Any) -> Processor:
        self._check(dialect)
        item = self.item_type.bind_processor(dialect)
        if item is None:
            return None
        return _array_map(item, self.dimensions, False)

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        self._check(dialect)
        item = self.item_type.result_processor(dialect, coltype)
        if item is None and not self.as_tuple:
            return None
        return _array_map(item or _identity, self.dimensions, self.as_tuple)

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        """``ARRAY[1, 2]::INTEGER[]`` (nested ``ARRAY[...]`` per dimension): cast to the
        column's array type, so that an empty array, an array of NULLs or one compared
        with a ``VARCHAR[]`` column has the right type."""
        self._check(dialect)
        from hermetic.sql.ddl import DDLTypeCompiler  # the DDL name of the item type

        item_type = self.item_type
        cast = "::" + DDLTypeCompiler(dialect).process(item_type) + "[]"
        dimensions = self.dimensions

        def items(v: Any, depth: int) -> str:
            nested = depth < dimensions if dimensions else None
            out = []
            for x in v:
                if (nested is None and isinstance(x, (list, tuple))) or nested:
                    out.append(items(x, depth + 1))
                else:
                    out.append(render_literal_value(x, item_type, dialect))
            return "ARRAY[" + ", ".join(out) + "]"

        def process(v: Any) -> str:
            if not isinstance(v, (list, tuple)):
                raise _wrong(v, "list")
            return items(v, 1) + cast

        return process


# -- user types -----------------------------------------------------------------------


class UserDefinedType(TypeEngine):
    """Base for types with their own DDL: define ``get_col_spec(**kw)`` and optionally
    ``bind_processor``/``result_processor``."""

    __visit_name__ = "user_defined"
    cache_ok: bool | None = None


class TypeDecorator(TypeEngine):
    """Adds Python-side behaviour to an existing type (``impl``).

    Subclasses set ``impl`` (a type class or instance) and ``cache_ok``, and override
    ``process_bind_param(value, dialect)`` / ``process_result_value(value, dialect)``;
    ``load_dialect_impl(dialect)`` may pick a different underlying type per dialect.
    Constructor arguments go to ``impl``: ``MyType(50)`` wraps ``String(50)``.
    """

    __visit_name__ = "type_decorator"
    impl: Any
    cache_ok: bool | None = None
    coerce_to_is_types: tuple[type, ...] = (type(None),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        if not hasattr(type(self), "impl"):
            raise AssertionError(
                f"TypeDecorator implementations require a class-level variable 'impl' "
                f"which refers to the class of type being decorated ({type(self).__name__} "
                "has none)"
            )
        self.impl = to_instance(type(self).impl, *args, **kwargs)
        self.python_type = self.impl.python_type

    def __getattr__(self, key: str) -> Any:
        # the underlying type's attributes (length, timezone ...) read through
        if key.startswith("__") or key == "impl":
            raise AttributeError(key)
        return getattr(self.__dict__.get("impl"), key)

    @property
    def impl_instance(self) -> TypeEngine:
        impl: TypeEngine = self.impl
        return impl

    def load_dialect_impl(self, dialect: Any) -> TypeEngine:
        """The type that handles values on ``dialect`` (default: ``impl``)."""
        return self.impl_instance

    def dialect_impl(self, dialect: Any) -> TypeEngine:
        variant = self._variant_mapping.get(dialect.name)
        return variant if variant is not None else self.load_dialect_impl(dialect)

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        raise NotImplementedError

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        raise NotImplementedError

    def process_literal_param(self, value: Any, dialect: Any) -> Any:
        raise NotImplementedError

    def bind_processor(self, dialect: Any) -> Processor:
        impl_proc = self.load_dialect_impl(dialect).bind_processor(dialect)
        if type(self).process_bind_param is TypeDecorator.process_bind_param:
            return impl_proc
        fn = self.process_bind_param
        if impl_proc is None:
            return lambda v: fn(v, dialect)
        inner = impl_proc
        return lambda v: inner(fn(v, dialect))

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        impl_proc = self.load_dialect_impl(dialect).result_processor(dialect, coltype)
        if type(self).process_result_value is TypeDecorator.process_result_value:
            return impl_proc
        fn = self.process_result_value
        if impl_proc is None:
            return lambda v: fn(v, dialect)
        inner = impl_proc
        return lambda v: fn(inner(v), dialect)

    def literal_processor(self, dialect: Any) -> LiteralProcessor:
        """``process_literal_param`` (else ``process_bind_param``) converts the value,
        then the underlying type renders it."""
        impl = self.load_dialect_impl(dialect)
        cls = type(self)
        if cls.process_literal_param is not TypeDecorator.process_literal_param:
            convert = self.process_literal_param
        elif cls.process_bind_param is not TypeDecorator.process_bind_param:
            convert = self.process_bind_param
        else:
            return impl.literal_processor(dialect)
        return lambda v: render_literal_value(convert(v, dialect), impl, dialect)

    def coerce_compared_value(self, op: Any, value: Any) -> TypeEngine:
        return self

    def copy(self, **kw: Any) -> TypeEngine:
        new = _copy.copy(self)
        new.__dict__.update(kw)
        return new

    @property
    def _type_affinity(self) -> type[TypeEngine]:
        return self.impl_instance._type_affinity

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.impl_instance!r})"


class PickleType(TypeDecorator):
    """Python objects stored pickled in a binary column."""

    impl: Any = LargeBinary
    cache_ok = True

    def __init__(
        self,
        protocol: int = pickle.HIGHEST_PROTOCOL,
        pickler: Any = None,
        comparator: Callable[[Any, Any], bool] | None = None,
        impl: Any = None,
    ) -> None:
        self.protocol = protocol
        self.pickler = pickler or pickle
        self.comparator = comparator
        super().__init__()
        if impl is not None:
            self.impl = to_instance(impl)

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.pickler.dumps(value, self.protocol)

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.pickler.loads(value)

    def __repr__(self) -> str:
        return "PickleType()"


# -- the SQL standard's uppercase names: exactly that type in DDL ---------------------


class INTEGER(Integer):
    __visit_name__ = "INTEGER"


INT = INTEGER


class SMALLINT(SmallInteger):
    __visit_name__ = "SMALLINT"


class BIGINT(BigInteger):
    __visit_name__ = "BIGINT"


class NUMERIC(Numeric):
    __visit_name__ = "NUMERIC"


class DECIMAL(Numeric):
    __visit_name__ = "DECIMAL"


class FLOAT(Float):
    __visit_name__ = "FLOAT"


class REAL(Float):
    __visit_name__ = "REAL"


class DOUBLE(Double):
    __visit_name__ = "DOUBLE"


class DOUBLE_PRECISION(Double):
    __visit_name__ = "DOUBLE_PRECISION"


class VARCHAR(String):
    __visit_name__ = "VARCHAR"


class NVARCHAR(Unicode):
    __visit_name__ = "NVARCHAR"


class CHAR(String):
    __visit_name__ = "CHAR"


class NCHAR(Unicode):
    __visit_name__ = "NCHAR"


class TEXT(Text):
    __visit_name__ = "TEXT"


class CLOB(Text):
    __visit_name__ = "CLOB"


class BOOLEAN(Boolean):
    __visit_name__ = "BOOLEAN"


class DATE(Date):
    __visit_name__ = "DATE"


class DATETIME(DateTime):
    __visit_name__ = "DATETIME"


class TIME(Time):
    __visit_name__ = "TIME"


class TIMESTAMP(DateTime):
    __visit_name__ = "TIMESTAMP"

    def __init__(self, timezone: bool = False) -> None:
        super().__init__(timezone=timezone)


class BINARY(_Binary):
    __visit_name__ = "BINARY"


class VARBINARY(_Binary):
    __visit_name__ = "VARBINARY"


class BLOB(LargeBinary):
    __visit_name__ = "BLOB"


class UUID(Uuid):
    __visit_name__ = "UUID"


# -- helpers --------------------------------------------------------------------------

NULLTYPE = NullType()
BOOLEANTYPE = Boolean()
STRINGTYPE = String()
INTEGERTYPE = Integer()

_TYPE_FOR_PYTHON: dict[type, TypeEngine] = {
    bool: BOOLEANTYPE,
    int: INTEGERTYPE,
    float: Float(),
    str: STRINGTYPE,
    decimal.Decimal: Numeric(),
    dt.datetime: DateTime(),
    dt.date: Date(),
    dt.time: Time(),
    dt.timedelta: Interval(),
    bytes: LargeBinary(),
    _uuid.UUID: Uuid(),
    type(None): NULLTYPE,
}


def to_instance(t: Any, *args: Any, **kwargs: Any) -> TypeEngine:
    """A type instance from a type class (called with ``args``), an instance or None."""
    if t is None:
        return NULLTYPE
    if isinstance(t, type):
        instance: TypeEngine = t(*args, **kwargs)
        return instance
    if not isinstance(t, TypeEngine):
        raise exc.ArgumentError(f"Expected a type class or instance, got {t!r}")
    return t


def type_for_value(value: Any) -> TypeEngine:
    """The type SQLAlchemy infers for a literal Python value (NullType when unknown)."""
    found = _TYPE_FOR_PYTHON.get(type(value))
    if found is not None:
        return found
    if isinstance(value, _enum.Enum):
        return Enum(type(value))
    for kind, t in _TYPE_FOR_PYTHON.items():  # subclasses (a datetime subclass ...)
        if kind is not type(None) and isinstance(value, kind):
            return t
    return NULLTYPE
