"""How requests share the process: at most IN_FLIGHT run at once, each with a database connection to hand (the
pool is sized for them), so a burst waits its turn at the door instead of failing; their sync parts take turns on
THREADS worker threads; and a request whose snapshot went stale before its write (SQLite) runs once more, taking
the write lock at the start."""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import MutableMapping

import anyio.to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.db.engine import POOL_SIZE, StaleSnapshot, pessimistic

IN_FLIGHT = POOL_SIZE - 8
# One worker thread for each request let in: a request whose transaction holds the write lock always finds a
# thread for its next step however many others wait for that lock, so waiting never turns into a deadlock.
THREADS = IN_FLIGHT


class Admission:
    """Pure ASGI middleware: a per-event-loop semaphore of IN_FLIGHT slots, and one retry after StaleSnapshot."""

    def __init__(self, app: ASGIApp, in_flight: int = IN_FLIGHT) -> None:
        self.app = app
        self.in_flight = in_flight
        self._slots: MutableMapping[asyncio.AbstractEventLoop, asyncio.Semaphore] = weakref.WeakKeyDictionary()

    def _semaphore(self) -> asyncio.Semaphore:
        loop = asyncio.get_running_loop()
        slots = self._slots.get(loop)
        if slots is None:
            anyio.to_thread.current_default_thread_limiter().total_tokens = THREADS
            slots = self._slots[loop] = asyncio.Semaphore(self.in_flight)
        return slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        async with self._semaphore():
            await self._run(scope, receive, send)

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> None:
        received: list[Message] = []
        started = False

        async def recording_receive() -> Message:
            message = await receive()
            received.append(message)
            return message

        async def tracking_send(message: Message) -> None:
            nonlocal started
            started = True
            await send(message)

        try:
            await self.app(scope, recording_receive, tracking_send)
        except StaleSnapshot:
            if started:
                raise
        else:
            return
        replay = list(received)

        async def replay_receive() -> Message:
            return replay.pop(0) if replay else await receive()

        token = pessimistic.set(True)
        try:
            await self.app(scope, replay_receive, send)
        finally:
            pessimistic.reset(token)
