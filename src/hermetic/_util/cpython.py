"""Let CPython's adaptive interpreter specialise reads of loaded ORM attributes.

A mapped class carries one descriptor per attribute (``User.name`` is an SQL expression);
a loaded value lives in the instance's ``__dict__`` and, the descriptor having no
``__set__``, shadows it, so ``obj.name`` is a dict read. CPython 3.11+ specialises such
an attribute read into a guarded instance-dict read only when the descriptor's type is
*immutable*: a mutable type could gain a ``__set__`` later and change what the read
means. Classes defined in Python are mutable, so every read of a loaded attribute would
take the generic path, three to four times slower than on a plain object.

:func:`seal` marks our descriptor classes immutable (``Py_TPFLAGS_IMMUTABLETYPE``, the
flag the interpreter sets on its own built-in types). We never change these classes
after definition, and sealing makes any later attempt to (``type.__setattr__``) fail
loudly rather than silently. It is done only where it is verifiably safe: CPython 3.10+,
and only if the flags word read back at the computed offset equals ``cls.__flags__``;
anywhere else it does nothing and reads stay correct, only slower.
"""

from __future__ import annotations

import ctypes
import sys

_IMMUTABLETYPE = 1 << 8


def _flags_offset() -> int:
    # PyTypeObject: the variable-size object header, then 18 pointer-sized slots
    # (tp_name ... tp_as_buffer), then tp_flags (an unsigned long).
    header = object.__basicsize__ + ctypes.sizeof(ctypes.c_ssize_t)
    return header + 18 * ctypes.sizeof(ctypes.c_void_p)


def seal(*classes: type) -> bool:
    """Mark ``classes`` immutable, if this interpreter is one where that is known to be
    safe; return whether it was done for all of them."""
    if sys.implementation.name != "cpython" or sys.version_info < (3, 10):
        return False
    offset = _flags_offset()
    done = True
    for cls in classes:
        word = ctypes.c_ulong.from_address(id(cls) + offset)
        if word.value != cls.__flags__:
            done = False
            continue
        word.value = cls.__flags__ | _IMMUTABLETYPE
        done = done and bool(cls.__flags__ & _IMMUTABLETYPE)
    return done
