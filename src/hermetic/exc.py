"""One exception hierarchy for hermetic.

Names follow SQLAlchemy 2.0's ``sqlalchemy.exc`` (``SQLAlchemyError`` is an alias of our
base, ``HermeticError``) and the DBAPI wrappers follow PEP 249's tree. Every error may
carry a documentation ``code``; its message then ends with a pointer to
``docs/errors.md#<code>``, where the cause and the fix are written down.

Wrapped driver errors keep the driver's exception in ``.orig`` (and as ``__cause__``),
the statement in ``.statement`` and the parameters in ``.params``; the message shows the
statement and the parameters truncated so a log line stays readable.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

__all__ = [
    "HermeticError",
    "SQLAlchemyError",
    "ArgumentError",
    "NoSuchModuleError",
    "ObjectNotExecutableError",
    "CompileError",
    "DisconnectionError",
    "InvalidatePoolError",
    "TimeoutError",
    "InvalidRequestError",
    "ResourceClosedError",
    "NoSuchColumnError",
    "NoResultFound",
    "MultipleResultsFound",
    "PendingRollbackError",
    "StatementError",
    "DBAPIError",
    "InterfaceError",
    "DatabaseError",
    "DataError",
    "OperationalError",
    "IntegrityError",
    "InternalError",
    "ProgrammingError",
    "NotSupportedError",
    "HermeticWarning",
    "SAWarning",
    "ConnectionLeakWarning",
    "NPlusOneError",
    "NPlusOneWarning",
]

DOCS_URL = "https://github.com/hermetic-orm/hermetic/blob/main/docs/errors.md"


class HermeticError(Exception):
    """Base of every error hermetic raises."""

    code: str | None = None

    def __init__(self, *arg: Any, code: str | None = None) -> None:
        if code is not None:
            self.code = code
        super().__init__(*arg)

    def _code_str(self) -> str:
        if not self.code:
            return ""
        return f"(Background on this error at: {DOCS_URL}#{self.code})"

    def _message(self) -> str:
        if len(self.args) == 1:
            text = self.args[0]
            return text if isinstance(text, str) else str(text)
        return str(self.args) if self.args else ""

    def __str__(self) -> str:
        message = self._message()
        code = self._code_str()
        return f"{message}\n{code}" if code else message


SQLAlchemyError = HermeticError


class ArgumentError(HermeticError):
    """A function or constructor was called with arguments that cannot work."""


class NoSuchModuleError(ArgumentError):
    """A dialect or driver named in a URL is unknown or not installed."""


class ObjectNotExecutableError(ArgumentError):
    """An object that is not a statement was passed to ``execute()``."""

    def __init__(self, target: Any) -> None:
        super().__init__(
            f"Not an executable object: {target!r}. "
            "Wrap SQL strings in text(), e.g. conn.execute(text('SELECT 1')), "
            "or use conn.exec_driver_sql() for driver-native SQL."
        )
        self.target = target

    def __reduce__(self) -> Any:
        return self.__class__, (self.target,)


class NoForeignKeysError(ArgumentError):
    """A join's ON clause could not be inferred: no foreign key links the two sides."""


class AmbiguousForeignKeysError(ArgumentError):
    """A join's ON clause could not be inferred: several foreign keys link the sides."""


class CompileError(HermeticError):
    """A statement could not be rendered to SQL."""


class UnsupportedCompilationError(CompileError):
    """A construct has no rendering for the dialect in use."""


class DisconnectionError(HermeticError):
    """A connection was found dead (used by pool listeners to request a retry)."""

    invalidate_pool: bool = False


class InvalidatePoolError(DisconnectionError):
    """Like DisconnectionError, and every pooled connection should be replaced."""

    invalidate_pool = True


class TimeoutError(HermeticError):  # noqa: A001 - the public name SQLAlchemy uses
    """No connection became available within the pool's timeout."""


class InvalidRequestError(HermeticError):
    """The operation is not valid in the object's current state."""


class IdentifierError(HermeticError):
    """A schema name is too long or otherwise invalid."""


class ResourceClosedError(InvalidRequestError):
    """A closed connection, transaction or result was used."""


class NoSuchColumnError(InvalidRequestError, KeyError):
    """A row was asked for a column it does not have."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return HermeticError.__str__(self)


class NoResultFound(InvalidRequestError):
    """``one()`` / ``scalar_one()`` found no row."""


class MultipleResultsFound(InvalidRequestError):
    """``one()`` / ``one_or_none()`` / ``scalar_one()`` found more than one row."""


class NoInspectionAvailable(InvalidRequestError):
    """``inspect()`` was given an object it cannot inspect."""


class PendingRollbackError(InvalidRequestError):
    """A transaction failed and must be rolled back before it can be used again."""


class UnboundExecutionError(InvalidRequestError):
    """A statement was executed without an engine or connection to run on."""


class NoSuchTableError(InvalidRequestError):
    """A table named for reflection does not exist."""


class NoReferenceError(InvalidRequestError):
    """A foreign key's target cannot be found."""


class NoReferencedTableError(NoReferenceError):
    """A foreign key names a table that is not in its MetaData."""

    def __init__(self, message: str, tname: str) -> None:
        super().__init__(message)
        self.table_name = tname


class NoReferencedColumnError(NoReferenceError):
    """A foreign key names a column its target table does not have."""

    def __init__(self, message: str, tname: str, cname: str) -> None:
        super().__init__(message)
        self.table_name = tname
        self.column_name = cname


class DuplicateColumnError(ArgumentError):
    """A Table already has a column of that name."""


class MissingGreenlet(InvalidRequestError):
    """Database I/O was attempted where the asyncio bridge cannot run it."""


class AwaitRequired(InvalidRequestError):
    """An async driver was called without going through the asyncio bridge."""


class DontWrapMixin:
    """Exceptions with this mixin pass through execution without being wrapped."""


def _truncate(value: Any, limit: int = 300) -> str:
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 40]} ... displaying {limit - 40} of {len(text)} characters"


def _render_params(params: Any, ismulti: bool | None = None) -> str:
    if params is None:
        return ""
    if (
        ismulti is not False  # one positional set may hold a tuple value
        and isinstance(params, (list, tuple))
        and params
        and isinstance(params[0], (dict, tuple, list))
    ):
        if len(params) > 10:
            shown = ", ".join(_truncate(p, 120) for p in params[:2])
            tail = _truncate(params[-1], 120)
            return f"[{shown}  ... {len(params) - 3} more parameter sets ...  {tail}]"
        return _truncate(list(params), 600)
    return _truncate(params)


class StatementError(HermeticError):
    """An error raised while a statement was being prepared or run.

    ``statement`` and ``params`` are those of the failed execution; ``orig`` is the
    underlying exception.
    """

    statement: str | None
    params: Any
    orig: BaseException | None
    ismulti: bool | None
    connection_invalidated: bool = False

    def __init__(
        self,
        message: str,
        statement: str | None,
        params: Any,
        orig: BaseException | None,
        hide_parameters: bool = False,
        code: str | None = None,
        ismulti: bool | None = None,
    ) -> None:
        super().__init__(message, code=code)
        self.statement = statement
        self.params = params
        self.orig = orig
        self.ismulti = ismulti
        self.hide_parameters = hide_parameters
        self.detail: list[str] = []

    def add_detail(self, msg: str) -> None:
        self.detail.append(msg)

    def __reduce__(self) -> Any:
        return (
            self.__class__,
            (self.args[0], self.statement, self.params, self.orig, self.hide_parameters),
        )

    def _sql_message(self) -> str:
        details = [self._message()]
        if self.statement is not None:
            details.append(f"[SQL: {self.statement}]")
            if self.params is not None and self.params != () and self.params != {}:
                if self.hide_parameters:
                    details.append("[SQL parameters hidden due to hide_parameters=True]")
                else:
                    details.append(f"[parameters: {_render_params(self.params, self.ismulti)}]")
        details.extend(self.detail)
        code = self._code_str()
        if code:
            details.append(code)
        return "\n".join(details)

    def __str__(self) -> str:
        return self._sql_message()


class DBAPIError(StatementError):
    """A driver (PEP 249) error, wrapped.

    ``orig`` is the driver's exception. ``connection_invalidated`` is true when the
    error meant the connection was dead and the pool has replaced it.
    """

    code = "dbapi"
    # Driver exception class names in PEP 249's tree, most specific first; the first
    # one found in the driver exception's MRO picks our wrapper class.
    _pep249_names: ClassVar[Sequence[str]] = (
        "IntegrityError",
        "DataError",
        "OperationalError",
        "ProgrammingError",
        "NotSupportedError",
        "InternalError",
        "InterfaceError",
        "DatabaseError",
        "Error",
    )

    def __init__(
        self,
        statement: str | None,
        params: Any,
        orig: BaseException | None,
        hide_parameters: bool = False,
        connection_invalidated: bool = False,
        code: str | None = None,
        ismulti: bool | None = None,
    ) -> None:
        if orig is None:
            text = "(no driver exception)"
        else:
            origname = f"{type(orig).__module__}.{type(orig).__name__}"
            text = f"({origname}) {orig}".rstrip()
        super().__init__(
            text,
            statement,
            params,
            orig,
            hide_parameters=hide_parameters,
            code=code,
            ismulti=ismulti,
        )
        self.connection_invalidated = connection_invalidated

    def __reduce__(self) -> Any:
        return (
            self.__class__,
            (
                self.statement,
                self.params,
                self.orig,
                self.hide_parameters,
                self.connection_invalidated,
            ),
        )

    @classmethod
    def instance(
        cls,
        statement: str | None,
        params: Any,
        orig: BaseException,
        dbapi_base_err: type[BaseException] | None = None,
        hide_parameters: bool = False,
        connection_invalidated: bool = False,
        ismulti: bool | None = None,
    ) -> BaseException:
        """Wrap ``orig`` in the hermetic class matching its PEP 249 category.

        Exceptions that are not driver errors are wrapped as :class:`StatementError`
        (or returned as they are when they must not be wrapped).
        """
        if isinstance(orig, (DontWrapMixin, HermeticError)) or not isinstance(orig, Exception):
            return orig
        is_driver_error = dbapi_base_err is None or isinstance(orig, dbapi_base_err)
        if not is_driver_error:
            return StatementError(
                f"({type(orig).__module__}.{type(orig).__name__}) {orig}",
                statement,
                params,
                orig,
                hide_parameters=hide_parameters,
                code="stmt",
                ismulti=ismulti,
            )
        wrapper: type[DBAPIError] = cls
        names = {klass.__name__ for klass in type(orig).__mro__}
        for name in cls._pep249_names:
            if name in names:
                wrapper = _BY_PEP249_NAME.get(name, cls)
                break
        return wrapper(
            statement,
            params,
            orig,
            hide_parameters=hide_parameters,
            connection_invalidated=connection_invalidated,
            ismulti=ismulti,
        )


class InterfaceError(DBAPIError):
    """Driver InterfaceError: the driver itself failed, e.g. a closed connection."""

    code = "interface"


class DatabaseError(DBAPIError):
    """Driver DatabaseError: the database reported an error."""

    code = "database"


class DataError(DatabaseError):
    """Driver DataError: a value was invalid for its type or out of range."""

    code = "data"


class OperationalError(DatabaseError):
    """Driver OperationalError: connection lost, server unreachable, lock timeout..."""

    code = "operational"


class IntegrityError(DatabaseError):
    """Driver IntegrityError: a constraint (unique, foreign key, not null) failed."""

    code = "integrity"


class InternalError(DatabaseError):
    """Driver InternalError: the database hit an internal problem."""

    code = "internal"


class ProgrammingError(DatabaseError):
    """Driver ProgrammingError: bad SQL, a missing table, wrong parameter count..."""

    code = "programming"


class NotSupportedError(DatabaseError):
    """Driver NotSupportedError: the database does not support the operation."""

    code = "notsupported"


_BY_PEP249_NAME: dict[str, type[DBAPIError]] = {
    "IntegrityError": IntegrityError,
    "DataError": DataError,
    "OperationalError": OperationalError,
    "ProgrammingError": ProgrammingError,
    "NotSupportedError": NotSupportedError,
    "InternalError": InternalError,
    "InterfaceError": InterfaceError,
    "DatabaseError": DatabaseError,
    "Error": DBAPIError,
}


class HermeticWarning(RuntimeWarning):
    """Base of hermetic's warnings (``SAWarning`` is an alias)."""


SAWarning = HermeticWarning


class NPlusOneWarning(HermeticWarning):
    """One lazy relationship was loaded once per object of one result (N+1 queries);
    the message names the relationship, the count, the code site and the fix."""


class NPlusOneError(InvalidRequestError):
    """``n_plus_one="raise"``: one lazy relationship was loaded once per object of one
    result; the message names the relationship, the count, the code site and the fix."""


class ConnectionLeakWarning(HermeticWarning):
    """A pooled connection was held past ``pool_leak_threshold`` or dropped unreturned."""


class HermeticDeprecationWarning(DeprecationWarning):
    """A legacy API that still works but has a modern replacement."""


SADeprecationWarning = HermeticDeprecationWarning
