"""Service desk: the role boards ("due today / late") and the order lists with 200 000 repair and cleaning orders
(plus 20 000 feedback forms and 60 000 call tasks) in the database, inserted in bulk, on SQLite and on PostgreSQL
when reachable. Timed: the console's board page (every board, as an admin sees it, and the desk's and supervisor's
as the CS manager sees them), each role's board alone, and the order list's first page, filtered late, and by
state.

Target: p95 <= 100 ms for each. Prints one JSON line. `--quick` inserts a tenth as many.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine, insert, select
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import (  # noqa: E402
    CallOutcome,
    CallReason,
    CallTask,
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    FeedbackState,
    OrderState,
    Role,
    ServiceKind,
    ServiceOrder,
    Unit,
)
from server.domain import registry, staff  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402
from server.domain.service import boards  # noqa: E402

PG_ADMIN = os.environ.get("ESTATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
NOW = datetime(2026, 11, 25, 4, 0, tzinfo=UTC)  # a Wednesday, 12:00 in Shanghai
ROUNDS = 40
BATCH = 10_000
PASSWORD = "bench-pass-1"

# Open work at any moment is a small part of the history: most orders are filed.
OPEN_STATES = (
    (ServiceKind.repair, OrderState.new),
    (ServiceKind.repair, OrderState.assigned),
    (ServiceKind.repair, OrderState.scheduled),
    (ServiceKind.repair, OrderState.done),
    (ServiceKind.repair, OrderState.returned),
    (ServiceKind.repair, OrderState.called_back),
    (ServiceKind.cleaning, OrderState.new),
    (ServiceKind.cleaning, OrderState.dispatched),
    (ServiceKind.cleaning, OrderState.nobody_home),
    (ServiceKind.cleaning, OrderState.done),
)


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def seed(url: str, orders: int) -> dict[str, float]:
    """An estate with 400 units, two staff accounts, and `orders` orders with forms and call tasks, in bulk."""
    engine = make_engine(url)
    upgrade(engine)
    with make_sessionmaker(engine)() as db:
        estate = registry.create_estate(db, SYSTEM, "GH", "观海台")
        for building in range(1, 11):
            for floor in range(1, 21):
                for flat in "AB":
                    registry.ensure_unit(db, SYSTEM, estate, f"{building}-{floor}{flat}")
        for username, role in (("bench.admin", Role.admin), ("bench.manager", Role.cs_manager)):
            staff.create_user(
                db, SYSTEM, username=username, display_name=username, role=role, password=PASSWORD, estates=[estate]
            )
        db.commit()
        estate_id = estate.id
        units = list(db.scalars(select(Unit.id).where(Unit.estate_id == estate_id)))
    started = time.perf_counter()
    with engine.begin() as conn:
        order_rows = []
        for i in range(orders):
            kind = ServiceKind.repair if i % 10 < 7 else ServiceKind.cleaning
            created = NOW - timedelta(minutes=5 * (orders - i))  # about two years of history, oldest first
            recent = orders - i <= 6_000  # the last few weeks: some still open
            state = OrderState.filed
            due_at = escalated_at = appointment = None
            if recent and i % 3:
                kind, state = OPEN_STATES[i % len(OPEN_STATES)]
                if state in (OrderState.done, OrderState.returned):
                    due_at = created + timedelta(hours=30)
                    escalated_at = due_at + timedelta(minutes=1) if due_at < NOW and i % 2 else None
                if state in (OrderState.scheduled, OrderState.dispatched):
                    appointment = NOW + timedelta(hours=(i % 72) - 24)
            number = f"GH-{'WX' if kind is ServiceKind.repair else 'QJ'}-{created:%Y%m}-{i:06d}"
            order_rows.append(
                {
                    "estate_id": estate_id, "kind": kind, "number": number, "state": state, "channel": Channel.phone,
                    "unit_id": units[i % len(units)], "contact_name": "王建国", "contact_phone": "13800000001",
                    "category": "plumbing", "description": "水龙头漏水", "location": "厨房", "paid": i % 2 == 0,
                    "price_fen": 3000 if i % 2 == 0 else None, "appointment_start": appointment,
                    "appointment_end": appointment + timedelta(hours=2) if appointment else None,
                    "worker_name": "李师傅", "unfinished_reason": "", "out_of_scope": "", "resident_opinion": "",
                    "resident_signature": "", "repairer_signed_by": "", "unreturned_reason": "", "due_at": due_at,
                    "escalated_at": escalated_at, "created_by": "bench", "created_at": created,
                }
            )  # fmt: skip
            if len(order_rows) == BATCH:
                conn.execute(insert(ServiceOrder), order_rows)
                order_rows = []
        if order_rows:
            conn.execute(insert(ServiceOrder), order_rows)
        forms = orders // 10
        form_states = (FeedbackState.received, FeedbackState.referred, FeedbackState.replied, FeedbackState.signed)
        conn.execute(
            insert(FeedbackForm),
            [
                {
                    "estate_id": estate_id, "number": f"GH-YJ-{i:06d}", "channel": Channel.phone,
                    "category": FeedbackCategory.complaint, "unit_id": units[i % len(units)], "contact_name": "王建国",
                    "contact_phone": "", "contact_back": "phone", "subject": "噪音", "details": "", "department":
                    "engineering", "reply": "", "replied_by": "", "answer_to_resident": "", "follow_up": "",
                    "received_at": NOW - timedelta(minutes=50 * (forms - i)), "created_by": "bench",
                    "state": form_states[i % 4] if forms - i <= 400 else FeedbackState.filed,
                    "due_at": NOW - timedelta(minutes=50 * (forms - i)) + timedelta(days=1),
                }
                for i in range(forms)
            ],
        )  # fmt: skip
        first_order = conn.execute(select(ServiceOrder.id).order_by(ServiceOrder.id).limit(1)).scalar_one()
        tasks = orders * 3 // 10
        conn.execute(
            insert(CallTask),
            [
                {
                    "estate_id": estate_id, "reason": CallReason.repair_callback, "order_id": first_order + i * 3,
                    "phone": "13800000001", "opens_at": NOW - timedelta(minutes=15 * (tasks - i)),
                    "due_at": NOW - timedelta(minutes=15 * (tasks - i)) + timedelta(hours=3),
                    "created_at": NOW - timedelta(minutes=15 * (tasks - i)), "note": "",
                    "done_at": None if tasks - i <= 60 else NOW - timedelta(minutes=15 * (tasks - i) - 30),
                    "outcome": None if tasks - i <= 60 else
                    (CallOutcome.reached_unsatisfied if i % 50 == 0 else CallOutcome.reached_satisfied),
                }
                for i in range(tasks)
            ],
        )  # fmt: skip
    with engine.begin() as conn:
        if engine.dialect.name == "sqlite":
            conn.exec_driver_sql("ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return {"insert_s": round(time.perf_counter() - started, 1)}


def timed(work: Callable[[], object], rounds: int = ROUNDS) -> dict[str, float]:
    work()  # warm
    timings = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return {"p95_ms": round(percentile(timings, 0.95) * 1000, 1), "p50_ms": round(statistics.median(timings) * 1000, 1)}


def measure(url: str, data_dir: Path) -> dict[str, object]:
    from fastapi.testclient import TestClient

    from server.config import Settings
    from server.web.app import create_app

    engine = make_engine(url)
    out: dict[str, object] = {}
    with make_sessionmaker(engine)() as db:
        estate = db.scalars(select(Estate)).one()
        for role in boards.ROLES:
            out[f"board_{role}"] = timed(lambda role=role: boards.board(db, estate, role, NOW))  # type: ignore[misc]
            db.rollback()
        lists = {
            "list_first_page": boards.OrderFilter(ServiceKind.repair),
            "list_late": boards.OrderFilter(ServiceKind.repair, late=True),
            "list_state_new": boards.OrderFilter(ServiceKind.repair, OrderState.new),
            "list_state_filed": boards.OrderFilter(ServiceKind.repair, OrderState.filed),
            "list_cleaning_done_late": boards.OrderFilter(ServiceKind.cleaning, OrderState.done, late=True),
        }
        for name, f in lists.items():
            out[name] = timed(lambda f=f: boards.orders_page(db, estate, f, NOW, 1, 25))  # type: ignore[misc]
            db.rollback()
        # the last page by offset, for information (the lists are read from their first page; not in the verdict)
        last = boards.orders_page(db, estate, lists["list_first_page"], NOW, 1, 25).pages
        info = timed(lambda: boards.orders_page(db, estate, lists["list_first_page"], NOW, last, 25), rounds=10)
        out["info_list_last_page_ms"] = info["p50_ms"]
    settings = Settings(data_dir=data_dir, database_url=url, overdue_sweep_seconds=0, service_sweep_seconds=0)
    app = create_app(settings, engine, clock=lambda: NOW)
    for username in ("bench.admin", "bench.manager"):
        with TestClient(app) as client:
            page = client.get("/console/login")
            csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
            assert csrf
            client.post("/console/login", data={"username": username, "password": PASSWORD, "csrf_token": csrf[1]})

            def board_page(client: TestClient = client) -> None:
                answer = client.get("/console/service")
                assert answer.status_code == 200 and "board-supervisor" in answer.text, answer.status_code

            out[f"board_page_{username.split('.')[1]}"] = timed(board_page)
    engine.dispose()
    return out


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


def verdict(figures: dict[str, object]) -> bool:
    return all(v["p95_ms"] <= 100 for v in figures.values() if isinstance(v, dict) and "p95_ms" in v)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the orders: a smoke run")
    parser.add_argument("--skip-postgres", action="store_true")
    args = parser.parse_args()
    orders = 20_000 if args.quick else 200_000
    out: dict[str, object] = {"bench": "service", "orders": orders, "quick": args.quick, "target_p95_ms": 100}
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'service.db'}"
        sqlite = seed(url, orders) | measure(url, work)
        out["sqlite"] = sqlite | {"ok": verdict(sqlite)}
        pg = None if args.skip_postgres else postgres_database()
        if pg is None:
            out["postgresql"] = None
        else:
            try:
                figures = seed(pg, orders) | measure(pg, work)
                out["postgresql"] = figures | {"ok": verdict(figures)}
            finally:
                drop_postgres(pg)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
