"""HeapKeeper: what a cycle leaves is frozen, and cyclic garbage among it is collected at the next thaw."""

from __future__ import annotations

import gc
import weakref

from bot.heap import HeapKeeper


class Node:
    pass


def test_frozen_cyclic_garbage_is_collected_at_the_next_thaw():
    keeper = HeapKeeper(thaw_every=2)
    keeper.start()
    try:
        node = Node()
        node.me = node  # a reference cycle: only the collector can free it
        ref = weakref.ref(node)
        keeper.after_cycle()  # cycle 1: node survives it and is frozen
        del node
        gc.collect()
        assert ref() is not None  # frozen: out of the collector's sight
        keeper.after_cycle()  # cycle 2: thawed and collected
        assert ref() is None
    finally:
        keeper.stop()
    assert gc.get_freeze_count() == 0


def test_frozen_objects_still_die_by_reference_count():
    keeper = HeapKeeper()
    keeper.start()
    try:
        node = Node()
        ref = weakref.ref(node)
        keeper.after_cycle()
        del node
        assert ref() is None
    finally:
        keeper.stop()


def test_a_heap_stopped_for_exit_stays_frozen_and_one_stopped_in_process_is_thawed():
    """A process that exits next skips the final full scan; one that goes on gets its collector back."""
    keeper = HeapKeeper()
    keeper.start()
    keeper.stop(exiting=True)
    try:
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    keeper.start()
    keeper.stop()
    assert gc.get_freeze_count() == 0
