"""Keeping CPython's cyclic garbage collector off the long-lived heap.

CPython runs a full collection whenever the objects promoted since the last one exceed a quarter
of the long-lived heap. One poll cycle over thousands of feeds promotes that many (every feed's
task, row and response lives through the whole cycle), so every cycle paid a full scan of the
story window: 0.7 s of an 8 s cycle at 5,000 feeds. So what survives start-up and each cycle is
frozen: out of the collector's sight, still freed by reference counting as usual. Every
`thaw_every` cycles it is thawed and collected once, so garbage in reference cycles among frozen
objects is not kept for long.
"""

from __future__ import annotations

import gc


class HeapKeeper:
    def __init__(self, thaw_every: int = 20):
        self.thaw_every, self.cycles = thaw_every, 0

    def start(self) -> None:
        """After start-up: collect what loading left behind, freeze the rest."""
        gc.collect()
        gc.freeze()

    def keep(self) -> None:
        """Freeze what exists now, before start-up ends: a story window just read back (millions
        of objects) would otherwise cost start()'s collection a scan of all of it (0.5 s at
        100,000 items)."""
        gc.freeze()

    def after_cycle(self) -> None:
        """Freeze what the cycle left; every thaw_every cycles, collect everything first."""
        self.cycles += 1
        if self.cycles % self.thaw_every == 0:
            gc.unfreeze()
            gc.collect()
        gc.freeze()

    def stop(self, *, exiting: bool = False) -> None:
        """Give the heap back to the collector, unless the process exits next: the interpreter's
        final collections would then scan all of it for nothing (0.4 s after a `run --once` over
        6,000 stored items), and its normal shutdown still flushes and closes everything."""
        if not exiting:
            gc.unfreeze()
