"""Fixtures shared by the whole suite: databases on SQLite and PostgreSQL, the app, a live server, factories."""

from __future__ import annotations

import gc
import os
import queue
import re
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(ROOT / "var/cache/escpos"))
# The apps under test sweep nothing in the background: a sweep writes at a moment of its own and would race the
# data a test arranges (a read snapshot taken before the sweep's commit cannot then write). The tests of the sweeps
# turn them on, or call them.
os.environ["ESTATE_OVERDUE_SWEEP_SECONDS"] = "0"
os.environ["ESTATE_SERVICE_SWEEP_SECONDS"] = "0"
os.environ.setdefault("KIVY_NO_ARGS", "1")
# A test makes and drops many short-lived objects (an app, its routes, sessions): collect the young generation less
# often, and keep what the imports made (it lives for the whole run) out of the collector's scans.
gc.set_threshold(10_000, 20, 10)
os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
os.environ.setdefault("KIVY_HOME", str(ROOT / "var/kivy"))

import uvicorn  # noqa: E402
from fastapi import FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from httpx import Response  # noqa: E402
from playwright.sync_api import Browser, Page, sync_playwright  # noqa: E402
from sqlalchemy import Engine, create_engine  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from server.config import Settings  # noqa: E402
from server.db.engine import make_engine, make_sessionmaker  # noqa: E402
from server.db.migrate import upgrade  # noqa: E402
from server.db.models import Device, DeviceKind, Estate, OccupancyKind, Person, Role, StaffUser, Unit  # noqa: E402
from server.domain import devices, registry, staff  # noqa: E402
from server.domain.actors import SYSTEM  # noqa: E402
from server.web.app import create_app  # noqa: E402
from tests.display import NoVirtualDisplay, virtual_display  # noqa: E402

POSTGRES_ADMIN_URL = os.environ.get("ESTATE_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
_pg_probe: list[str | None] = []


def postgres_unavailable() -> str | None:
    """None when a PostgreSQL server is reachable for tests, else the reason to skip (probed once)."""
    if not _pg_probe:
        try:
            probe = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
            with probe.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            probe.dispose()
            _pg_probe.append(None)
        except Exception as exc:
            _pg_probe.append(
                f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL} ({type(exc).__name__}); "
                "set ESTATE_TEST_POSTGRES_URL to run these tests on it"
            )
    return _pg_probe[0]


class _Templates:
    """A migrated empty database per backend, made once per test run and copied for every test."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.sqlite_path: Path | None = None
        self.pg_template: str | None = None
        self.pg_created: list[str] = []
        # A test's PostgreSQL database is dropped by a thread of its own while the next tests run, instead of
        # hundreds at the end of the run.
        self._retired: queue.SimpleQueue[str | None] = queue.SimpleQueue()
        self._dropper: threading.Thread | None = None

    def sqlite(self, dest: Path) -> str:
        if self.sqlite_path is None:
            self.sqlite_path = self.root / "template.db"
            eng = make_engine(f"sqlite:///{self.sqlite_path}")
            upgrade(eng)
            eng.dispose()  # closing the last connection folds the WAL into the file we copy
        shutil.copyfile(self.sqlite_path, dest)
        return f"sqlite:///{dest}"

    def postgres(self) -> str:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        base = make_url(POSTGRES_ADMIN_URL)
        with admin.connect() as conn:
            if self.pg_template is None:
                self.pg_template = f"estate_tmpl_{uuid.uuid4().hex[:10]}"
                conn.exec_driver_sql(f'CREATE DATABASE "{self.pg_template}"')
                self.pg_created.append(self.pg_template)
                eng = make_engine(base.set(database=self.pg_template).render_as_string(hide_password=False))
                upgrade(eng)
                eng.dispose()
            name = f"estate_test_{uuid.uuid4().hex[:10]}"
            conn.exec_driver_sql(f'CREATE DATABASE "{name}" TEMPLATE "{self.pg_template}"')
            self.pg_created.append(name)
        admin.dispose()
        return base.set(database=name).render_as_string(hide_password=False)

    def retire(self, url: str) -> None:
        """The test that used the database at `url` is over: drop it in the background."""
        if self._dropper is None:
            self._dropper = threading.Thread(target=self._drop_retired, name="pg-dropper", daemon=True)
            self._dropper.start()
        self._retired.put(make_url(url).database)

    def _drop_retired(self) -> None:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            while (name := self._retired.get()) is not None:
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
                self.pg_created.remove(name)
        admin.dispose()

    def drop_postgres(self) -> None:
        if self._dropper is not None:
            self._retired.put(None)
            self._dropper.join()
        if not self.pg_created:
            return
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            for name in reversed(self.pg_created):
                conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.dispose()


@pytest.fixture(scope="session")
def _db_templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Templates]:
    templates = _Templates(tmp_path_factory.mktemp("db-templates"))
    yield templates
    templates.drop_postgres()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, _db_templates: _Templates, tmp_path: Path) -> Iterator[str]:
    """A fresh, migrated database for one test, on each backend in turn."""
    if request.param == "sqlite":
        yield _db_templates.sqlite(tmp_path / "estate.db")
        return
    reason = postgres_unavailable()
    if reason:
        pytest.skip(reason)
    url = _db_templates.postgres()
    yield url
    _db_templates.retire(url)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    yield eng
    eng.dispose()


@pytest.fixture
def db(engine: Engine) -> Iterator[Session]:
    """A session for arranging and checking data directly; commit what the app must see. Its reads hold only a
    snapshot (SQLite), so an open read here never blocks the app's writes."""
    with make_sessionmaker(engine, reader=True)() as session:
        yield session


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    return Settings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def app(settings: Settings, engine: Engine) -> FastAPI:
    return create_app(settings, engine)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_in_thread(app: FastAPI, port: int) -> Callable[[], None]:
    """Serve `app` with uvicorn on 127.0.0.1:`port` in a thread; return once it accepts connections, with the
    function that stops it."""
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    ready = threading.Event()
    original_startup = server.startup

    async def _startup(sockets: list[socket.socket] | None = None) -> None:
        await original_startup(sockets)
        ready.set()

    server.startup = _startup  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    if not ready.wait(timeout=30) or not server.started:
        raise RuntimeError(f"uvicorn did not start on port {port} within 30 s")

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=15)
        if thread.is_alive():
            raise RuntimeError(f"uvicorn on port {port} did not stop within 15 s")

    return stop


@pytest.fixture
def live_server(app: FastAPI) -> Iterator[str]:
    """The app served by uvicorn on a free local port, for the browser and for device clients."""
    port = free_port()
    stop = serve_in_thread(app, port)
    yield f"http://127.0.0.1:{port}"
    stop()


# --- factories ------------------------------------------------------------------------------------------------------


@pytest.fixture
def estate(db: Session) -> Estate:
    e = registry.create_estate(db, SYSTEM, "GH", "观海台", "Guanhaitai")
    db.commit()
    return e


OWNER_CARD, TENANT_CARD, OWNER_PIN, TENANT_PIN = "CARD0001", "CARD0002", "246802", "135702"


@dataclass
class Household:
    """A unit with its owner and a tenant."""

    unit: Unit
    owner: Person
    tenant: Person
    owner_card: str = OWNER_CARD
    tenant_card: str = TENANT_CARD
    owner_pin: str = OWNER_PIN
    tenant_pin: str = TENANT_PIN


def make_household(db: Session, estate: Estate, unit_code: str = "5-8B", *, credentials: bool = True) -> Household:
    """Unit `unit_code` with an owner since 2020 and a tenant since 2024, committed. With `credentials`, each has
    a kiosk card and PIN; card numbers are unique across estates, so a second estate's household goes without."""
    unit = registry.ensure_unit(db, SYSTEM, estate, unit_code)
    owner = registry.add_person(db, SYSTEM, estate, "王建国", "13800000001")
    tenant = registry.add_person(db, SYSTEM, estate, "李租客", "13800000002")
    registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
    registry.add_occupancy(db, SYSTEM, unit, tenant, OccupancyKind.tenant, date(2024, 1, 1))
    if credentials:
        registry.set_credentials(db, SYSTEM, owner, card=OWNER_CARD, pin=OWNER_PIN)
        registry.set_credentials(db, SYSTEM, tenant, card=TENANT_CARD, pin=TENANT_PIN)
    db.commit()
    return Household(unit, owner, tenant)


@pytest.fixture
def household(db: Session, estate: Estate) -> Household:
    """Unit 5-8B of the estate: an owner and a tenant who can use the kiosk (cards and PINs as above)."""
    return make_household(db, estate)


@pytest.fixture
def make_user(db: Session, estate: Estate) -> Callable[..., StaffUser]:
    def _make(
        role: str | Role = Role.front_desk,
        username: str | None = None,
        password: str = "correct-horse-1",
        estates: list[Estate] | None = None,
    ) -> StaffUser:
        role = Role(role)
        user = staff.create_user(
            db,
            SYSTEM,
            username=username or f"{role.value}_{uuid.uuid4().hex[:6]}",
            display_name=f"测试{role.value}",
            role=role,
            password=password,
            estates=estates if estates is not None else [estate],
        )
        db.commit()
        return user

    return _make


@pytest.fixture
def make_device(db: Session, estate: Estate) -> Callable[..., tuple[Device, str]]:
    def _make(kind: str = "kiosk", name: str = "大堂自助机") -> tuple[Device, str]:
        device = devices.enrol(db, SYSTEM, estate, DeviceKind(kind), name)
        token = devices.issue_token(db, SYSTEM, device)
        db.commit()
        return device, token

    return _make


def sign_in(client: TestClient, username: str, password: str) -> Response:
    """Sign in through the real login form (CSRF cookie and field included); returns the final response."""
    page = client.get("/console/login")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, "the login page carries a CSRF field"
    return client.post("/console/login", data={"username": username, "password": password, "csrf_token": match[1]})


def keyed(headers: dict[str, str]) -> dict[str, str]:
    """A device's headers with a fresh Idempotency-Key, which every device write carries (as EstateClient sends)."""
    return headers | {"Idempotency-Key": uuid.uuid4().hex}


def csrf_of(html: str) -> str:
    """The CSRF token a console page embeds in its forms."""
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "the page carries a CSRF field"
    return match[1]


@pytest.fixture
def login() -> Callable[[TestClient, str, str], Response]:
    """`login(client, username, password)`: sign in through the console's form."""
    return sign_in


@pytest.fixture
def page_csrf() -> Callable[[str], str]:
    """`page_csrf(html)`: the CSRF token embedded in a console page."""
    return csrf_of


def display_or_skip() -> Iterator[str]:
    """A virtual X display for as long as the caller holds it; the test skips where Xvfb cannot run."""
    try:
        with virtual_display() as display:
            yield display
    except NoVirtualDisplay as exc:
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def xvfb_display() -> Iterator[str]:
    """A virtual X display for real Kivy windows, shared by a worker's tests."""
    yield from display_or_skip()


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"]
SCREENSHOTS = ROOT / "var" / "screenshots"


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, driven by Playwright; launched once per test module."""
    if not Path(CHROMIUM).exists():
        pytest.skip(
            f"Chromium is not installed at {CHROMIUM}: run `make test` (it installs it) or apt-get install chromium"
        )
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Browser, live_server: str) -> Iterator[Page]:
    """A fresh browser tab on the live server, in Chinese, the console's first language."""
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport={"width": 1280, "height": 900})
    # Waits, not assertions of speed: a page may take a while when both cores are busy with the rest of the suite.
    context.set_default_timeout(30_000)
    tab = context.new_page()
    yield tab
    context.close()


def save_screenshot(page: Page, name: str) -> Path:
    """Keep what the page shows as var/screenshots/NAME.png, for a person to look at."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=path, full_page=True)
    return path


@pytest.fixture
def screenshot() -> Callable[[Page, str], Path]:
    return save_screenshot


def wait_until(condition: Callable[[], object], timeout: float = 20.0, what: str = "condition") -> None:
    """Poll `condition` until it is true; fail the test if the deadline passes first. For things another process
    or thread does in its own time (a device uploading, a poller seeing a door), never a fixed sleep."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"{what} not reached within {timeout:g} s")
        time.sleep(0.02)


def notes_written(app: FastAPI) -> None:
    """Return once the writes the app's writer was handed without waiting for their commit (a last-seen note) are
    committed: a write queued behind them returns only then."""
    app.state.writer.run(lambda _session: None)


def pytest_collection_finish(session: pytest.Session) -> None:
    gc.collect()
    gc.freeze()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the lightest parameters in the process under test: tests make and sign in many accounts, and the
    hash's cost is not what they check. A server started as its own process hashes as configured."""
    from argon2 import PasswordHasher

    from server.domain import secrets

    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


# Where the PostgreSQL variant of a test runs in `make test`: the database layer, the domain and the device API,
# where the two databases differ. Console pages (and every test_console_* file), the Kivy apps, the cabinet agent
# and the demo sit on top of that layer and run on SQLite; ESTATE_TEST_POSTGRES_EVERYWHERE=1 (`make test-postgres`)
# runs them on both.
# Hostile input that the two databases answer differently (an id past INTEGER, an impossible day) and every input
# console fuzzing ever found stay on both.
ON_BOTH = (
    "tests/server/console/test_hostile_forms.py::",
    "tests/server/console/test_console_fuzz.py::test_no_console_server_error_on_inputs_fuzzing_found",
)
SQLITE_ONLY = ("tests/server/console/", "tests/kiosk/", "tests/gate/", "tests/cabinet/", "tests/server/test_demo.py")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if os.environ.get("ESTATE_TEST_POSTGRES_EVERYWHERE") == "1":
        return
    kept, dropped = [], []
    for item in items:
        where = Path(str(item.path)).relative_to(ROOT).as_posix()
        callspec = getattr(item, "callspec", None)
        on_postgres = callspec is not None and callspec.params.get("database_url") == "postgresql"
        page_test = where.startswith(SQLITE_ONLY) or Path(where).name.startswith("test_console")
        if item.nodeid.startswith(ON_BOTH):
            page_test = False
        (dropped if on_postgres and page_test else kept).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = kept
