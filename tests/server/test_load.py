"""The server under load on SQLite: bursts of every device kind queue instead of failing, a long import never
keeps a gate waiting, and a release the server acknowledged survives the server being killed (SIGKILL) mid-burst."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.db.engine import holds_write_lock, make_engine, make_sessionmaker
from server.db.models import ApplicantKind, Estate, Occupancy, OccupancyKind, Person, ReleaseSlip, SlipRelease, Unit
from server.domain import audit, clock, importing, registry
from server.domain.actors import SYSTEM
from server.domain.slips import eligibility, issuing
from tests.conftest import ROOT, free_port, keyed, wait_until

CARD = "LOAD0001"


@pytest.fixture
def database_url(_db_templates, tmp_path: Path) -> str:
    return _db_templates.sqlite(tmp_path / "estate.db")


def _owner_unit(db: Session, estate: Estate) -> Unit:
    unit = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
    owner = registry.add_person(db, SYSTEM, estate, "王建国")
    registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
    registry.set_credentials(db, SYSTEM, owner, card=CARD)
    db.commit()
    return unit


def _issue(db: Session, estate: Estate, unit: Unit, count: int) -> list[str]:
    owner = db.scalars(select(Person).where(Person.estate_id == estate.id)).first()
    today = clock.local_day(estate, issuing.utcnow())
    applicant = eligibility.check(db, SYSTEM, estate, unit, ApplicantKind.owner, owner, channel="console", today=today)
    draft = issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1)], today)
    tokens = [issuing.issue(db, SYSTEM, estate, unit, applicant, draft, channel="console").token for _ in range(count)]
    db.commit()
    return tokens


def fresh(db: Session) -> None:
    """End the test session's snapshot and forget what it loaded: the next reads see what the server wrote."""
    db.rollback()
    db.expire_all()


def _release_body(token: str) -> dict[str, object]:
    return {"text": token, "guard": "张保安", "lines": [{"line": 1, "counted": 1}]}


@pytest.mark.parametrize("burst", [100, 300])
def test_bursts_of_every_device_kind_queue_and_none_fails(
    burst: int, live_server: str, db: Session, estate: Estate, make_device: Callable[..., tuple]
) -> None:
    """`burst` requests at once, a third each from gates (releases), kiosks (slip requests) and key cabinets
    (event uploads): every one is answered as it should be, none with a server error."""
    unit = _owner_unit(db, estate)
    per_kind = burst // 3
    tokens = _issue(db, estate, unit, per_kind)
    auth = {kind: {"Authorization": f"Bearer {make_device(kind, kind)[1]}"} for kind in ("gate", "kiosk", "cabinet")}
    today = clock.local_day(estate, issuing.utcnow()).isoformat()
    slip_request = {
        "unit": "5-8B",
        "applicant": "owner",
        "identity": {"card": CARD},
        "items": [{"code": "SOFA", "quantity": 1}],
        "planned_date": today,
    }
    event = {"event": "door_held_open", "board": 1, "slot": 2, "at": datetime.now(UTC).isoformat()}

    async def one(client: httpx.AsyncClient, kind: str, i: int) -> tuple[str, int]:
        headers = auth[kind] | {"Idempotency-Key": uuid.uuid4().hex}
        if kind == "gate":
            answer = await client.post("/gate/releases", json=_release_body(tokens[i]), headers=headers)
        elif kind == "kiosk":
            answer = await client.post("/slips", json=slip_request, headers=headers)
        else:
            answer = await client.post("/cabinet/events", json={"events": [event]}, headers=headers)
        return kind, answer.status_code

    async def burst_of_requests() -> list[tuple[str, int]]:
        limits = httpx.Limits(max_connections=burst, max_keepalive_connections=burst)
        async with httpx.AsyncClient(base_url=live_server + "/api/v1", limits=limits, timeout=300) as client:
            jobs = [one(client, kind, i) for i in range(per_kind) for kind in ("gate", "kiosk", "cabinet")]
            return await asyncio.gather(*jobs)

    answers = asyncio.run(burst_of_requests())
    assert len(answers) == per_kind * 3
    assert [a for a in answers if a[1] >= 500] == []
    assert all(status == 201 for _kind, status in answers), sorted(set(answers))
    fresh(db)
    assert db.scalar(select(func.count()).select_from(SlipRelease)) == per_kind


def _sheet(rows: int) -> bytes:
    lines = ["房号,姓名,电话,身份,起始日期"]
    lines += [f"{i % 30 + 1}-{i % 20 + 1}A,住户{i},139{i:08d},业主,2021-03-01" for i in range(rows)]
    return ("\n".join(lines) + "\n").encode()


def test_a_gate_is_answered_while_a_long_import_is_still_writing(
    app: FastAPI, live_server: str, engine: Engine, db: Session, estate: Estate, make_device: Callable[..., tuple]
) -> None:
    """The import writes in short chunks: a gate's check (whose first request also notes the gate as seen, a
    write) completes while the import is still running, not after it."""
    unit = _owner_unit(db, estate)
    token = _issue(db, estate, unit, 1)[0]
    _gate, device_token = make_device("gate", "东门")
    rows = 2000
    progress: list[int] = []
    failure: list[BaseException] = []

    def run_import() -> None:
        try:
            with make_sessionmaker(engine, reader=True)() as session:
                target = session.get(Estate, estate.id)
                report = importing.import_residents(
                    session,
                    SYSTEM,
                    target,
                    "big.csv",
                    _sheet(rows),
                    progress=lambda done, _total: progress.append(done),
                    writer=app.state.writer,
                )
                assert report.ok, report.problems
        except BaseException as exc:
            failure.append(exc)

    importer = threading.Thread(target=run_import)
    importer.start()
    try:
        wait_until(lambda: progress or failure, what="the import's first chunk")
        answer = httpx.post(
            live_server + "/api/v1/gate/verify",
            json={"text": token},
            headers=keyed({"Authorization": f"Bearer {device_token}"}),
            timeout=120,
        )
        still_importing = progress[-1] < rows
    finally:
        importer.join()
    assert failure == []
    assert answer.status_code == 200 and answer.json()["slip"]["state"] == "issued"
    assert still_importing, "the gate was answered only once the import had finished"
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Person)) == rows + 1
    assert audit.verify(db).ok


def test_a_failed_chunk_takes_the_earlier_chunks_out_again(
    app: FastAPI, engine: Engine, db: Session, estate: Estate
) -> None:
    """All or nothing, also in chunks: a card given to someone else after the sheet was checked makes a later
    chunk fail, and what the earlier chunks wrote is taken out (the audit trail says so)."""
    rows = importing.CHUNK * 3
    lines = ["房号,姓名,电话,身份,起始日期,住户卡号"]
    lines += [f"1-{i % 9 + 1}A,住户{i},139{i:08d},业主,2021-03-01,C{i:05d}" for i in range(rows)]
    late = registry.add_person(db, SYSTEM, estate, "后来者")
    db.commit()

    class TakeTheCardMeanwhile:
        """The app's writer, but before the third chunk another resident is given that chunk's first card."""

        def __init__(self) -> None:
            self.calls = 0

        def run(self, work):
            self.calls += 1
            if self.calls == 3:
                card = f"C{importing.CHUNK * 2:05d}"
                app.state.writer.run(lambda s: registry.set_credentials(s, SYSTEM, s.get(Person, late.id), card=card))
            return app.state.writer.run(work)

    before = db.scalar(select(func.count()).select_from(Person))
    with make_sessionmaker(engine, reader=True)() as session:
        target = session.get(Estate, estate.id)
        report = importing.import_residents(
            session, SYSTEM, target, "late.csv", ("\n".join(lines) + "\n").encode(), writer=TakeTheCardMeanwhile()
        )
    assert not report.ok and report.problems[0].row == importing.CHUNK * 2 + 2
    fresh(db)
    assert db.scalar(select(func.count()).select_from(Person)) == before
    assert db.scalar(select(func.count()).select_from(Occupancy)) == 0
    assert "registry.import_undone" in audit.actions(db, estate.id)


# --- kill -9 during a burst of releases ------------------------------------------------------------------------


@pytest.fixture
def server_process(database_url: str, tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[bytes], str]]]:
    """Start `estate serve`'s app in a real uvicorn process on the test's database; every one started is ended."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path / "data")}
        command = [sys.executable, "-m", "uvicorn", "--factory", "server.web.app:create_app", "--port", str(port)]
        process = subprocess.Popen([*command, "--log-level", "warning"], cwd=ROOT, env=env)
        started.append(process)
        base = f"http://127.0.0.1:{port}"

        def up() -> bool:
            try:
                return httpx.get(base + "/api/v1/health", timeout=1).status_code == 200
            except httpx.HTTPError:
                return False

        wait_until(up, timeout=60, what="the server answering")
        return process, base

    yield start
    for process in started:
        if process.poll() is None:
            process.kill()
        process.wait(timeout=30)


def test_every_acknowledged_release_survives_a_kill_9_and_none_is_doubled(
    server_process: Callable[[], tuple[subprocess.Popen[bytes], str]],
    database_url: str,
    db: Session,
    estate: Estate,
    make_device: Callable[..., tuple],
) -> None:
    """32 gate clients release slips as fast as they can; the server is killed with SIGKILL mid-burst. After a
    restart every release a client saw acknowledged is in the database, and resending the unanswered ones with
    their Idempotency-Keys records each slip's release once."""
    kill = lambda process: os.kill(process.pid, signal.SIGKILL)  # noqa: E731
    releases_through_a_kill_9(server_process, kill, database_url, db, estate, make_device)
    fresh(db)
    assert audit.verify(db).ok


def releases_through_a_kill_9(
    server_process: Callable[[], tuple[subprocess.Popen[bytes], str]],
    kill: Callable[[subprocess.Popen[bytes]], None],
    database_url: str,
    db: Session,
    estate: Estate,
    make_device: Callable[..., tuple],
) -> None:
    """The kill -9 test on a server that `server_process` starts and `kill` kills (its every process)."""
    unit = _owner_unit(db, estate)
    tokens = _issue(db, estate, unit, 600)
    _gate, device_token = make_device("gate", "东门")
    auth = {"Authorization": f"Bearer {device_token}"}
    process, base = server_process()
    work = list(enumerate(tokens))
    acknowledged: dict[int, str] = {}  # slip index -> the number the server answered with
    unanswered: dict[int, str] = {}  # slip index -> Idempotency-Key of a request that got no answer
    lock = threading.Lock()
    killed = threading.Event()

    def client() -> None:
        with httpx.Client(base_url=base + "/api/v1", headers=auth, timeout=30) as http:
            while True:
                with lock:
                    if not work or killed.is_set():
                        return
                    index, token = work.pop()
                key = uuid.uuid4().hex
                try:
                    answer = http.post("/gate/releases", json=_release_body(token), headers={"Idempotency-Key": key})
                except httpx.HTTPError:
                    with lock:
                        unanswered[index] = key
                    continue
                assert answer.status_code == 201, answer.text
                with lock:
                    acknowledged[index] = answer.json()["number"]

    clients = [threading.Thread(target=client) for _ in range(32)]
    for t in clients:
        t.start()
    wait_until(lambda: len(acknowledged) >= 150, timeout=120, what="150 acknowledged releases")
    kill(process)
    killed.set()
    for t in clients:
        t.join()
    assert unanswered, "the kill came while releases were in flight"

    check = make_engine(database_url)
    with make_sessionmaker(check, reader=True)() as session:
        released = dict(
            session.execute(
                select(ReleaseSlip.number, func.count(SlipRelease.id))
                .join(SlipRelease, SlipRelease.slip_id == ReleaseSlip.id)
                .group_by(ReleaseSlip.number)
            ).all()
        )
    check.dispose()
    lost = [number for number in acknowledged.values() if number not in released]
    assert lost == [], f"{len(lost)} acknowledged releases were lost"

    _process, base = server_process()
    with httpx.Client(base_url=base + "/api/v1", headers=auth, timeout=30) as http:
        for index, key in unanswered.items():
            again = http.post("/gate/releases", json=_release_body(tokens[index]), headers={"Idempotency-Key": key})
            assert again.status_code == 201, again.text  # the first answer if it was recorded, else recorded now
    fresh(db)
    counts = db.execute(select(SlipRelease.slip_id, func.count()).group_by(SlipRelease.slip_id)).all()
    assert all(n == 1 for _slip, n in counts)
    assert len(counts) == len(acknowledged) + len(unanswered)


def test_a_sign_in_hashes_the_password_holding_no_write_lock(
    app: FastAPI, engine: Engine, make_user: Callable[..., object], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The slow password hash runs outside any write transaction, even when other writers commit meanwhile, so
    anonymous sign-in attempts never keep a gate's write waiting; and it runs once (the sign-in is not run again
    under the lock)."""
    from fastapi.testclient import TestClient

    from server.domain import staff
    from server.domain.secrets import verify_password
    from tests.conftest import sign_in

    make_user("front_desk", username="desk.one", password="correct-horse-1")
    held: list[bool] = []

    def watched(stored: str, password: str) -> bool:
        held.append(holds_write_lock(engine))
        # Another writer commits while the hash runs, as a busy server's gates do.
        app.state.writer.run(lambda s: audit.record(s, SYSTEM, "test.meanwhile", "test"))
        return verify_password(stored, password)

    monkeypatch.setattr(staff, "verify_password", watched)
    with TestClient(app) as client:
        answer = sign_in(client, "desk.one", "correct-horse-1")
    assert answer.status_code == 200 and "/console/login" not in str(answer.url)
    assert held == [False]


def test_a_request_whose_snapshot_was_overtaken_runs_again_and_succeeds(
    app: FastAPI, engine: Engine, db: Session, make_device: Callable[..., tuple]
) -> None:
    """Requests read from a snapshot and take the write lock only for their write; when another writer committed
    in between, the write cannot go ahead on what was read, so the request runs once more, lock first, and
    succeeds: the device's answer is the same as with no one else writing."""
    from fastapi.testclient import TestClient
    from sqlalchemy import event

    from server.db.models import Device

    device, token = make_device("kiosk")
    overtaken: list[int] = []

    def another_writer_commits_first(_session: Session) -> None:
        if not overtaken:
            overtaken.append(1)
            with make_sessionmaker(engine)() as other:
                audit.record(other, SYSTEM, "test.meanwhile", "test")
                other.commit()

    event.listen(app.state.sessionmaker, "before_commit", another_writer_commits_first)
    client = TestClient(app)
    answer = client.post(
        "/api/v1/device/heartbeat",
        json={"software": "kiosk 1", "peripherals": {"printer": "paper_out"}},
        headers=keyed({"Authorization": f"Bearer {token}"}),
    )
    assert overtaken == [1]
    assert answer.status_code == 204, answer.text
    fresh(db)
    assert "paper_out" in (db.get(Device, device.id).last_status or "")
