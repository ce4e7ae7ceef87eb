"""The two hottest device writes answered without the framework's per-request machinery:

- the gate's everyday release, `POST /api/v1/gate/releases` from a known gate, with a slip that may pass and no
  photo. Its checks and its write are the full route's (server.domain.slips.gate.lane); what it skips is the cost
  around them (dependency resolution, the ORM, a worker-thread hop), which was most of a release's cost;
- the kiosk's slip, `POST /api/v1/slips` for a resident identified by card: checked by the full route's rules on
  plain reads (server.domain.slips.issue_lane), then numbered, signed and written in plain statements by the writer
  (`issuing.issue_plain`), as the full route's slip is.

Everything else goes on to the app unchanged, the body replayed: an unknown device, a malformed request, a
rejection, a retry of a key already answered, a photo, a queued release, a write the writer could not make. The
full route then decides and answers, so a request gets the same answer whichever path served it.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from sqlalchemy import Engine
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.api import slips
from server.api.gate import RELEASE_ROUTE
from server.contract.schemas import ReleaseOut, ReleaseRequest, SlipRequest
from server.db.base import utcnow
from server.db.batched import BatchedReads
from server.db.models import ApplicantKind
from server.db.plain import Plain, connect_reader
from server.db.writer import GroupCommitWriter, Writer
from server.domain import devices, idempotency
from server.domain.errors import DomainError
from server.domain.slips import issue_lane
from server.domain.slips.gate import lane
from server.domain.slips.gate.releases import Count, ReleasePlan
from server.web.limits import DEFAULT_BODY

PATH = "/api/v1/gate/releases"
MAX_BODY = 16 * 1024  # a release without a photo is well under 1 KiB
SLIP_PATH = "/api/v1/slips"
# The app's body limit counts what the lane reads before any route (and its own larger limit) is chosen: a slip
# request with a signature above the default goes to the route untouched.
MAX_SLIP_BODY = DEFAULT_BODY
log = logging.getLogger(__name__)
T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


class Lane:
    """What the lane keeps per app: its reading connections, the writer, and counts of what it answered and what it
    passed on (by reason; `counts` for releases, `slip_counts` for slips), which the tests read to know which path
    served.

    On SQLite the reads run on the event loop's own connection: they cost microseconds, less than a thread hop. On
    PostgreSQL each read is a round trip to the server: a release's lookup is made with the others waiting at the
    time, in one statement on the event loop's own asynchronous connection (`lookups`); the slip lane's several
    reads run on READERS threads of the lane's own, each with a connection from the lane's own small pool. The
    event loop goes on serving meanwhile."""

    READERS = 4

    def __init__(self, engine: Engine, writer: GroupCommitWriter, clock: Callable[[], datetime]) -> None:
        self.engine = engine
        self.writer = writer
        self.clock = clock  # the app's: the slip lane judges a request at the time the full route would
        self.inline = engine.dialect.name == "sqlite"
        self.errors: tuple[type[BaseException], ...] = (engine.dialect.loaded_dbapi.Error,)
        self.counts: Counter[str] = Counter()
        self.slip_counts: Counter[str] = Counter()
        self._local = threading.local()
        self._idle: queue.SimpleQueue[Plain] = queue.SimpleQueue()  # PostgreSQL: connections to hand
        self._executor: ThreadPoolExecutor | None = None
        self.lookups = None if self.inline else BatchedReads(engine)  # PostgreSQL: the releases' reads

    @classmethod
    def for_app(cls, engine: Engine, writer: Writer, clock: Callable[[], datetime]) -> Lane | None:
        """The lane for a SQLite file, written by the app's group writer; for PostgreSQL, with a group writer of its
        own (each server worker batches its releases into one transaction); None for an in-memory database."""
        if engine.dialect.name == "postgresql":
            return cls(engine, GroupCommitWriter(engine), clock)
        database = engine.url.database
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        if not isinstance(writer, GroupCommitWriter):
            return None
        return cls(engine, writer, clock)

    def reader(self) -> Plain:
        """This thread's connection (SQLite)."""
        db: Plain | None = getattr(self._local, "db", None)
        if db is None:
            db = self._local.db = connect_reader(self.engine)
        return db

    async def close(self) -> None:
        """Close this thread's connection (the event loop's, when the app stops), the batched reads' and the pooled
        ones."""
        if self.lookups is not None:
            await self.lookups.close()
            self.writer.close()  # the lane's own (PostgreSQL)
        db: Plain | None = getattr(self._local, "db", None)
        if db is not None:
            self._local.db = None
            db.connection.close()
        if self._executor is not None:
            self._executor.shutdown(wait=True)  # its reads done, their connections back in `_idle`
            self._executor = None
        while True:
            try:
                self._idle.get_nowait().connection.close()
            except queue.Empty:
                return

    async def answer(self, scope: Scope, headers: dict[bytes, bytes], body: bytes) -> idempotency.Answer | None:
        """The release's answer, written; or None to pass the request on (with the reason counted)."""
        parsed = _parsed(headers, body, ReleaseRequest)
        if isinstance(parsed, str):
            return self.passed(parsed)
        key, token, request = parsed
        if request.decided_at is not None or request.photo_jpeg_b64 is not None:
            return self.passed("unusual")
        lookup = lane.look_up(token, request.text)
        try:
            if self.lookups is None:
                rows = lookup.run(self.reader())
            else:
                rows = await self.lookups.rows(lookup.many, lookup.params)
        except Exception:  # the database, or the lane itself: the full route is the authority
            log.exception("the release lane could not read; the full route answers")
            return self.passed("read_error")
        checked = self._check(lookup, rows, request)
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

    async def _read(self, check: Callable[[Plain], T]) -> T:
        """`check` on a reading connection: the event loop's own (SQLite), or a pooled one on a worker thread."""
        if self.inline:
            return check(self.reader())
        if self._executor is None:  # the event loop's own executor, not anyio's worker threads: a cheaper hop
            self._executor = ThreadPoolExecutor(self.READERS, thread_name_prefix="estate-lane-reader")
        return await asyncio.get_running_loop().run_in_executor(self._executor, self._pooled, check)

    def _pooled(self, check: Callable[[Plain], T]) -> T:
        try:
            db = self._idle.get_nowait()
        except queue.Empty:
            db = connect_reader(self.engine)
        try:
            return check(db)
        finally:
            self._idle.put(db)

    def _check(
        self, lookup: lane.Lookup, rows: list[Any], request: ReleaseRequest
    ) -> tuple[lane.Gate, ReleasePlan] | str:
        """The calling gate and the plan of its release, from its lookup's rows; or why the full route must answer."""
        now = utcnow()
        try:
            found = lane.checked(self.inline, lookup, rows, now)
            if found is None:
                return "device"
            caller, slip = found
            counts = [Count(c.line, c.counted) for c in request.lines]
            return caller, lane.plan(
                caller, slip, request.text, request.guard, counts, reason=request.reason, refuse=request.refuse, now=now
            )
        except DomainError:
            return "rejected"
        except Exception:  # the lane itself: the full route is the authority
            log.exception("the release lane could not check; the full route answers")
            return "check_error"

    def passed(self, reason: str) -> idempotency.Answer | None:
        """None, the request passed on to the full route; counted by why."""
        self.counts[reason] += 1
        return None

    async def answer_slip(self, scope: Scope, headers: dict[bytes, bytes], body: bytes) -> idempotency.Answer | None:
        """The kiosk's slip, written, and its answer; or None to pass the request on (with the reason counted). A
        resident identifying by unit and PIN (a hash to check, attempts to count) goes the full route."""
        parsed = _parsed(headers, body, SlipRequest)
        if isinstance(parsed, str):
            return self.passed_slip(parsed)
        key, token, request = parsed
        if request.identity.card is None:
            return self.passed_slip("unusual")
        client = scope.get("client")
        ip = client[0] if client else ""
        checked = await self._read(lambda db: self._check_slip(db, token, key, request, ip))
        if isinstance(checked, str):
            return self.passed_slip(checked)
        try:
            written = await checked.issue_plain(self.writer)
        except Exception:
            log.exception("the slip lane could not write; the full route answers")
            return self.passed_slip("write_error")
        if written is None:
            return self.passed_slip("not_written")
        self.slip_counts["answered"] += 1
        return written

    def _check_slip(self, db: Plain, token: str, key: str, request: SlipRequest, ip: str) -> slips.Approved | str:
        """The request approved and its slip drafted, by the full route's rules on plain reads; or why the full
        route must answer (it words and records a refusal)."""
        now = self.clock()
        try:
            kiosk = lane.device(db, token, now, kind="kiosk")
            if kiosk is None:
                return "device"
            write = idempotency.DeviceWrite(kiosk.id, key, slips.SLIP_ROUTE, request.model_dump_json())
            checked = issue_lane.check(
                db,
                kiosk,
                kiosk.actor(ip),
                write,
                unit=request.unit,
                kind=ApplicantKind(request.applicant),
                card=request.identity.card or "",
                draft=slips.draft_of(request),
                signature=slips.signature_of(request),
                now=now,
            )
        except DomainError:
            return "rejected"
        except (*self.errors, Exception):  # the database, or the lane itself: the full route is the authority
            log.exception("the slip lane could not read; the full route answers")
            return "read_error"
        if checked is None:
            return "full_route"
        return slips.Approved(write, checked.english, checked.drafted)

    def passed_slip(self, reason: str) -> idempotency.Answer | None:
        self.slip_counts[reason] += 1
        return None


class ReleaseLane:
    """Pure ASGI middleware in front of the app's routes: serves the everyday release and the kiosk's slip through
    `app.state.release_lane` when there is one."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found: Lane | None = getattr(scope["app"].state, "release_lane", None) if scope["type"] == "http" else None
        path = scope["path"] if scope["type"] == "http" else ""
        if found is None or scope["method"] != "POST" or path not in (PATH, SLIP_PATH):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        json_body = headers.get(b"content-type", b"").split(b";")[0].strip().lower() == b"application/json"
        largest = MAX_BODY if path == PATH else MAX_SLIP_BODY
        if not (json_body and length.isdigit() and int(length) <= largest):
            (found.counts if path == PATH else found.slip_counts)["body"] += 1
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
            answer = await (found.answer if path == PATH else found.answer_slip)(
                scope, headers, b"".join(m.get("body", b"") for m in received)
            )
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


def _parsed(headers: dict[bytes, bytes], body: bytes, model: type[M]) -> tuple[str, str, M] | str:
    """The request's Idempotency-Key, device token and body; or why the full route must answer it."""
    key = headers.get(b"idempotency-key", b"").decode("latin-1")
    if not idempotency.KEY.match(key):
        return "key"
    try:
        token = devices.bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
        return key, token, model.model_validate_json(body)
    except (DomainError, ValidationError):
        return "request"


def _replay(received: list[Message], receive: Receive) -> Receive:
    pending = list(received)

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
