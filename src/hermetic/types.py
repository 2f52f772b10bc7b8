"""``hermetic.types``: the column types."""

from hermetic.sql.sqltypes import (
    NULLTYPE,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Double,
    Float,
    Integer,
    LargeBinary,
    NullType,
    Numeric,
    SmallInteger,
    String,
    Text,
    Time,
    TypeEngine,
    Unicode,
    UnicodeText,
)

__all__ = ["NULLTYPE", "BigInteger", "Boolean", "Date", "DateTime", "Double", "Float",
           "Integer", "LargeBinary", "NullType", "Numeric", "SmallInteger", "String", "Text",
           "Time", "TypeEngine", "Unicode", "UnicodeText"]
