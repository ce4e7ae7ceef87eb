"""`estate doctor`: what a technician runs on a kiosk, gate or cabinet machine to see, one line each, whether
everything the program needs works — the server link and the device token, the clock against the server's, the
version the server expects, the printer, the camera, the lock boards, the tag reader, disk space, the outbox and the
font. Exits non-zero when something fails; `--json` gives the same as one JSON document (for the console).
"""

from __future__ import annotations

import json
import shutil
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from server.contract.client import ApiError, EstateClient
from server.contract.device import DeviceInfo, Health

MAX_SKEW_S = 30.0  # the gate's offline times are checked against the server's clock
MIN_FREE_MB = 200
OUTBOX_WARN = 100  # waiting entries: the link has been down a long time


@dataclass(frozen=True)
class Check:
    name: str
    status: str  # ok | warn | fail
    detail: str

    def line(self) -> str:
        return f"{self.status.upper():<4} {self.name:<9} {self.detail}"


@dataclass
class Target:
    """What is checked: the role and the settings its program would run with."""

    role: str
    server: str = ""
    device_token: str = ""
    printer: str = ""
    camera: str = ""
    cabinet: str = ""
    protocol: str = ""
    boards: tuple[int, ...] = ()
    tag_reader: str = ""
    data_dir: Path | None = None
    font: str | None = None


def _ok(name: str, detail: str) -> Check:
    return Check(name, "ok", detail)


def _fail(name: str, detail: str) -> Check:
    return Check(name, "fail", detail)


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split()) or type(exc).__name__


def check_server(target: Target) -> list[Check]:
    """The link, the token, the clock and the version, from the server's health and the device's own record."""
    try:
        response = httpx.get(f"{target.server.rstrip('/')}/api/v1/health", timeout=3.0)
        response.raise_for_status()
        health = Health.model_validate_json(response.content)
    except (httpx.HTTPError, ValueError) as exc:
        reason = "connection refused" if isinstance(exc, httpx.ConnectError) else _one_line(exc)
        return [
            _fail("server", f"cannot reach {target.server}: {reason} (服务器无法连接)"),
            _fail("token", "not checked: no server"),
        ]
    checks = [_ok("server", f"{target.server} answers (schema {health.schema_revision})")]
    skew = (health.time - datetime.now(UTC)).total_seconds()
    clock = f"{abs(skew):.1f} s {'behind' if skew > 0 else 'ahead of'} the server"
    if abs(skew) > MAX_SKEW_S:
        checks.append(_fail("clock", f"{clock}: set the time (timedatectl set-ntp true) (时钟偏差过大)"))
    else:
        checks.append(_ok("clock", clock))
    try:
        with EstateClient(target.server, target.device_token, timeout=3.0) as client:
            device: DeviceInfo = client.device()
    except ApiError as exc:
        if exc.token_refused:
            return [
                *checks,
                _fail("token", "refused by the server (401): issue a new token in the console's 设备 Devices page"),
            ]
        return [*checks, _fail("token", f"the server answered {exc.status}: {exc.message}")]
    except httpx.HTTPError as exc:
        return [*checks, _fail("token", f"not checked: {_one_line(exc)}")]
    checks.append(_ok("token", f"accepted: {device.kind} {device.name} of {device.estate_name}"))
    running = _version()
    if device.expected_version and running != device.expected_version:
        checks.append(
            Check(
                "version",
                "warn",
                f"{running} runs, the server expects {device.expected_version}: estate install {target.role} --upgrade",
            )
        )
    else:
        checks.append(_ok("version", running))
    return checks


def _version() -> str:
    try:
        return version("estate-desk")
    except PackageNotFoundError:
        return "unknown"


def check_printer(target: Target) -> Check:
    from devices.printing import PrintingError, open_printer
    from devices.printing.status import query_status

    try:
        printer = open_printer(target.printer, timeout=1.0)
    except PrintingError as exc:
        return _fail("printer", _one_line(exc))
    try:
        status = query_status(printer, timeout=1.0)
    finally:
        printer.close()
    if status.online is None:
        return _fail("printer", f"{target.printer}: no answer to a status query ({status.detail or 'silent'})")
    state = f"paper {status.paper.value}, cover {status.cover.value}"
    if status.paper.value == "out":
        return _fail("printer", f"{target.printer}: paper out: load a new roll (缺纸)")
    if status.cover.value == "open":
        return _fail("printer", f"{target.printer}: cover open: close it (纸仓盖未关)")
    if not status.ready:
        return _fail("printer", f"{target.printer}: offline ({state}) (打印机离线)")
    return Check("printer", "warn" if status.paper.value == "near_end" else "ok", f"{target.printer}: {state}")


def check_camera(target: Target) -> Check:
    from devices.camera import CameraUrlError, SourceEnded, SourceError, source_factory
    from devices.qr.pipeline import ScanPipeline

    try:
        source = source_factory(target.camera)()
        source.open()
    except (CameraUrlError, SourceError) as exc:
        return _fail("camera", _one_line(exc))
    frames: list[Any] = []
    started = time.monotonic()
    try:
        while len(frames) < 3:
            frames.append(source.read())
    except SourceError as exc:
        if not frames or not isinstance(exc, SourceEnded):  # a file or folder may end; a camera must not
            return _fail("camera", f"{target.camera}: opens but gives no frames ({_one_line(exc)})")
    finally:
        source.close()
    fps = (len(frames) - 1) / max(1e-6, time.monotonic() - started)
    height, width = frames[-1].shape[:2]
    scan = ScanPipeline.for_decoder().scan(frames[-1])
    codes = len(scan.codes)
    return _ok(
        "camera",
        f"{target.camera}: {width}x{height}, {fps:.0f} frames/s, one decode {scan.ms:.0f} ms ({codes} code(s) seen)",
    )


def check_boards(target: Target) -> list[Check]:
    from devices.cabinet import Cabinet
    from devices.cabinet.errors import CabinetError

    try:
        cabinet = Cabinet(target.cabinet, target.protocol, list(target.boards), status_retries=1, reply_timeout=0.3)
    except (CabinetError, ValueError) as exc:
        return [_fail("boards", _one_line(exc))]
    checks = []
    try:
        for board in target.boards:
            try:
                status = cabinet.query_board(board)
            except CabinetError as exc:
                checks.append(_fail(f"board {board}", f"{target.cabinet}: silent ({_one_line(exc)})"))
                continue
            checks.append(_ok(f"board {board}", f"{target.protocol}, {len(status.doors_open)} slots answer"))
    finally:
        cabinet.close()
    return checks


def check_tag_reader(target: Target) -> Check:
    if target.tag_reader == "keyboard":
        return _ok("tags", "keyboard wedge (read as typed)")
    import serial

    from devices.cabinet.url import parse_cabinet_url

    try:
        port = serial.serial_for_url(parse_cabinet_url(target.tag_reader).port_url, timeout=0.1)
        port.close()
    except (serial.SerialException, OSError, ValueError) as exc:
        return _fail("tags", f"{target.tag_reader}: {_one_line(exc)}")
    return _ok("tags", f"{target.tag_reader} opens")


def check_disk(target: Target) -> Check:
    where = target.data_dir if target.data_dir and target.data_dir.exists() else Path.cwd()
    free_mb = shutil.disk_usage(where).free / 1e6
    detail = f"{free_mb:.0f} MB free at {where}"
    return _ok("disk", detail) if free_mb >= MIN_FREE_MB else _fail("disk", f"{detail} (need {MIN_FREE_MB} MB)")


def check_outbox(target: Target) -> Check:
    path = (target.data_dir or Path(".")) / "outbox.db"
    if not path.exists():
        return _ok("outbox", f"empty ({path} not made yet)")
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
            waiting = db.execute("SELECT count(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0]
    except sqlite3.Error as exc:
        return _fail("outbox", f"{path}: {exc}")
    if waiting > OUTBOX_WARN:
        return Check("outbox", "warn", f"{waiting} waiting to upload: check the server link")
    return _ok("outbox", f"{waiting} waiting to upload")


def check_font(target: Target) -> Check:
    from devices.printing import PrintingError
    from devices.printing.fonts import find_cjk_font

    try:
        return _ok("font", str(find_cjk_font(target.font)))
    except PrintingError as exc:
        return _fail("font", _one_line(exc))


def run_checks(target: Target) -> list[Check]:
    checks = check_server(target)
    steps: list[Callable[[Target], Check | list[Check]]] = []
    if target.role == "kiosk":
        steps += [check_printer, check_font]
    if target.role == "gate":
        steps += [check_camera, check_outbox, check_font]
    if target.role == "cabinet":
        steps += [check_boards, check_outbox]
        if target.tag_reader:
            steps.append(check_tag_reader)
    steps.append(check_disk)
    for step in steps:
        result = step(target)
        checks += result if isinstance(result, list) else [result]
    return checks


def _target(role: str, config: Path | None, options: dict[str, Any]) -> Target:
    """The settings the role's own program would load (its config file, environment and these options)."""
    given = {k: v for k, v in options.items() if v is not None}
    if role == "kiosk":
        from kiosk.config import KioskConfig

        k = KioskConfig.load(config, **given)
        return Target("kiosk", k.server, k.device_token, printer=k.printer, font=k.font)
    if role == "gate":
        from gate.runtime import GateConfig

        g = GateConfig.load(config, **given)
        return Target("gate", g.server, g.device_token, camera=g.camera, data_dir=g.data_dir, font=g.font)
    from cabinet.config import CabinetConfig

    c = CabinetConfig.load(config, **given)
    boards = tuple(sorted(c.profiles())) if c.protocol else ()
    return Target(
        "cabinet",
        c.server,
        c.device_token,
        cabinet=c.cabinet,
        protocol=c.protocol,
        boards=boards,
        tag_reader=c.tag_reader or "",
        data_dir=c.data_dir,
    )


def doctor(
    role: Annotated[str, typer.Argument(help="kiosk, gate or cabinet")],
    config: Annotated[Path | None, typer.Option("--config", help="the role's TOML settings file")] = None,
    server: Annotated[str | None, typer.Option("--server")] = None,
    device_token: Annotated[str | None, typer.Option("--device-token", envvar="ESTATE_DEVICE_TOKEN")] = None,
    printer: Annotated[str | None, typer.Option("--printer", help="kiosk: printer URL")] = None,
    camera: Annotated[str | None, typer.Option("--camera", help="gate: camera URL")] = None,
    cabinet: Annotated[str | None, typer.Option("--cabinet", help="cabinet: lock-board bus URL")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol")] = None,
    boards: Annotated[str | None, typer.Option("--boards", help="cabinet: board addresses, e.g. 1,2")] = None,
    data_dir: Annotated[Path | None, typer.Option("--data-dir")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="one JSON document instead of lines")] = False,
) -> None:
    """Check this machine's device: server link and token, clock, version, printer or camera or lock boards, tag
    reader, disk, outbox, font. One line each; exits 1 when something fails."""
    if role not in ("kiosk", "gate", "cabinet"):
        raise typer.BadParameter(f"the role is kiosk, gate or cabinet, not {role!r}")
    options: dict[str, Any] = {"server": server, "device_token": device_token}
    if role == "kiosk":
        options["printer"] = printer
    elif role == "gate":
        options |= {"camera": camera, "data_dir": data_dir}
    else:
        options |= {"cabinet": cabinet, "protocol": protocol, "boards": boards, "data_dir": data_dir}
    try:
        target = _target(role, config, options)
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {_one_line(exc)}", err=True)
        raise typer.Exit(2) from None
    checks = run_checks(target)
    failed = any(c.status == "fail" for c in checks)
    if as_json:
        typer.echo(
            json.dumps({"role": role, "ok": not failed, "checks": [asdict(c) for c in checks]}, ensure_ascii=False)
        )
    else:
        for check in checks:
            typer.echo(check.line())
    if failed:
        raise typer.Exit(1)
