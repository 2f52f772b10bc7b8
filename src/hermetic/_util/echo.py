"""SQLAlchemy's ``echo`` rule for a logger, shared by the engine and the pool.

``echo=True`` logs INFO and up, ``echo="debug"`` also DEBUG, whatever the logger's own
level (``create_engine`` adds a stdout handler); without echo, the logging configuration
decides.
"""

from __future__ import annotations

import logging
from typing import Any


def echo_log(
    logger: logging.Logger, echo: bool | str | None, level: int, msg: str, args: tuple[Any, ...]
) -> None:
    echoed = bool(echo) and (level >= logging.INFO or echo == "debug")
    if echoed or logger.isEnabledFor(level):
        logger._log(level, msg, args)
