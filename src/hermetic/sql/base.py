"""Bases of SQL constructs: immutable elements and the executable marker."""

from __future__ import annotations

from typing import Any

from hermetic._util.collections import immutabledict


class ClauseElement:
    """Base of every SQL expression construct. Elements are immutable; methods that
    "change" one return a modified copy."""

    __visit_name__ = "clause"
    is_dml = False
    _is_textual = False

    def _copy(self) -> Any:
        new = self.__class__.__new__(self.__class__)
        new.__dict__ = self.__dict__.copy()
        new.__dict__.pop("_compiled_cache", None)
        return new


class Executable(ClauseElement):
    """A construct that ``Connection.execute()`` accepts."""

    _execution_options: immutabledict[str, Any] = immutabledict()

    def execution_options(self, **kw: Any) -> Any:
        new = self._copy()
        new._execution_options = self._execution_options.union(kw)
        return new

    def get_execution_options(self) -> immutabledict[str, Any]:
        return self._execution_options

    def compile(
        self, bind: Any = None, dialect: Any = None, compile_kwargs: Any = None, **kw: Any
    ) -> Any:
        """The statement compiled for ``dialect`` (or ``bind``'s, or generic SQL);
        ``compile_kwargs={"literal_binds": True}`` writes values into the SQL (for
        printing; executions always bind). ``str()`` of the result is the SQL."""
        from hermetic.sql.compiler import SQLCompiler, _GenericDialect, compile_textual

        if dialect is None:
            dialect = getattr(bind, "dialect", None) or _GenericDialect()
        literal = bool((compile_kwargs or {}).get("literal_binds"))
        if self._is_textual:
            return compile_textual(self, dialect)  # type: ignore[arg-type]
        cls = getattr(self, "_compiler_cls", SQLCompiler)
        if literal or hasattr(self, "_compiler_cls"):
            return cls(dialect, literal_binds=literal).compile_statement(self)
        return self._compile_for(dialect)  # type: ignore[attr-defined]

    def _execute_on_connection(
        self, connection: Any, distilled_params: Any, execution_options: Any
    ) -> Any:
        return connection._execute_clauseelement(self, distilled_params, execution_options)
