"""PostgreSQL's own types (``JSONB``, ``ARRAY``, ``INET`` ...) and the PostgreSQL
spellings of generic ones (``TIMESTAMP(timezone=True)``, ``BYTEA``, ``ENUM(name=...)``).

They subclass the generic types, so values are converted by the same processors; what
they add is the DDL name (``__visit_name__``) and, for INET/CIDR, the string form that
SQLAlchemy returns whatever the driver.
"""

from __future__ import annotations

from typing import Any

from hermetic.sql import sqltypes
from hermetic.sql.sqltypes import Processor


class JSON(sqltypes.JSON):
    """PostgreSQL ``json``."""

    __visit_name__ = "JSON"

    def __init__(self, none_as_null: bool = False, astext_type: Any = None) -> None:
        super().__init__(none_as_null=none_as_null)
        self.astext_type = sqltypes.to_instance(astext_type or sqltypes.Text)


class JSONB(JSON):
    """PostgreSQL ``jsonb``."""

    __visit_name__ = "JSONB"


class ARRAY(sqltypes.ARRAY):
    """PostgreSQL arrays: ``ARRAY(Integer)``, ``ARRAY(String, dimensions=2)``."""


class BYTEA(sqltypes.LargeBinary):
    __visit_name__ = "BYTEA"


class INTERVAL(sqltypes.Interval):
    """``INTERVAL [fields] [(precision)]``; always native on PostgreSQL."""

    __visit_name__ = "INTERVAL"

    def __init__(self, precision: int | None = None, fields: str | None = None) -> None:
        super().__init__(native=True, second_precision=precision)
        self.precision = precision
        self.fields = fields


class TIMESTAMP(sqltypes.TIMESTAMP):
    __visit_name__ = "TIMESTAMP"

    def __init__(self, timezone: bool = False, precision: int | None = None) -> None:
        super().__init__(timezone=timezone)
        self.precision = precision


class TIME(sqltypes.TIME):
    __visit_name__ = "TIME"

    def __init__(self, timezone: bool = False, precision: int | None = None) -> None:
        super().__init__(timezone=timezone)
        self.precision = precision


class ENUM(sqltypes.Enum):
    """A named PostgreSQL enum type (``CREATE TYPE name AS ENUM (...)``)."""

    __visit_name__ = "ENUM"

    def __init__(self, *enums: Any, create_type: bool = True, **kw: Any) -> None:
        kw.setdefault("native_enum", True)
        super().__init__(*enums, **kw)
        self.create_type = create_type


def _ip_to_str(v: Any) -> Any:
    return None if v is None else str(v)


class _NetworkType(sqltypes.TypeEngine):
    python_type = str

    def result_processor(self, dialect: Any, coltype: Any) -> Processor:
        # psycopg 3 gives ipaddress objects; SQLAlchemy returns the text form
        return _ip_to_str if dialect.driver_returns_ip_objects else None


class INET(_NetworkType):
    __visit_name__ = "INET"


class CIDR(_NetworkType):
    __visit_name__ = "CIDR"


class MACADDR(sqltypes.TypeEngine):
    __visit_name__ = "MACADDR"
    python_type = str


class MACADDR8(sqltypes.TypeEngine):
    __visit_name__ = "MACADDR8"
    python_type = str


class MONEY(sqltypes.TypeEngine):
    __visit_name__ = "MONEY"
    python_type = str


class OID(sqltypes.TypeEngine):
    __visit_name__ = "OID"
    python_type = int


class REGCLASS(sqltypes.TypeEngine):
    __visit_name__ = "REGCLASS"
    python_type = str


class TSVECTOR(sqltypes.TypeEngine):
    __visit_name__ = "TSVECTOR"
    python_type = str


class CITEXT(sqltypes.TEXT):
    __visit_name__ = "CITEXT"


class BIT(sqltypes.TypeEngine):
    __visit_name__ = "BIT"
    python_type = str

    def __init__(self, length: int | None = None, varying: bool = False) -> None:
        self.length = length if length is not None or varying else 1
        self.varying = varying


UUID = sqltypes.UUID
DOUBLE_PRECISION = sqltypes.DOUBLE_PRECISION
REAL = sqltypes.REAL
