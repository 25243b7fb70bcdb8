"""Process-level tuning of a serving process's Python runtime.

**The start-up heap leaves the garbage collector's view** (:func:`freeze_startup_heap`). CPython's cyclic
collector walks every tracked object of the generation it collects; a full (generation 2) collection walks them
all. After start-up a worker holds ~280,000 tracked objects that live as long as the process (modules, routes,
pydantic and SQLAlchemy models, the OpenAPI schema), and a full collection of them took ~160 ms on this project's
2-core benchmark machine, with the GIL held: every request in flight, on every thread, stood still for it. Under
a desk's load a full collection comes every few thousand requests, so it set the tail of the latency (p99), not
its median. ``gc.freeze()`` moves those objects to the permanent generation, which no collection walks; a full
collection then walks what requests left behind (~19 ms measured in the same run). The same call is what the
CPython documentation recommends before forking workers, for copy-on-write; here it serves the latency.

What it costs: a cycle among the frozen objects is never collected. They are the process's own structures,
built once; a test suite building many apps in one process would keep each app's cycles, so it turns the setting
off (``MOTCUA_FREEZE_STARTUP_HEAP``)."""

from __future__ import annotations

import gc
import logging

from sqlalchemy.orm import configure_mappers

log = logging.getLogger("motcua")


def freeze_startup_heap() -> int:
    """Collect once, then move every object alive to the collector's permanent generation; the count moved.

    SQLAlchemy's mappers are configured first (it otherwise happens on the first query, after the freeze)."""
    configure_mappers()
    gc.collect()
    gc.freeze()
    frozen = gc.get_freeze_count()
    log.info("start-up heap frozen: %d objects out of the collector's view", frozen)
    return frozen
