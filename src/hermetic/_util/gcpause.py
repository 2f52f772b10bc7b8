"""Pausing the cyclic garbage collector while building many objects that form no cycles.

Every container CPython allocates (a row, an object, its ``__dict__``, its state) counts
toward the collector's next pass, and a pass over the youngest objects is started every
700 net allocations; as they survive, the middle and full-heap passes follow. Building a
100,000-object result with the collector on sets off several full-heap passes, each over
everything the program holds: more than half the cost of loading objects elsewhere.
What we build here (rows, objects whose states refer to them weakly, collections that
refer to their owner weakly, parameter tuples) can contain no reference cycle, so those
passes cannot find garbage in it.

:func:`paused` stops the collector for such a build. A build whose objects stay alive
(a loaded result: ``keep=True``) can also spare the collector its first look at them: on
leaving, every tracked object is moved to the oldest generation (``gc.freeze()`` then
``gc.unfreeze()``, documented as putting the frozen objects in the oldest generation, in
constant time) instead of leaving 100,000 young objects for the next young pass to
traverse and promote. That is safe only when every young object at that point is one we
made, so it is done only when the process runs one thread (an asyncio service, a
script; never a threaded server, whose other threads' young garbage would go to the
oldest generation too), after a young collection at the start of the pause (a fraction
of a millisecond: it examines the few thousand youngest objects), and never when the
program has frozen objects itself (a pre-fork server calling ``gc.freeze()`` must keep
them frozen). The collector is left alone when the program disabled it.

The pause is process-wide (the collector is): nested and concurrent pauses are counted,
and the collector is enabled again when the last one ends. Garbage other threads make
meanwhile is collected later, not lost.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

#: Below this many objects a build is left alone: the pause would cost more than a pass.
MIN_OBJECTS = 1000

_lock = threading.Lock()
_depth = 0
_promote = False


def pause(keep: bool = False) -> bool:
    """Stop the collector unless the program has; True when the caller must
    :func:`resume`. ``keep``: what is built stays alive (see the module)."""
    global _depth, _promote
    with _lock:
        if _depth == 0:
            if not gc.isenabled():
                return False
            _promote = keep and threading.active_count() == 1 and gc.get_freeze_count() == 0
            if _promote:
                gc.collect(1)
            gc.disable()
        _depth += 1
        return True


def resume() -> None:
    """End one :func:`pause`."""
    global _depth
    with _lock:
        _depth -= 1
        if _depth:
            return
        if _promote and threading.active_count() == 1 and gc.get_freeze_count() == 0:
            gc.freeze()
            gc.unfreeze()
        gc.enable()


@contextmanager
def paused(keep: bool = False) -> Iterator[None]:
    """The collector paused for the block (see :func:`pause` and :func:`resume`)."""
    if not pause(keep):
        yield
        return
    try:
        yield
    finally:
        resume()
