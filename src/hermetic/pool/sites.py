"""Who asked for a connection: the owner and the first frame outside hermetic.

Capturing the site must be cheap enough to be always on (a few hundred nanoseconds): we
walk frames upward, asking a per-code-object cache whether the frame is hermetic's own,
and keep the first foreign frame's code object and line number. Nothing else (no
traceback objects, no frame references that would keep locals alive).
"""

from __future__ import annotations

import os
import sys
import threading
import traceback
from types import CodeType, FrameType

_HERMETIC_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
# The command line tools call the pool as a user would; their frames are user frames.
_CLI_DIR = _HERMETIC_DIR + "cli" + os.sep
internal_codes: dict[CodeType, bool] = {}
_get_ident = threading.get_ident

# Code that calls into the pool on a user's behalf but is not the user's code: the
# standard library's contextlib wrappers and the like.
_TRANSPARENT = (os.path.dirname(os.path.abspath(threading.__file__)) + os.sep + "contextlib.py",)


def is_internal(code: CodeType) -> bool:
    known = internal_codes.get(code)
    if known is None:
        fn = code.co_filename
        known = (fn.startswith(_HERMETIC_DIR) and not fn.startswith(_CLI_DIR)) or (
            fn in _TRANSPARENT
        )
        if len(internal_codes) > 50_000:  # generated code could grow this without bound
            internal_codes.clear()
        internal_codes[code] = known
    return known


def user_frame(depth: int = 2) -> FrameType | None:
    """The first frame at or above ``depth`` that is not hermetic's own."""
    try:
        f: FrameType | None = sys._getframe(depth)
    except ValueError:
        return None
    while f is not None and is_internal(f.f_code):
        f = f.f_back
    return f


def user_site(depth: int = 2) -> str:
    """``file:line in function`` of the first frame outside hermetic (or ``<unknown>``)."""
    f = user_frame(depth + 1)
    if f is None:
        return "<unknown>"
    return f"{f.f_code.co_filename}:{f.f_lineno} in {f.f_code.co_name}"


def user_stacklevel() -> int:
    """The ``warnings.warn`` stacklevel, for a caller of this function, that points at the
    first frame outside hermetic."""
    level = 1
    f: FrameType | None = sys._getframe(1)
    while f is not None and is_internal(f.f_code):
        f = f.f_back
        level += 1
    return level


def caller_stack(depth: int = 2) -> list[str]:
    """The full stack up to the first foreign frame, formatted (``pool_debug=True``)."""
    f = user_frame(depth + 1)
    if f is None:
        return []
    return traceback.format_stack(f)


def line_of(code: CodeType, lasti: int) -> int | None:
    """The source line of the instruction at byte offset ``lasti`` (a frame's f_lasti)."""
    for start, end, line in code.co_lines():
        if start <= lasti < end:
            return line
    return code.co_firstlineno


def format_site(code: CodeType | None, lasti: int) -> str:
    if code is None:
        return "<unknown site>"
    return f'File "{code.co_filename}", line {line_of(code, lasti)}, in {code.co_name}'


def owner_name(ident: int | None, task_name: str | None = None) -> str:
    """A readable name for the thread (or greenlet, under gevent) with this ident."""
    if task_name:
        return task_name
    if ident is None:
        return "<unknown owner>"
    for t in threading.enumerate():
        if t.ident == ident:
            return f"thread {t.name!r}"
    return f"thread/greenlet {ident}"
