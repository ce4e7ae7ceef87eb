"""Dashboards: the console's home page of every role and the chart JSON endpoints, timed through the ASGI app on a
SQLite estate of 1 000 000 release slips (two years, ~1 400 a day, today's included) with their gate releases,
200 000 service orders, 100 000 calls, 20 000 feedback forms, 200 000 audit entries (cabinet alerts among them),
key loans and vacancies.

Seeding is plain SQL — `INSERT … SELECT` over a recursive CTE — not the ORM, so a million rows take seconds.
Target: p95 <= 150 ms for each role's dashboard and each chart. Prints one JSON line with p50/p95 per role and per
chart and the load average before and after. `--quick` seeds a tenth; `--rounds N` requests per figure (50).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import Role  # noqa: E402
from server.domain import charts, registry, staff  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402

PASSWORD = "bench-pass-1"
ROLES = (
    Role.front_desk,
    Role.records_admin,
    Role.cs_manager,
    Role.security_captain,
    Role.engineering,
    Role.environment,
    Role.finance,
    Role.general_manager,
)
UNITS = 400


def ts(expr: str, shift: str = "") -> str:
    """An SQL instant (`shift`: an SQL expression giving a datetime() modifier) as the UTCDateTime column stores
    it on SQLite: naive UTC with microseconds."""
    inner = f"datetime({expr}, {shift})" if shift else expr
    return f"strftime('%Y-%m-%d %H:%M:%S', {inner}) || '.000000'"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed_registry(url: str) -> None:
    """The estate, its units and one member of staff per role, through the domain (a few hundred rows)."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        estate = registry.create_estate(db, SYSTEM, "GH", "观海台")
        for n in range(UNITS):
            registry.ensure_unit(db, SYSTEM, estate, f"{n // 40 + 1}-{n % 20 + 1}{'AB'[n // 20 % 2]}")
        for role in ROLES:
            staff.create_user(
                db, SYSTEM, username=f"bench.{role.value}", display_name=role.value, role=role, password=PASSWORD,
                estates=[estate],
            )  # fmt: skip
        db.commit()
    engine.dispose()


def seed_bulk(path: Path, slips: int, orders: int, now: datetime) -> dict[str, float]:
    """The bulk rows, in SQL: slips and their releases, orders, calls, forms, audit entries, loans, vacancies."""
    timings: dict[str, float] = {}
    con = sqlite3.connect(path)
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA journal_mode=WAL")
    estate_id = con.execute("SELECT id FROM estates").fetchone()[0]
    first_unit = con.execute("SELECT min(id) FROM units").fetchone()[0]
    staff_id = con.execute("SELECT min(id) FROM staff_users").fetchone()[0]
    con.execute(
        "INSERT INTO slip_signing_keys (id, private_key, public_key, created_at) VALUES (1, :k, :k, :at)",
        {"k": "00" * 32, "at": f"{now:%Y-%m-%d %H:%M:%S}.000000"},
    )
    n_now = f"'{now:%Y-%m-%d %H:%M:%S}'"
    per_day = max(1, slips // 730)
    params = {"e": estate_id, "u": first_unit, "units": UNITS, "per_day": per_day, "staff": staff_id}

    issued = f"datetime({n_now}, '-' || (i / :per_day) || ' days', '-' || (i % 600) || ' seconds')"
    created = f"datetime({n_now}, '-' || (i % 730) || ' days', '-' || (i % 86400) || ' seconds')"
    at = f"datetime({n_now}, '-' || (i * 60) || ' seconds')"
    T = {  # the instants the inserts write, as SQL
        "k0": ts(at),
        "k1": ts(at, "'+' || (i % 48) || ' hours'"),
        "k2": ts(created),
        "k3": ts(created, "'+' || (i % 200) || ' hours'"),
        "k4": ts(created, "'+' || (i % 96) || ' hours'"),
        "k5": ts(created, "'+1 day'"),
        "k6": ts(created, "'+2 hours'"),
        "k7": ts(created, "'+26 hours'"),
        "k8": ts(created, "'+3 hours'"),
        "k9": ts(issued),
        "k10": ts(issued, "'+1 day'"),
    }

    def run(name: str, sql: str, count: int) -> None:
        started = time.perf_counter()
        con.execute(
            f"WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i + 1 < {count}) {sql}", params
        )
        con.commit()
        timings[name] = round(time.perf_counter() - started, 1)

    # Slips: `per_day` a day back from today (Asia/Shanghai: +8 h), numbered per day; today's first.
    local_day = f"date({issued}, '+8 hours')"
    run(
        "slips",
        "INSERT INTO release_slips (id, estate_id, number, day, seq, unit_id, unit_code, applicant_kind, "
        "applicant_name, proxy_name, proxy_phone, confirmed_by, confirmation, countersign_pending, countersigned_by,"
        " planned_date, valid_until, vehicle_plate, note, state, channel, key_id, token, issued_at, issued_by, "
        "reprints) "
        f"SELECT i + 1, :e, 'GH-' || i, {local_day}, i % :per_day + 1, :u + i % :units, 'U' || (i % :units), "
        "CASE i % 4 WHEN 3 THEN 'proxy' WHEN 2 THEN 'tenant' ELSE 'owner' END, '王建国', '', '', '', '', "
        f"i % 997 = 0, '', {local_day}, {T['k10']}, '', '', "
        "CASE i % 6 WHEN 3 THEN 'expired' WHEN 4 THEN 'refused' WHEN 5 THEN 'cancelled' ELSE "
        "CASE WHEN i < :per_day / 2 THEN 'issued' ELSE 'released' END END, 'console', 1, 'RS1:bench', "
        f"{T['k9']}, 'bench', 0 FROM n",
        slips,
    )
    run(
        "releases",
        "INSERT INTO slip_releases (slip_id, estate_id, gate, guard, outcome, reason, at, recorded_at, offline) "
        "SELECT id, estate_id, CASE id % 3 WHEN 0 THEN '东门' WHEN 1 THEN '西门' ELSE '北门' END, 'bench', "
        "CASE state WHEN 'refused' THEN 'refused' ELSE 'released' END, "
        "CASE WHEN state = 'refused' THEN CASE id % 3 WHEN 0 THEN '纸箱: 条上 3 / 实点 4' WHEN 1 THEN '无业主确认' "
        "ELSE '' END ELSE '' END, issued_at, issued_at, 0 FROM release_slips WHERE state IN ('released', 'refused')",
        1,
    )
    # Orders: repairs and cleanings over two years, today's and late ones among them.
    run(
        "orders",
        "INSERT INTO service_orders (id, estate_id, kind, number, state, channel, unit_id, contact_name, "
        "contact_phone, category, description, location, paid, worker_name, unfinished_reason, out_of_scope, "
        "resident_opinion, resident_signature, repairer_signed_by, unreturned_reason, created_by, created_at, due_at, "
        "appointment_start, appointment_end, done_at) "
        "SELECT i + 1, :e, CASE i % 3 WHEN 0 THEN 'cleaning' ELSE 'repair' END, 'GH-WX-' || i, "
        # older than a fortnight: filed, cancelled, or (1 in 50) stuck done or returned — late; recent: every state
        "CASE WHEN i % 730 > 14 THEN CASE i % 100 WHEN 0 THEN 'done' WHEN 1 THEN 'returned' WHEN 2 THEN 'cancelled' "
        "ELSE 'filed' END ELSE "
        'json_extract(\'["new","assigned","scheduled","in_progress","done","returned","called_back","filed"]\', '
        "'$[' || (i % 8) || ']') END, 'desk', :u + i % :units, '王', '', '水电', '', "
        f"'', 0, '', '', '', '', '', '', '', 'bench', {T['k2']}, "
        f"{T['k4']}, "
        f"{T['k5']}, "
        f"{T['k7']}, "
        f"CASE WHEN (i % 730 > 14 AND i % 100 != 2) OR (i % 730 <= 14 AND i % 8 >= 4) THEN {T['k3']}"
        " END FROM n",
        orders,
    )
    run(
        "calls",
        "INSERT INTO call_tasks (estate_id, reason, order_id, phone, opens_at, due_at, created_at, done_at, outcome, "
        "note) SELECT :e, 'repair_callback', i + 1, '', "
        f"{T['k2']}, {T['k8']}, {T['k2']}, "
        f"CASE WHEN i % 50 = 0 THEN NULL ELSE {T['k6']} END, "
        'CASE WHEN i % 50 = 0 THEN NULL ELSE json_extract(\'["reached_satisfied","reached_satisfied",'
        "\"reached_unsatisfied\",\"no_answer\",\"rebooked\"]', '$[' || (i % 5) || ']') END, '' FROM n",
        orders // 2,
    )
    run(
        "feedback",
        "INSERT INTO feedback_forms (estate_id, number, state, channel, category, contact_name, contact_phone, "
        "contact_back, subject, details, department, reply, replied_by, answer_to_resident, follow_up, received_at, "
        "due_at, created_by) SELECT :e, 'GH-YJ-' || i, CASE i % 4 WHEN 0 THEN 'received' ELSE 'filed' END, 'desk', "
        "json_extract('[\"suggestion\",\"complaint\",\"praise\",\"question\"]', '$[' || (i % 4) || ']'), '王', '', "
        f"'phone', '意见', '', '', '', '', '', '', {T['k2']}, "
        f"{T['k5']}, 'bench' FROM n",
        orders // 10,
    )
    run(
        "audit",
        "INSERT INTO audit_log (seq, at, actor, estate_id, action, entity, entity_id, detail, ip, prev_hash, hash) "
        f"SELECT 1000000 + i, {T['k0']}, 'bench', :e, "
        "CASE i % 10 WHEN 0 THEN 'cabinet.door_opened' WHEN 1 THEN 'key.removed' ELSE 'slip.issued' END, 'x', '', "
        "CASE WHEN i % 20 = 0 THEN '{\"alert\": true}' ELSE '{}' END, '', '', 'bench-' || i FROM n",
        orders,
    )
    run(
        "loans",
        "INSERT INTO key_loans (estate_id, key_id, state, purpose, borrower_kind, borrower_name, company, phone, "
        "id_tail, receipt_no, payment_proof, registered_by_id, registered_at, due_at, out_at, overdue_ack_note) "
        "SELECT :e, i % 50 + 1, CASE WHEN i % 5 = 0 THEN 'out' ELSE 'returned' END, "
        'json_extract(\'["viewing","rectification","engineering","sales_viewing"]\', \'$[\' || (i % 4) || \']\'),'
        f" 'staff', '王', '', '', '', '', '', :staff, {T['k0']}, "
        f"{T['k1']}, {T['k0']}, '' FROM n",
        5_000,
    )
    run(
        "vacancies",
        "INSERT INTO vacancies (estate_id, unit_id, takeover_id, starts_on, ends_on) SELECT :e, :u + i % :units, 1, "
        f"date({n_now}, '-' || (i * 3) || ' days'), CASE WHEN i % 3 = 0 THEN NULL ELSE "
        f"date({n_now}, '-' || (i * 2) || ' days') END FROM n",
        UNITS // 2,
    )
    run(
        "reconciliations",
        "INSERT INTO slip_reconciliations (estate_id, day, security_by, security_at, records_by, records_at, figures, "
        f"note) SELECT :e, date({n_now}, '+8 hours', '-' || (i + 1) || ' days'), 'bench', {T['k9']}, 'bench', "
        f"{T['k9']}, '{{}}', '' FROM n",
        7,
    )
    started = time.perf_counter()
    con.execute("ANALYZE")
    con.commit()
    timings["analyze"] = round(time.perf_counter() - started, 1)
    con.close()
    return timings


def timed(url: str, data_dir: Path, rounds: int) -> dict[str, dict[str, float]]:
    """p50/p95 of each role's dashboard and of each chart (as the manager, who sees them all)."""
    from fastapi.testclient import TestClient

    from server.config import Settings
    from server.web.app import create_app

    engine = make_engine(url)
    settings = Settings(data_dir=data_dir, database_url=url, overdue_sweep_seconds=0, service_sweep_seconds=0)
    app = create_app(settings, engine)  # no background sweeps: the requests alone are timed
    out: dict[str, dict[str, float]] = {}

    def measure(client: TestClient, name: str, path: str) -> None:
        timings = []
        for _ in range(rounds):
            started = time.perf_counter()
            response = client.get(path)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (path, response.status_code, response.text[:300])
        out[name] = {
            "p50_ms": round(statistics.median(timings) * 1000, 1),
            "p95_ms": round(percentile(timings, 0.95) * 1000, 1),
        }

    for role in ROLES:
        with TestClient(app) as client:
            page = client.get("/console/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            signed = client.post(
                "/console/login",
                data={"username": f"bench.{role.value}", "password": PASSWORD, "csrf_token": csrf[1]},
            )
            assert signed.url.path == "/console/", signed.text[:300]
            measure(client, f"dashboard.{role.value}", "/console/")
            if role == Role.cs_manager:
                for name in charts.CHARTS:
                    measure(client, f"chart.{name}", f"/console/charts/{name}.json")
                measure(client, "charts_page", "/console/charts")
    engine.dispose()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the rows: a smoke run")
    parser.add_argument("--rounds", type=int, default=50, help="requests per page or chart")
    parser.add_argument("--db", help="keep the seeded SQLite file here, or reuse it when it exists (seeded today)")
    args = parser.parse_args()
    slips, orders = (100_000, 20_000) if args.quick else (1_000_000, 200_000)
    now = datetime.now(UTC).replace(tzinfo=None, microsecond=0)
    result: dict[str, object] = {"bench": "dashboard", "slips": slips, "orders": orders, "rounds": args.rounds,
                                 "load_before": os.getloadavg()}  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(args.db) if args.db else Path(tmp) / "estate.db"
        url = f"sqlite:///{path}"
        if not path.exists():
            started = time.perf_counter()
            seed_registry(url)
            result["seed_s"] = seed_bulk(path, slips, orders, now)
            result["seed_total_s"] = round(time.perf_counter() - started, 1)
        else:  # a database a previous run kept: brought up to the latest migration (its indexes)
            engine = make_engine(url)
            upgrade(engine)
            engine.dispose()
        figures = timed(url, Path(tmp) / "data", args.rounds)
    result["load_after"] = os.getloadavg()
    result["figures"] = figures
    worst = max(v["p95_ms"] for v in figures.values())
    result["worst_p95_ms"] = worst
    result["target_p95_ms"] = 150
    result["ok"] = worst <= 150
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
