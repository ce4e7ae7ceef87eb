"""Reads of many requests made as one statement (PostgreSQL): the release lane's lookups.

Under load, many requests in one server process need the same short read at about the same time. Made one by one,
each read is a round trip: a wake of the database's process, a statement parsed, planned and run, an answer, a
wake of the caller. Here the reads that arrive while one batch is on its way wait for the next, and a batch is one
statement: its form for many reads (`many`) takes an array per parameter, one element per read, and leads each row
with its read's place among them (from 1), by which the rows are dealt back.

The connection is asynchronous and lives on the event loop: a request waits for its rows without a thread hop,
and the loop serves other requests meanwhile. It reads only, each statement in its own snapshot, as the thread
pool's reading connections do.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from sqlalchemy import Engine

from server.db.plain import pyformat

MAX_BATCH = 128
log = logging.getLogger(__name__)


@dataclass
class _Read:
    many: str
    params: Sequence[Any]
    rows: asyncio.Future[list[Any]] = field(repr=False)


class BatchedReads:
    """`rows(many, params)` on PostgreSQL, made with the other reads waiting at the time. `batches` counts the
    statements sent "together" (for every read of a batch with the same statement) and "alone" (a read again on its
    own after its batch's statement failed: each read then gets its own answer or its own error); `sizes`, the
    reads per statement sent together."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        if engine.dialect.name != "postgresql":
            raise ValueError("batched reads are for PostgreSQL")
        self._connect_args = engine.dialect.create_connect_args(engine.url)
        self.max_batch = max_batch
        self.batches: Counter[str] = Counter()
        self.sizes: Counter[int] = Counter()
        self._pending: list[_Read] = []
        self._sending: asyncio.Task[None] | None = None
        self._connection: psycopg.AsyncConnection[Any] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None  # the loop the connection and the sender belong to

    async def rows(self, many: str, params: Sequence[Any]) -> list[Any]:
        """This read's rows of `many` (`?` placeholders, an array per parameter), without their leading place."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # a new loop (tests start one per client): nothing of the old one is usable
            self._forget()
            self._loop = loop
        read = _Read(pyformat(many), params, loop.create_future())
        self._pending.append(read)
        if self._sending is None:  # runs once this turn of the loop is over: what arrived meanwhile goes too
            self._sending = loop.create_task(self._send_all())
        return await read.rows

    async def close(self) -> None:
        """Close the connection; a read still waiting fails (its request is answered by the full route)."""
        if self._sending is not None and self._loop is asyncio.get_running_loop():
            self._sending.cancel()
            await asyncio.gather(self._sending, return_exceptions=True)
        for read in self._pending:
            if not read.rows.done():
                read.rows.set_exception(ConnectionError("the server is stopping"))
        self._pending = []
        self._sending = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None

    async def _send_all(self) -> None:
        try:
            while self._pending:
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
                by_statement: dict[str, list[_Read]] = {}
                for read in batch:
                    if not read.rows.done():  # else its request is gone meanwhile
                        by_statement.setdefault(read.many, []).append(read)
                for reads in by_statement.values():
                    await self._send(reads)
        finally:
            self._sending = None

    async def _send(self, reads: list[_Read]) -> None:
        try:
            arrays = [list(column) for column in zip(*(read.params for read in reads), strict=True)]
            found = await self._read(reads[0].many, arrays)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.debug("a statement for %d reads failed; each is made alone", len(reads), exc_info=True)
            for read in reads:
                await self._alone(read)
            return
        self.batches["together"] += 1
        self.sizes[len(reads)] += 1
        dealt: list[list[Any]] = [[] for _ in reads]
        for row in found:
            dealt[row[0] - 1].append(row[1:])
        for read, rows in zip(reads, dealt, strict=True):
            if not read.rows.done():
                read.rows.set_result(rows)

    async def _alone(self, read: _Read) -> None:
        self.batches["alone"] += 1
        try:
            rows = [row[1:] for row in await self._read(read.many, [[value] for value in read.params])]
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            if not read.rows.done():
                read.rows.set_exception(exc)
            return
        if not read.rows.done():
            read.rows.set_result(rows)

    async def _read(self, many: str, arrays: list[list[Any]]) -> list[Any]:
        connection = await self._connected()
        try:
            async with connection.cursor() as cursor:
                await cursor.execute(many, arrays)
                return await cursor.fetchall()
        except psycopg.OperationalError:
            await self._drop()
            raise

    async def _connected(self) -> psycopg.AsyncConnection[Any]:
        if self._connection is None or self._connection.closed:
            cargs, cparams = self._connect_args
            connection = await psycopg.AsyncConnection.connect(*cargs, **cparams, autocommit=True)
            await connection.execute("SET default_transaction_read_only = on")
            self._connection = connection
        return self._connection

    async def _drop(self) -> None:
        if self._connection is not None:
            connection, self._connection = self._connection, None
            await connection.close()

    def _forget(self) -> None:
        """Leave the connection and the waiting reads of a loop that is gone (closing the socket at once)."""
        if self._connection is not None:
            self._connection.pgconn.finish()
            self._connection = None
        self._pending = []
        self._sending = None
