"""The collector pause used while building big results (hermetic/_util/gcpause.py)."""

from __future__ import annotations

import gc
import threading
import weakref

import pytest

from hermetic._util import gcpause


def test_paused_then_enabled_even_on_error() -> None:
    assert gc.isenabled()
    with pytest.raises(ZeroDivisionError), gcpause.paused(keep=True):
        assert not gc.isenabled()
        1 / 0  # noqa: B018
    assert gc.isenabled()


def test_nested_pauses_enable_once_at_the_end() -> None:
    with gcpause.paused(keep=True):
        with gcpause.paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()


def test_a_collector_the_program_disabled_stays_disabled() -> None:
    gc.disable()
    try:
        with gcpause.paused(keep=True):
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_objects_the_program_froze_stay_frozen() -> None:
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        assert frozen > 0
        with gcpause.paused(keep=True):
            kept = [{} for _ in range(2000)]
        assert gc.get_freeze_count() == frozen
        assert len(kept) == 2000
    finally:
        gc.unfreeze()


def test_kept_objects_skip_the_young_generation() -> None:
    if threading.active_count() != 1:
        pytest.skip("promotion is done only when the process runs one thread")
    gc.collect()
    with gcpause.paused(keep=True):
        kept = [{"k": []} for _ in range(5000)]
    assert gc.get_count()[0] < 100  # nothing young left for the next pass to traverse
    assert gc.is_tracked(kept[0])


def test_young_garbage_from_before_the_pause_is_still_collected() -> None:
    class Node:
        pass

    collected: list[bool] = []
    a = Node()
    a.self = a  # type: ignore[attr-defined]
    weakref.finalize(a, collected.append, True)
    del a
    with gcpause.paused(keep=True):
        kept = [[] for _ in range(2000)]
    if threading.active_count() == 1:
        # collected by the young pass that precedes a promotion, not promoted with ours
        assert collected == [True]
    gc.collect()
    assert collected == [True] and len(kept) == 2000
