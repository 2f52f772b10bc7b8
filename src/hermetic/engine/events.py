"""Engine event names and the context objects passed to their listeners."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from hermetic.event.base import EventSpec

if TYPE_CHECKING:
    from hermetic.engine.base import Connection

ENGINE_EVENTS = EventSpec(
    {
        "before_execute": ("conn", "clauseelement", "multiparams", "params", "execution_options"),
        "after_execute": (
            "conn",
            "clauseelement",
            "multiparams",
            "params",
            "execution_options",
            "result",
        ),
        "before_cursor_execute": (
            "conn",
            "cursor",
            "statement",
            "parameters",
            "context",
            "executemany",
        ),
        "after_cursor_execute": (
            "conn",
            "cursor",
            "statement",
            "parameters",
            "context",
            "executemany",
        ),
        "handle_error": ("exception_context",),
        "engine_connect": ("conn",),
        "engine_disposed": ("engine",),
        "begin": ("conn",),
        "commit": ("conn",),
        "rollback": ("conn",),
        "savepoint": ("conn", "name"),
        "rollback_savepoint": ("conn", "name", "context"),
        "release_savepoint": ("conn", "name", "context"),
        "set_connection_execution_options": ("conn", "opts"),
        "set_engine_execution_options": ("engine", "opts"),
    },
    retval=("before_execute", "before_cursor_execute"),
)


class ExecutionContext:
    """What cursor-execute listeners learn about one execution."""

    def __init__(
        self,
        connection: Connection,
        cursor: Any,
        statement: str,
        parameters: Any,
        executemany: bool,
        compiled: Any,
        execution_options: Mapping[str, Any],
    ) -> None:
        self.root_connection = self.connection = connection
        self.engine = connection.engine
        self.dialect = connection.dialect
        self.cursor = cursor
        self.statement = statement
        self.parameters = parameters
        self.executemany = executemany
        self.compiled = compiled
        self.execution_options = execution_options
        self.isinsert = statement.lstrip()[:6].upper() == "INSERT"


class ExceptionContext:
    """What ``handle_error`` listeners learn; they may set ``is_disconnect`` or return a
    replacement exception."""

    def __init__(
        self,
        connection: Connection,
        original_exception: BaseException,
        sqlalchemy_exception: BaseException | None,
        cursor: Any,
        statement: str | None,
        parameters: Any,
        execution_context: ExecutionContext | None,
        is_disconnect: bool,
    ) -> None:
        self.connection = connection
        self.engine = connection.engine
        self.dialect = connection.dialect
        self.original_exception = original_exception
        self.sqlalchemy_exception = self.hermetic_exception = sqlalchemy_exception
        self.cursor = cursor
        self.statement = statement
        self.parameters = parameters
        self.execution_context = execution_context
        self.is_disconnect = is_disconnect
        self.invalidate_pool_on_disconnect = True
        self.chained_exception = None
        self.is_pre_ping = False
