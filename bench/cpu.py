"""Server CPU per request of the hot device writes, without HTTP or a load generator: gate releases (each of a
different valid slip) and kiosk slip requests sent straight to the ASGI app, 32 at a time, on a seeded SQLite
database. The figure is the process's CPU time (all threads) per answer, which depends far less on how busy the
machine is than a rate does; use it to compare a change before and after. `--profile` prints where the time goes
(needs yappi, which profiles every thread; or run the script under py-spy).
Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import resource
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.slips import CARD, RELEASE_BODY, seed  # noqa: E402
from server.config import Settings  # noqa: E402
from server.web.app import create_app  # noqa: E402

CONCURRENCY = 32


async def call(app: Any, path: str, body: bytes, token: str, key: str) -> int:
    """One POST through the ASGI app; its status."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [
            (b"host", b"bench"),
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"authorization", f"Bearer {token}".encode()),
            (b"idempotency-key", key.encode()),
        ],
        "client": ("127.0.0.1", 50000),
        "server": ("bench", 80),
    }
    messages = [{"type": "http.request", "body": body, "more_body": False}]
    status = 0

    async def receive() -> dict[str, Any]:
        return messages.pop() if messages else {"type": "http.disconnect"}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


async def drive(app: Any, requests: list[tuple[str, bytes, str, str]]) -> Counter[int]:
    queue = list(reversed(requests))
    statuses: Counter[int] = Counter()

    async def worker() -> None:
        while queue:
            statuses[await call(app, *queue.pop())] += 1

    await asyncio.gather(*[worker() for _ in range(CONCURRENCY)])
    return statuses


def measure(app: Any, requests: list[tuple[str, bytes, str, str]], profile: bool) -> dict[str, Any]:
    if profile:
        import yappi

        yappi.set_clock_type("cpu")
        yappi.start(builtins=False)
    before, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
    statuses = asyncio.run(drive(app, requests))
    after, wall = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter() - wall
    if profile:
        yappi.stop()
        stats = yappi.get_func_stats()
        stats.sort("ttot").print_all(
            out=sys.stderr, columns={0: ("name", 90), 1: ("ncall", 9), 3: ("ttot", 8), 4: ("tsub", 8)}
        )
        yappi.clear_stats()
    n = len(requests)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {
        "requests": n,
        "statuses": dict(statuses),
        "cpu_ms_per_request": round(cpu * 1000 / n, 3),
        "user_ms_per_request": round((after.ru_utime - before.ru_utime) * 1000 / n, 3),
        "switches_per_request": round((after.ru_nvcsw + after.ru_nivcsw - before.ru_nvcsw - before.ru_nivcsw) / n, 1),
        "wall_s": round(wall, 2),
    }


def least(app: Any, requests: list[tuple[str, bytes, str, str]], rounds: int, profile: bool) -> dict[str, Any]:
    """The round of least CPU per request among `rounds` rounds, each on its own share of `requests`."""
    size = len(requests) // rounds
    runs = [measure(app, requests[i * size : (i + 1) * size], profile) for i in range(rounds)]
    return min(runs, key=lambda run: run["cpu_ms_per_request"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=1, help="measure this many times; the round of least CPU")
    parser.add_argument("--only", choices=["releases", "issue"], help="measure only one of the two")
    parser.add_argument("--profile", action="store_true", help="print a profile of what is measured")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        url = f"sqlite:///{work / 'cpu.db'}"
        warm = 200
        seeded = seed(url, args.requests * args.rounds + warm, work / "tokens.txt")
        tokens = seeded.tokens.read_text().splitlines()
        app = create_app(Settings(database_url=url, data_dir=work))
        release = "/api/v1/gate/releases"
        releases = [(release, (RELEASE_BODY % t).encode(), seeded.gate, f"rel-{i:09d}") for i, t in enumerate(tokens)]
        issue_body = json.dumps(
            {
                "unit": "5-8B",
                "applicant": "owner",
                "identity": {"card": CARD},
                "items": [{"code": "SOFA", "quantity": 1}],
                "planned_date": seeded.today().isoformat(),
            }
        ).encode()
        total = args.requests * args.rounds + warm
        issues = [("/api/v1/slips", issue_body, seeded.kiosk, f"iss-{i:09d}") for i in range(total)]
        measure(app, releases[:warm] + issues[:warm], profile=False)
        out = {}
        if args.only != "issue":
            out["releases"] = least(app, releases[warm:], args.rounds, args.profile)
        if args.only != "releases":
            out["kiosk_issue"] = least(app, issues[warm:], args.rounds, args.profile)
    print(json.dumps(out))


if __name__ == "__main__":
    main()
