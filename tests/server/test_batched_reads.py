"""Reads of many requests made as one statement (PostgreSQL, server.db.batched): each read gets its own rows, a
statement that fails for one read leaves the others their answers, and a connection the database dropped is
replaced without a read failing."""

from __future__ import annotations

import asyncio

import psycopg
import pytest
from sqlalchemy import Engine

from server.db.batched import BatchedReads

pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)
# One read: 1 to `upto`, each with 60 divided by `over`; for many, an array of each, rows led by the read's place.
MANY = (
    "SELECT q.n, g, 60 / q.over FROM unnest(?::int[], ?::int[]) WITH ORDINALITY AS q(upto, over, n)"
    " CROSS JOIN generate_series(1, q.upto) AS g ORDER BY q.n, g"
)


def test_reads_waiting_together_are_made_as_one_statement_and_each_gets_its_own_rows(engine: Engine) -> None:
    reads = BatchedReads(engine)

    async def twenty() -> list[list[tuple[int, int]]]:
        try:
            return await asyncio.gather(*(reads.rows(MANY, (upto, 2)) for upto in range(20)))
        finally:
            await reads.close()

    answers = asyncio.run(twenty())
    assert answers == [[(g, 30) for g in range(1, upto + 1)] for upto in range(20)]
    # All twenty asked in one turn of the event loop: one statement made them.
    assert reads.batches == {"together": 1} and reads.sizes == {20: 1}


def test_a_statement_that_fails_for_one_read_leaves_the_others_their_rows(engine: Engine) -> None:
    reads = BatchedReads(engine)

    async def five() -> list[object]:
        try:
            return await asyncio.gather(
                *(reads.rows(MANY, (2, over)) for over in (1, 2, 0, 3, 4)), return_exceptions=True
            )
        finally:
            await reads.close()

    answers = asyncio.run(five())
    assert answers[0] == [(1, 60), (2, 60)] and answers[1] == [(1, 30), (2, 30)]
    assert isinstance(answers[2], psycopg.errors.DivisionByZero)
    assert answers[3] == [(1, 20), (2, 20)] and answers[4] == [(1, 15), (2, 15)]
    assert reads.batches == {"alone": 5}  # their statement failed: each read made again on its own


def test_a_connection_the_database_dropped_is_replaced_and_no_read_fails(engine: Engine) -> None:
    reads = BatchedReads(engine)
    url = engine.url.set(drivername="postgresql").render_as_string(hide_password=False)

    async def across_a_drop() -> tuple[list[object], list[object]]:
        try:
            first = await reads.rows(MANY, (1, 1))
            backend = await reads.rows("SELECT 1, pg_backend_pid() FROM unnest(?::int[])", (0,))
            with psycopg.connect(url, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (backend[0][0],))
            return first, await reads.rows(MANY, (1, 1))
        finally:
            await reads.close()

    first, after = asyncio.run(across_a_drop())
    assert first == after == [(1, 60)]
    assert reads.batches["alone"] == 1  # the read after the drop, made again on a new connection
