"""The gate's everyday release answered without the framework's per-request machinery: `POST /api/v1/gate/releases`
from a known gate, with a slip that may pass and no photo. Its checks and
its write are the full route's (server.domain.slips.gate.lane); what it skips is the cost around them (dependency
resolution, the ORM, a worker-thread hop), which was most of a release's cost.

Everything else goes on to the app unchanged, the body replayed: an unknown device, a malformed request, a
rejection, a retry of a key already answered, a photo, a queued release, a write the writer could not make. The
full route then decides and answers, so a request gets the same answer whichever path served it.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections import Counter

import anyio
import anyio.to_thread
from pydantic import ValidationError
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api.gate import RELEASE_ROUTE
from server.contract.schemas import ReleaseOut, ReleaseRequest
from server.db.base import utcnow
from server.db.plain import Plain, connect_reader
from server.db.writer import GroupCommitWriter, Writer
from server.domain import devices, idempotency
from server.domain.errors import DomainError
from server.domain.slips.gate import lane
from server.domain.slips.gate.releases import Count, ReleasePlan

PATH = "/api/v1/gate/releases"
MAX_BODY = 16 * 1024  # a release without a photo is well under 1 KiB
log = logging.getLogger(__name__)


class Lane:
    """What the lane keeps per app: its reading connections, the writer, and counts of what it answered and what it
    passed on (by reason), which the tests read to know which path served.

    On SQLite the reads run on the event loop's own connection: they cost microseconds, less than a thread hop. On
    PostgreSQL each read is a round trip to the server, so they run on worker threads, at most READERS at once, each
    with a connection from the lane's own small pool, and the event loop goes on serving meanwhile."""

    READERS = 4

    def __init__(self, engine: Engine, writer: GroupCommitWriter) -> None:
        self.engine = engine
        self.writer = writer
        self.inline = engine.dialect.name == "sqlite"
        self.errors: tuple[type[BaseException], ...] = (engine.dialect.loaded_dbapi.Error,)
        self.counts: Counter[str] = Counter()
        self._local = threading.local()
        self._idle: queue.SimpleQueue[Plain] = queue.SimpleQueue()  # PostgreSQL: connections to hand
        self._limiter: anyio.CapacityLimiter | None = None

    @classmethod
    def for_app(cls, engine: Engine, writer: Writer) -> Lane | None:
        """The lane for a SQLite file, written by the app's group writer; for PostgreSQL, with a group writer of its
        own (each server worker batches its releases into one transaction); None for an in-memory database."""
        if engine.dialect.name == "postgresql":
            return cls(engine, GroupCommitWriter(engine))
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        if not isinstance(writer, GroupCommitWriter):
            return None
        return cls(engine, writer)

    def reader(self) -> Plain:
        """This thread's connection (SQLite)."""
        db: Plain | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect_reader(self.engine)
        return db

    def close(self) -> None:
        """Close this thread's connection (the event loop's, when the app stops) and the pooled ones."""
        db: Plain | None = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            db.connection.close()
        while True:
            try:
                self._idle.get_nowait().connection.close()
            except queue.Empty:
                return

    async def answer(self, scope: Scope, headers: dict[bytes, bytes], body: bytes) -> idempotency.Answer | None:
        """The release's answer, written; or None to pass the request on (with the reason counted)."""
        key = headers.get(b"idempotency-key", b"").decode("latin-1")
        if not idempotency.KEY.match(key):
            return self.passed("key")
        try:
            token = devices.bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
            request = ReleaseRequest.model_validate_json(body)
        except (DomainError, ValidationError):
            return self.passed("request")
        if request.decided_at is not None or request.photo_jpeg_b64 is not None:
            return self.passed("unusual")
        if self.inline:
            checked = self._check(self.reader(), token, request)
        else:
            if self._limiter is None:
                self._limiter = anyio.CapacityLimiter(self.READERS)
            checked = await anyio.to_thread.run_sync(self._check_pooled, token, request, limiter=self._limiter)
        if isinstance(checked, str):
            return self.passed(checked)
        caller, plan = checked
        answer = {"number": plan.number, "outcome": plan.outcome, "at": plan.at, "reason": plan.reason}
        text = ReleaseOut.model_validate(answer | {"state": plan.state.value}).model_dump_json()
        write = idempotency.DeviceWrite(caller.id, key, RELEASE_ROUTE, request.model_dump_json())
        client = scope.get("client")
        actor = caller.actor(client[0] if client else "")
        try:
            written = await self.writer.submit_plain(lambda c: lane.record(c, actor, plan, write, text))
        except Exception:
            log.exception("the release lane could not write; the full route answers")
            return self.passed("write_error")
        if written is None:
            return self.passed("not_written")
        self.counts["answered"] += 1
        return written

    def _check_pooled(self, token: str, request: ReleaseRequest) -> tuple[lane.Gate, ReleasePlan] | str:
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = connect_reader(self.engine)
        try:
            return self._check(db, token, request)
        finally:
            self._idle.put(db)

    def _check(self, db: Plain, token: str, request: ReleaseRequest) -> tuple[lane.Gate, ReleasePlan] | str:
        """The calling gate and the plan of its release; or why the full route must answer."""
        now = utcnow()
        try:
            caller = lane.gate(db, token, now)
            if caller is None:
                return "device"
            counts = [Count(c.line, c.counted) for c in request.lines]
            return caller, lane.plan(
                db, caller, request.text, request.guard, counts, reason=request.reason, refuse=request.refuse, now=now
            )
        except DomainError:
            return "rejected"
        except (*self.errors, Exception):  # the database, or the lane itself: the full route is the authority
            log.exception("the release lane could not read; the full route answers")
            return "read_error"

    def passed(self, reason: str) -> idempotency.Answer | None:
        """None, the request passed on to the full route; counted by why."""
        self.counts[reason] += 1
        return None


class ReleaseLane:
    """Pure ASGI middleware in front of the app's routes: serves the everyday release through `app.state.
    release_lane` when there is one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found: Lane | None = getattr(scope["app"].state, "release_lane", None) if scope["type"] == "http" else None
        if found is None or scope["method"] != "POST" or scope["path"] != PATH:
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        json_body = headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"application/json"
        if not (json_body and length.isdigit() and int(length) <= MAX_BODY):
            found.counts["body"] += 1
            await self.app(scope, receive, send)
            return
        received: list[Message] = []
        while True:
            message = await receive()
            received.append(message)
            if message["type"] != "http.request" or not message.get("more_body", False):
                break
        answer = None
        if received[-1]["type"] == "http.request":
            answer = await found.answer(scope, headers, b"".join(m.get("body", b"") for m in received))
        if answer is None:
            await self.app(scope, _replay(received, receive), send)
            return
        status, text = answer
        body = text.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-length", str(len(body)).encode()), (b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _replay(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
