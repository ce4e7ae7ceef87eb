"""Release slips: verify+release transactions per second and latency with 32 concurrent gate clients over HTTP
(SQLite WAL, and PostgreSQL when reachable), and console register page latency at 10 000 and 1 000 000 slips.

Targets (issue 6): >= 500 verify+release/s at p99 <= 50 ms with SQLite on this 2-core machine; register pages
p95 <= 100 ms at 1 000 000 slips and no more than 2x slower than at 10 000. Prints one JSON line.
`--quick` uses fewer slips (register at 10 000 and 100 000) for a smoke run.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from datetime import date, datetime, timedelta
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import ApplicantKind, DeviceKind, Estate, OccupancyKind, Role  # noqa: E402
from server.domain import devices, registry, staff  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402
from server.domain.slips import clock, eligibility, issuing  # noqa: E402

CLIENTS = 32
PG_ADMIN = os.environ.get("ESTATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed(url: str, slips: int) -> tuple[list[str], str]:
    """An estate with one owner, `slips` issued slips and one gate token."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        estate = registry.create_estate(db, SYSTEM, "GH", "观海台")
        unit = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
        owner = registry.add_person(db, SYSTEM, estate, "王建国")
        registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
        gate = devices.enrol(db, SYSTEM, estate, DeviceKind.gate, "东门")
        token = devices.issue_token(db, SYSTEM, gate)
        now = issuing.utcnow()
        today = clock.local_day(estate, now)
        applicant = eligibility.check(
            db, SYSTEM, estate, unit, ApplicantKind.owner, owner, channel="console", today=today
        )
        tokens = []
        draft = issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1), issuing.LineDraft("BOX", None, 5)], today)
        for _ in range(slips):
            tokens.append(issuing.issue(db, SYSTEM, estate, unit, applicant, draft, channel="console").token)
        db.commit()
    engine.dispose()
    return tokens, token


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve(url: str, data_dir: Path, workers: int) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = os.environ | {"ESTATE_DATABASE_URL": url, "ESTATE_DATA_DIR": str(data_dir)}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "--factory",
            "server.web.app:create_app",
            "--port",
            str(port),
            "--workers",
            str(workers),
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env=env,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(base + "/api/v1/health", timeout=1).status_code == 200:
                return process, base
        except httpx.HTTPError:
            time.sleep(0.2)
    process.terminate()
    raise RuntimeError("the server did not start")


def release_run(url: str, data_dir: Path, slips: int, workers: int) -> dict[str, float]:
    tokens, device_token = seed(url, slips)
    process, base = serve(url, data_dir, workers)
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()
    queue = list(tokens)
    headers = {"Authorization": f"Bearer {device_token}"}
    lines = [{"line": 1, "counted": 1}, {"line": 2, "counted": 5}]

    def client() -> None:
        with httpx.Client(base_url=base + "/api/v1", headers=headers, timeout=30) as http:
            while True:
                with lock:
                    if not queue:
                        return
                    token = queue.pop()
                started = time.perf_counter()
                ok = http.post("/gate/verify", json={"text": token}).status_code == 200
                body = {"text": token, "guard": "bench", "lines": lines}
                answer = http.post("/gate/releases", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})
                elapsed = time.perf_counter() - started
                with lock:
                    latencies.append(elapsed)
                    failures[0] += 0 if ok and answer.status_code == 201 else 1

    try:
        threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
        started = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        wall = time.perf_counter() - started
    finally:
        process.terminate()
        process.wait(timeout=30)
    return {
        "tps": round(len(latencies) / wall, 1),
        "p50_ms": round(statistics.median(latencies) * 1000, 1),
        "p99_ms": round(percentile(latencies, 0.99) * 1000, 1),
        "transactions": len(latencies),
        "failures": failures[0],
        "workers": workers,
    }


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer slips: a smoke run")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes on PostgreSQL")
    args = parser.parse_args()
    releases = 600 if args.quick else 3000
    big = 100_000 if args.quick else 1_000_000
    out: dict[str, object] = {"bench": "slips", "clients": CLIENTS, "quick": args.quick}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        # The embedded default serves from one process (`estate serve`); several workers are for PostgreSQL.
        out["sqlite_release"] = release_run(f"sqlite:///{work / 'release.db'}", work, releases, 1)
        pg = postgres_database()
        if pg is None:
            out["postgresql_release"] = None
        else:
            try:
                out["postgresql_release"] = release_run(pg, work, releases, args.workers)
            finally:
                drop_postgres(pg)
        register_db = f"sqlite:///{work / 'register.db'}"
        seed(register_db, 1)
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
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
