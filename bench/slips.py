"""Release slips: gate releases per second and latency under wrk (2 threads, 32 connections, each request a
release of a different valid slip) on SQLite (one process) beside a naive FastAPI + sqlite3 anchor doing the same
verify-and-release (bench/anchor.py), and on PostgreSQL with several workers when reachable; kiosk slip issue the
same way; bursts of 100 and 300 requests of every device kind, sent by wrk all at once; a gate verifying while
`estate residents import` writes a 20 000-row sheet; and console register page latency at 10 000 and 1 000 000
slips.

Targets: releases on SQLite >= 1 000/s at p99 <= 50 ms and at least the anchor's rate; on PostgreSQL with 2
workers >= 1 000/s at p99 <= 50 ms; kiosk slip issue >= 300/s at p99 <= 100 ms; register pages p95 <= 100 ms at
1 000 000 slips and no more than 2x slower than at 10 000; the bursts without server errors at p99 <= 1 s; a
verify during the import <= 100 ms. Needs `wrk` (scripts/bootstrap.sh installs it).
Prints one JSON line. `--quick` runs shorter with fewer slips; `--skip-register` leaves out the register pages.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import ApplicantKind, DeviceKind, Estate, OccupancyKind, Role  # noqa: E402
from server.domain import clock, devices, registry, staff  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402
from server.domain.slips import eligibility, issuing  # noqa: E402

THREADS = 2
CONNECTIONS = 32
CARD = "BENCH0001"
PG_ADMIN = os.environ.get("ESTATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
WRK_SCRIPT = ROOT / "bench" / "wrk" / "release.lua"
BURST_SCRIPT = ROOT / "bench" / "wrk" / "burst.lua"
RELEASE_BODY = '{"text":"%s","guard":"bench","lines":[{"line":1,"counted":1},{"line":2,"counted":5}]}'


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


@dataclass
class Seeded:
    tokens: Path  # one slip token a line
    gate: str  # device tokens
    kiosk: str
    cabinet: str
    zone: str  # the estate's time zone: a kiosk plans by the estate's day, which is not the bench machine's

    def today(self) -> date:
        return datetime.now(ZoneInfo(self.zone)).date()


def seed(url: str, slips: int, tokens_file: Path) -> Seeded:
    """An estate with one owner (with a kiosk card), `slips` issued slips, a gate and a kiosk."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        estate = registry.create_estate(db, SYSTEM, "GH", "观海台")
        unit = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
        owner = registry.add_person(db, SYSTEM, estate, "王建国")
        registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
        registry.set_credentials(db, SYSTEM, owner, card=CARD)
        gate = devices.issue_token(db, SYSTEM, devices.enrol(db, SYSTEM, estate, DeviceKind.gate, "东门"))
        kiosk = devices.issue_token(db, SYSTEM, devices.enrol(db, SYSTEM, estate, DeviceKind.kiosk, "大堂"))
        cabinet = devices.issue_token(db, SYSTEM, devices.enrol(db, SYSTEM, estate, DeviceKind.cabinet, "钥匙柜"))
        today = clock.local_day(estate, issuing.utcnow())
        applicant = eligibility.check(
            db, SYSTEM, estate, unit, ApplicantKind.owner, owner, channel="console", today=today
        )
        draft = issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1), issuing.LineDraft("BOX", None, 5)], today)
        issue = issuing.issue
        tokens = [issue(db, SYSTEM, estate, unit, applicant, draft, channel="console").token for _ in range(slips)]
        zone = estate.timezone
        db.commit()
    if engine.dialect.name == "postgresql":
        # Statistics for the planner, as autovacuum gathers them after a bulk load; a server with autovacuum off (as
        # some test machines run) would otherwise plan every lookup for empty tables.
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.exec_driver_sql("ANALYZE")
    engine.dispose()
    tokens_file.write_text("\n".join(tokens) + "\n")
    return Seeded(tokens_file, gate, kiosk, cabinet, zone)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(app: str | None, env: dict[str, str], workers: int = 1) -> tuple[subprocess.Popen[bytes], str]:
    """`estate serve` (app None) or uvicorn serving `app`, with no access log, and its address once every worker
    has started (by the log: the load must not start while a worker is still loading the app)."""
    port = free_port()
    if app is None:
        command = [sys.executable, "-m", "estate_cli", "serve", "--port", str(port), "--workers", str(workers)]
    else:
        command = [sys.executable, "-m", "uvicorn", app, "--port", str(port), "--log-level", "info"]
    log = Path(tempfile.mkstemp(prefix="bench-serve-", suffix=".log")[1])
    with log.open("wb") as err:
        process = subprocess.Popen([*command, "--no-access-log"], cwd=ROOT, env=os.environ | env, stderr=err)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline and process.poll() is None:
            if log.read_text(errors="replace").count("Application startup complete") >= workers:
                httpx.get(base + "/api/v1/health", timeout=5)
                return process, base
            time.sleep(0.2)
        process.terminate()
        raise RuntimeError(f"{app or 'estate serve'} did not start:\n{log.read_text(errors='replace')}")
    finally:
        log.unlink()


def cpu_seconds(pid: int) -> float:
    """CPU time of a process and its children (uvicorn's workers) so far, from /proc: a figure that does not
    depend on how busy the rest of the machine is."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    pids = [pid]
    while pids:
        current = pids.pop()
        try:
            fields = Path(f"/proc/{current}/stat").read_text().rpartition(")")[2].split()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
        pids += [int(c) for c in children]
    return total


def postgres_cpu_seconds() -> float:
    """CPU time so far of every PostgreSQL server process on this machine (the backends serving the run among
    them), from /proc."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            name, _, rest = (entry / "stat").read_text().partition(" (")[2].partition(")")
        except (FileNotFoundError, ProcessLookupError):
            continue
        if name == "postgres":
            fields = rest.split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


def wrk(
    base: str,
    path: str,
    body: str,
    seeded: Seeded,
    device_token: str,
    seconds: int,
    server_pid: int,
    *,
    postgres: bool = False,
) -> dict[str, object]:
    """One wrk run; the figures its script prints, with the rate of answers in 2xx and the server's CPU time
    per answer (and, on PostgreSQL, the database server's)."""
    cpu_before = cpu_seconds(server_pid)
    database_before = postgres_cpu_seconds() if postgres else 0.0
    env = os.environ | {
        "BENCH_THREADS": str(THREADS),
        "BENCH_TOKENS": str(seeded.tokens),
        "BENCH_DEVICE_TOKEN": device_token,
        "BENCH_PATH": path,
        "BENCH_BODY": body,
        "BENCH_RUN": uuid.uuid4().hex[:8],
    }
    command = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", f"-d{seconds}s", "--timeout", "30s", "-s", str(WRK_SCRIPT)]
    done = subprocess.run([*command, base], env=env, capture_output=True, text=True, check=True)
    figures = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    ok = sum(n for status, n in figures["statuses"].items() if status.startswith("2"))
    figures["ok_per_s"] = round(ok / figures["duration_s"], 1)
    figures["server_cpu_ms_per_request"] = round((cpu_seconds(server_pid) - cpu_before) * 1000 / figures["requests"], 2)
    if postgres:
        used = postgres_cpu_seconds() - database_before
        figures["postgres_cpu_ms_per_request"] = round(used * 1000 / figures["requests"], 2)
    return figures


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    process.wait(timeout=30)


def estate_run(
    url: str,
    work: Path,
    seeded: Seeded,
    workers: int,
    seconds: int,
    *,
    import_rows: int = 0,
    releases_only: bool = False,
) -> dict[str, object]:
    """Bursts of 100 and 300 requests of every device kind, releases and kiosk slip issue under wrk, and (given
    `import_rows`) a gate verifying during an import, against `estate serve`'s app under uvicorn on `url`; or, with
    `releases_only`, the releases alone."""
    env = {"ESTATE_DATABASE_URL": url, "ESTATE_DATA_DIR": str(work)}
    postgres = url.startswith("postgresql")
    process, base = serve(None, env, workers)
    extra: dict[str, object] = {}
    try:
        if releases_only:
            path, gate = "/api/v1/gate/releases", seeded.gate
            releases = wrk(base, path, RELEASE_BODY, seeded, gate, seconds, process.pid, postgres=postgres)
            return {"workers": workers, "releases": releases}
        extra["burst_100"] = burst(base, seeded, 100)
        extra["burst_300"] = burst(base, seeded, 300, skip=(100 + 2) // 3)
        releases = wrk(
            base, "/api/v1/gate/releases", RELEASE_BODY, seeded, seeded.gate, seconds, process.pid, postgres=postgres
        )
        issue_body = json.dumps(
            {
                "unit": "5-8B",
                "applicant": "owner",
                "identity": {"card": CARD},
                "items": [{"code": "SOFA", "quantity": 1}],
                "planned_date": seeded.today().isoformat(),
            }
        )
        issue_body = issue_body.replace("%", "%%")
        issue = wrk(base, "/api/v1/slips", issue_body, seeded, seeded.kiosk, seconds, process.pid, postgres=postgres)
        if import_rows:
            extra["verify_during_import"] = verify_during_import(base, url, work, seeded, import_rows)
    finally:
        stop(process)
    return {"workers": workers, "releases": releases, "kiosk_issue": issue} | extra


def burst(base: str, seeded: Seeded, size: int, skip: int = 0) -> dict[str, object]:
    """`size` requests at once from wrk, one per connection: in turn a gate's release of a slip not yet used (the
    last ones seeded, but for the `skip` last), a kiosk's slip request and a key cabinet's event upload. Server
    errors, answers by status and the latency of the burst."""
    tokens = seeded.tokens.read_text().splitlines()  # RS2 tokens hold spaces (Base45)
    gates = (size + 2) // 3
    used = seeded.tokens.with_name(f"burst-{size}-{skip}.txt")
    used.write_text("\n".join(tokens[len(tokens) - skip - gates : len(tokens) - skip]) + "\n")
    event = {"event": "door_held_open", "board": 1, "slot": 2, "at": datetime.now(UTC).isoformat()}
    slip_request = {
        "unit": "5-8B",
        "applicant": "owner",
        "identity": {"card": CARD},
        "items": [{"code": "SOFA", "quantity": 1}],
        "planned_date": seeded.today().isoformat(),
    }
    env = os.environ | {
        "BENCH_THREADS": str(THREADS),
        "BENCH_SIZE": str(size),
        "BENCH_RUN": uuid.uuid4().hex[:12],  # the requests' keys are new to the server
        "BENCH_TOKENS": str(used),
        "BENCH_RELEASE_BODY": RELEASE_BODY,
        "BENCH_GATE": seeded.gate,
        "BENCH_KIOSK": seeded.kiosk,
        "BENCH_CABINET": seeded.cabinet,
        "BENCH_SLIP_BODY": json.dumps(slip_request),
        "BENCH_EVENT_BODY": json.dumps({"events": [event]}),
    }
    # wrk deals the connections out evenly among its threads: a burst of `size` needs `size` of them.
    command = ["wrk", f"-t{THREADS}", f"-c{size}", "-d10s", "--timeout", "30s", "-s", str(BURST_SCRIPT), base]
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    figures = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("{")))
    statuses: dict[str, int] = figures["statuses"]
    return {
        "requests": figures["requests"],
        "server_errors": sum(n for status, n in statuses.items() if status.startswith("5")),
        "not_2xx": sum(n for status, n in statuses.items() if not status.startswith("2")),
        "socket_errors": figures["socket_errors"],
        "statuses": dict(sorted(statuses.items())),
        "p50_ms": figures["p50_ms"],
        "p99_ms": figures["p99_ms"],
        "max_ms": figures["max_ms"],
    }


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def verify_during_import(base: str, url: str, work: Path, seeded: Seeded, rows: int) -> dict[str, object]:
    """`estate residents import` of a `rows`-row sheet beside the server on the same database, and a gate verifying
    a slip over and over meanwhile: the verify latencies while the import ran."""
    sheet = work / "residents.csv"
    lines = ["房号,姓名,电话,身份,起始日期"]
    lines += [f"{i % 30 + 1}-{i % 20 + 1}A,住户{i},139{i:08d},业主,2021-03-01" for i in range(rows)]
    sheet.write_text("\n".join(lines) + "\n")
    env = os.environ | {"ESTATE_DATABASE_URL": url, "ESTATE_DATA_DIR": str(work)}
    started = time.perf_counter()
    importer = subprocess.Popen(
        [sys.executable, "-m", "estate_cli", "residents", "import", str(sheet), "--estate", "GH"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    token = seeded.tokens.read_text().splitlines()[0]  # a token may hold spaces (Base45)
    latencies: list[float] = []
    sent: list[float] = []  # when each verify was sent, in seconds from the import's start
    statuses: Counter[str] = Counter()  # the verify's answers (the slip may have been released by then: 409)
    with httpx.Client(base_url=base + "/api/v1", headers=_auth(seeded.gate), timeout=300) as http:
        while importer.poll() is None:
            began = time.perf_counter()
            answer = http.post("/gate/verify", json={"text": token}, headers={"Idempotency-Key": uuid.uuid4().hex})
            latencies.append(time.perf_counter() - began)
            statuses[str(answer.status_code)] += 1
            sent.append(began - started)
            time.sleep(0.05)
    slowest = sorted(zip(latencies, sent, strict=True), reverse=True)[:5]
    return {
        "rows": rows,
        "import_s": round(time.perf_counter() - started, 1),
        "import_ok": importer.returncode == 0,
        "verifies": len(latencies),
        "verify_statuses": dict(statuses),
        "verify_p99_ms": round(percentile(latencies, 0.99) * 1000, 1) if latencies else None,
        "verify_max_ms": round(max(latencies) * 1000, 1) if latencies else None,
        # The slowest verifies, each as [its time in ms, when it was sent in s from the import's start]: to tie an
        # outlier to what the import was doing then.
        "verify_slowest": [[round(took * 1000, 1), round(at, 2)] for took, at in slowest],
    }


def anchor_run(db_file: Path, seeded: Seeded, seconds: int) -> dict[str, object]:
    process, base = serve("bench.anchor:app", {"ANCHOR_DB": str(db_file)})
    try:
        return wrk(base, "/api/v1/gate/releases", RELEASE_BODY, seeded, seeded.gate, seconds, process.pid)
    finally:
        stop(process)


def bulk_slips(url: str, total: int) -> None:
    """Grow the register to `total` slips with plain multi-row inserts (one item line each)."""
    engine = create_engine(url)
    with engine.begin() as conn:
        estate_id, unit_id = conn.execute(text("SELECT estate_id, id FROM units LIMIT 1")).one()
        key_id = conn.execute(text("SELECT max(id) FROM slip_signing_keys")).scalar_one()
        have = conn.execute(text("SELECT count(*) FROM release_slips")).scalar_one()
        next_id = conn.execute(text("SELECT coalesce(max(id), 0) FROM release_slips")).scalar_one() + 1
    start_day = date(2023, 1, 1)
    issued = datetime(2023, 1, 1, 2)  # naive UTC, as the UTC column stores it on SQLite
    states = ("released", "released", "released", "expired", "refused", "cancelled")
    kinds = ("owner", "owner", "tenant", "proxy")
    batch = 20_000
    slip_sql = text(
        "INSERT INTO release_slips (id, estate_id, number, day, seq, unit_id, unit_code, applicant_kind, "
        "applicant_name, proxy_name, proxy_phone, confirmed_by, confirmation, countersign_pending, countersigned_by, "
        "planned_date, valid_until, vehicle_plate, note, state, channel, key_id, token, issued_at, issued_by, reprints)"
        " VALUES (:id, :estate_id, :number, :day, :seq, :unit_id, :unit_code, :kind, '王建国', '', '', '', '', "
        ":pending, '', :day, :until, '', '', :state, 'console', :key_id, 'RS1:bench', :issued, 'bench', 0)"
    )
    item_sql = text(
        "INSERT INTO release_slip_items (slip_id, line, code, name, quantity) VALUES (:id, 1, 'BOX', '纸箱', 3)"
    )
    n = have
    while n < total:
        rows = []
        for _ in range(min(batch, total - n)):
            i = n
            day = start_day + timedelta(days=i // 2500)
            seq = i % 2500 + 1
            rows.append(
                {
                    "id": next_id,
                    "estate_id": estate_id,
                    "number": f"GH-{day:%Y%m%d}-{seq:04d}",
                    "day": day,
                    "seq": seq,
                    "unit_id": unit_id,
                    "unit_code": f"{i % 40 + 1}-{i % 30 + 1}{'ABCD'[i % 4]}",
                    "kind": kinds[i % 4],
                    "pending": i % 97 == 0,
                    "until": f"{issued + timedelta(days=i // 2500):%Y-%m-%d %H:%M:%S.%f}",
                    "state": states[i % 6],
                    "key_id": key_id,
                    "issued": f"{issued + timedelta(days=i // 2500):%Y-%m-%d %H:%M:%S.%f}",
                }
            )
            next_id += 1
            n += 1
        with engine.begin() as conn:
            conn.execute(slip_sql, rows)
            conn.execute(item_sql, [{"id": r["id"]} for r in rows])
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()


def register_latency(url: str, data_dir: Path, rounds: int) -> dict[str, float]:
    """p95 of console register pages: first page, next pages by keyset, and each filter."""
    from fastapi.testclient import TestClient

    from server.config import Settings
    from server.web.app import create_app

    engine = make_engine(url)
    app = create_app(Settings(data_dir=data_dir, database_url=url), engine)
    timings: list[float] = []
    with TestClient(app) as client:
        page = client.get("/console/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert csrf
        client.post(
            "/console/login", data={"username": "bench.desk", "password": "bench-pass-1", "csrf_token": csrf[1]}
        )
        queries = [
            {},
            {"state": "refused"},
            {"kind": "proxy"},
            {"unit": "7-7C"},
            {"day": "2023-06-01"},
            {"number": "GH-20230601-01"},
        ]
        for r in range(rounds):
            params = dict(queries[r % len(queries)])
            started = time.perf_counter()
            first = client.get("/console/slips", params=params)
            timings.append(time.perf_counter() - started)
            assert first.status_code == 200, first.status_code
            more = re.search(r'rel="next" href="[^"]*after=(\d+)', first.text)
            if more:
                started = time.perf_counter()
                assert client.get("/console/slips", params=params | {"after": more[1]}).status_code == 200
                timings.append(time.perf_counter() - started)
    engine.dispose()
    return {"p95_ms": round(percentile(timings, 0.95) * 1000, 1), "p50_ms": round(statistics.median(timings) * 1000, 1)}


def make_desk_user(url: str) -> None:
    engine = make_engine(url)
    with make_sessionmaker(engine)() as db:
        estate = db.scalars(select(Estate)).first()
        staff.create_user(
            db,
            SYSTEM,
            username="bench.desk",
            display_name="bench",
            role=Role.front_desk,
            password="bench-pass-1",
            estates=[estate],
        )
        db.commit()
    engine.dispose()


def postgres_database() -> str | None:
    try:
        admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
        name = f"estate_bench_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        admin.dispose()
        return make_url(PG_ADMIN).set(database=name).render_as_string(hide_password=False)
    except Exception:
        return None


def drop_postgres(url: str) -> None:
    admin = create_engine(PG_ADMIN, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')
    admin.dispose()


PARTS = ("sqlite", "anchor", "postgresql", "register")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="shorter runs, fewer slips: a smoke run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes on PostgreSQL")
    parser.add_argument("--skip-register", action="store_true", help="leave out the register page latency")
    parser.add_argument(
        "--only", action="append", choices=PARTS, help="run this part only (may be given again); default: all"
    )
    parser.add_argument(
        "--releases-only", action="store_true", help="on SQLite and PostgreSQL, measure the releases alone"
    )
    args = parser.parse_args()
    parts = set(args.only or PARTS) - ({"register"} if args.skip_register else set())
    seconds = 4 if args.quick else 10
    slips = 6_000 if args.quick else 24_000  # more than a run can use: every request releases a fresh slip
    big = 100_000 if args.quick else 1_000_000
    out: dict[str, object] = {"bench": "slips", "threads": THREADS, "connections": CONNECTIONS, "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The embedded default serves from one process (`estate serve`); several workers are for PostgreSQL.
        # One seeded database, copied: the server and the anchor release the same slips.
        if parts & {"sqlite", "anchor"}:
            seeded = seed(f"sqlite:///{work / 'seeded.db'}", slips, work / "tokens.txt")
            for name in ("release.db", "anchor.db"):
                shutil.copyfile(work / "seeded.db", work / name)
        if "sqlite" in parts:
            out["sqlite"] = estate_run(
                f"sqlite:///{work / 'release.db'}",
                work,
                seeded,
                1,
                seconds,
                import_rows=2_000 if args.quick else 20_000,
                releases_only=args.releases_only,
            )
        if "anchor" in parts:
            out["anchor"] = anchor_run(work / "anchor.db", seeded, seconds)
        pg = postgres_database() if "postgresql" in parts else None
        if pg is None:
            out["postgresql"] = None
        else:
            try:
                pg_seeded = seed(pg, slips, work / "pg-tokens.txt")
                out["postgresql"] = estate_run(
                    pg, work, pg_seeded, args.workers, seconds, releases_only=args.releases_only
                )
            finally:
                drop_postgres(pg)
        if "register" in parts:
            register_db = f"sqlite:///{work / 'register.db'}"
            seed(register_db, 1, work / "register-tokens.txt")
            make_desk_user(register_db)
            register: dict[str, object] = {}
            for size in (10_000, big):
                started = time.perf_counter()
                bulk_slips(register_db, size)
                register[f"{size}"] = register_latency(register_db, work, 60) | {
                    "fill_s": round(time.perf_counter() - started, 1)
                }
            out["sqlite_register"] = register
            small, large = register["10000"], register[str(big)]
            out["register_ratio_p95"] = round(large["p95_ms"] / max(small["p95_ms"], 0.1), 2)  # type: ignore[index]
    print(json.dumps(out, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
