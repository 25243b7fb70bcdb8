"""Bounds on how much of some work a process runs at once, for async code: a caller waits for a slot on the event
loop, holding no worker thread and no database connection while it waits.

Used for password hashing (:class:`service.security.passwords.HashingGate`), the login attempts' bookkeeping, and
the units of work that write (:func:`service.deps.get_session`, ``MOTCUA_CONCURRENT_WRITES``)."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

T = TypeVar("T")


class AsyncGate:
    """At most ``slots`` holders at once; the others wait on the event loop in arrival order."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        # One per event loop (a server has one; an in-process test client has one each).
        self._semaphores: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = (
            weakref.WeakKeyDictionary())

    def slot(self) -> asyncio.Semaphore:
        """``async with gate.slot():`` holds one slot for the block."""
        loop = asyncio.get_running_loop()
        semaphore = self._semaphores.get(loop)
        if semaphore is None:
            semaphore = self._semaphores[loop] = asyncio.Semaphore(self.slots)
        return semaphore

    async def run(self, work: Callable[..., T], *args: Any) -> T:
        """``work(*args)`` in a worker thread, within a slot."""
        async with self.slot():
            return await run_in_threadpool(work, *args)
