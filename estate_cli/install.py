"""`estate install ROLE` and `estate uninstall ROLE`: make a Debian 12 machine a kiosk, gate, key cabinet or server
that starts at boot, restarts itself, and survives an upgrade with its outbox and settings.

Everything is written under `--root` (default `/`): a technician installs the machine itself; a test, an image
builder or a reviewer installs into a folder and reads (or `systemd-analyze verify`s) the result. Only on `/` are
the system's tools run (apt-get, pip, systemd-sysusers, udevadm, systemctl); elsewhere each is printed as skipped.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

import typer

from estate_cli import units

MANIFEST = "installed-{role}.json"
_USB_ID = re.compile(r"^[0-9a-fA-F]{4}:[0-9a-fA-F]{4}$")


@dataclass
class Installation:
    """What installing a role writes under `root`, and what it runs on a live system."""

    role: str
    root: Path
    venv: str = units.VENV
    hardware: units.Hardware = field(default_factory=units.Hardware)
    settings: dict[str, str] = field(default_factory=dict)  # the first config file's settings
    source: str = ""  # what pip installs: a checkout, a wheel (empty: this checkout, else the package index)

    @property
    def live(self) -> bool:
        return self.root.resolve() == Path("/")

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    def files(self) -> dict[str, str]:
        """Every file the role owns (the config file aside: it is written once and kept)."""
        role = self.role
        written = {
            f"/etc/systemd/system/{units.service_name(role)}": units.unit(role, self.venv),
            f"/etc/sysusers.d/estate-desk-{role}.conf": units.sysusers(role),
            f"/etc/tmpfiles.d/estate-desk-{role}.conf": units.tmpfiles(role),
        }
        if role != "server":
            written[f"/etc/udev/rules.d/70-estate-desk-{role}.rules"] = units.udev_rules(self.hardware)
        if role in units.SCREEN_ROLES:
            written[f"/etc/systemd/system/{units.x_service_name()}"] = units.x_unit()
            written["/etc/X11/xorg.conf.d/90-estate-desk.conf"] = units.xorg_conf()
        return written

    def wants(self) -> list[str]:
        """The enabling links (what `systemctl enable` makes)."""
        names = [units.service_name(self.role)]
        if self.role in units.SCREEN_ROLES:
            names.append(units.x_service_name())
        return [f"/etc/systemd/system/multi-user.target.wants/{name}" for name in names]

    def config_text(self) -> str:
        lines = [f"# estate-desk {self.role}: read by {units.service_name(self.role)}; kept on upgrade"]
        lines += [f"{key} = {json.dumps(value, ensure_ascii=False)}" for key, value in self.settings.items() if value]
        return "\n".join(lines) + "\n"


def _run(live: bool, command: list[str]) -> None:
    shown = shlex.join(command)
    if not live:
        typer.echo(f"skipped (not installing on /): {shown}", err=True)
        return
    typer.echo(f"running: {shown}", err=True)
    subprocess.run(command, check=True)


def _source() -> str:
    """What pip installs: this checkout when the command runs from one, else the published distribution."""
    checkout = Path(__file__).resolve().parent.parent
    return str(checkout) if (checkout / "pyproject.toml").is_file() else "estate-desk"


def _manifest(plan: Installation) -> Path:
    return plan.at(f"{units.CONFIG_DIR}/{MANIFEST.format(role=plan.role)}")


def _others_need(plan: Installation, path: str) -> bool:
    """Whether another installed role owns the same file (the screen's X server of a kiosk and a gate)."""
    for other in units.ROLES:
        manifest = plan.at(f"{units.CONFIG_DIR}/{MANIFEST.format(role=other)}")
        if other != plan.role and manifest.is_file() and path in json.loads(manifest.read_text())["files"]:
            return True
    return False


def install(plan: Installation, *, upgrade: bool, start: bool = True) -> None:
    if plan.live and os.geteuid() != 0:
        raise ValueError("installing on this machine needs root: sudo estate install …")
    unit_file = plan.at(f"/etc/systemd/system/{units.service_name(plan.role)}")
    if unit_file.exists() and not upgrade:
        raise ValueError(f"{plan.role} is already installed here ({unit_file}); to update it: --upgrade")
    if upgrade and not unit_file.exists():
        raise ValueError(f"{plan.role} is not installed here ({unit_file} missing): install it first")
    live = plan.live
    if not upgrade:
        _run(live, ["apt-get", "install", "-y", "--no-install-recommends", *units.DEBIAN[plan.role]])
    if not Path(plan.venv, "bin", "python").exists():
        _run(live, ["python3", "-m", "venv", plan.venv])
    _run(live, [f"{plan.venv}/bin/pip", "install", "-U", f"{plan.source or _source()}[{units.EXTRA[plan.role]}]"])

    files = plan.files()
    for path, text in files.items():
        target = plan.at(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        target.chmod(0o644)
    for link in plan.wants():
        target = plan.at(link)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.unlink(missing_ok=True)
        target.symlink_to(f"/etc/systemd/system/{Path(link).name}")
    data = plan.at(units.data_path(plan.role))
    data.mkdir(parents=True, exist_ok=True)
    data.chmod(0o700)
    config = plan.at(units.config_path(plan.role))
    if not config.exists():  # an upgrade keeps the technician's settings and the device token
        config.parent.mkdir(parents=True, exist_ok=True)
        config.write_text(plan.config_text(), encoding="utf-8")
    config.chmod(0o640)  # the device token: root and the service user only (tmpfiles sets the group)
    _manifest(plan).write_text(json.dumps({"role": plan.role, "files": sorted(files)}, indent=1), encoding="utf-8")

    _run(live, ["systemd-sysusers"])
    _run(live, ["systemd-tmpfiles", "--create"])
    if plan.role != "server":
        _run(live, ["udevadm", "control", "--reload"])
        _run(live, ["udevadm", "trigger"])
    _run(live, ["systemctl", "daemon-reload"])
    if start:
        _run(live, ["systemctl", "restart" if upgrade else "start", units.service_name(plan.role)])


def uninstall(plan: Installation, *, purge: bool) -> None:
    if plan.live and os.geteuid() != 0:
        raise ValueError("uninstalling from this machine needs root: sudo estate uninstall …")
    manifest = _manifest(plan)
    if not manifest.is_file():
        raise ValueError(f"{plan.role} is not installed here ({manifest} missing)")
    _run(plan.live, ["systemctl", "disable", "--now", units.service_name(plan.role)])
    owned = json.loads(manifest.read_text())["files"]
    for path in owned:
        if not _others_need(plan, path):
            plan.at(path).unlink(missing_ok=True)
    for link in plan.wants():
        if not _others_need(plan, f"/etc/systemd/system/{Path(link).name}"):
            plan.at(link).unlink(missing_ok=True)
    manifest.unlink()
    if purge:  # the outbox and the settings too: what was not yet uploaded is lost
        plan.at(units.config_path(plan.role)).unlink(missing_ok=True)
        shutil.rmtree(plan.at(units.data_path(plan.role)), ignore_errors=True)
    _run(plan.live, ["systemctl", "daemon-reload"])
    if plan.role != "server":
        _run(plan.live, ["udevadm", "control", "--reload"])


def _role(role: str) -> str:
    if role not in units.ROLES:
        raise typer.BadParameter(f"the role is one of {', '.join(units.ROLES)}, not {role!r}")
    return role


def _usb(value: str | None, what: str) -> str:
    if value and not _USB_ID.match(value):
        raise typer.BadParameter(f"{what} is VID:PID in hex as lsusb shows it, e.g. 04b8:0202, not {value!r}")
    return value or ""


RootOption = Annotated[Path, typer.Option("--root", help="install under this folder instead of / (images, tests)")]


def install_command(
    role: Annotated[str, typer.Argument(help="kiosk, gate, cabinet or server")],
    root: RootOption = Path("/"),
    upgrade: Annotated[
        bool, typer.Option("--upgrade", help="update an installed role; keeps config and outbox")
    ] = False,
    venv: Annotated[str, typer.Option("--venv", help="the program's virtual environment")] = units.VENV,
    server: Annotated[str | None, typer.Option("--server", help="the server's address, for the config file")] = None,
    device_token: Annotated[
        str | None, typer.Option("--device-token", envvar="ESTATE_DEVICE_TOKEN", help="the device token (console)")
    ] = None,
    printer: Annotated[str | None, typer.Option("--printer", help="kiosk: printer URL")] = None,
    camera: Annotated[str | None, typer.Option("--camera", help="gate: camera URL")] = None,
    cabinet: Annotated[str | None, typer.Option("--cabinet", help="cabinet: lock-board bus URL")] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="cabinet: xor485 or kerong-cu16")] = None,
    printer_usb: Annotated[str | None, typer.Option("--printer-usb", help="VID:PID → /dev/estate-printer")] = None,
    cabinet_usb: Annotated[str | None, typer.Option("--cabinet-usb", help="VID:PID → /dev/estate-cabinet")] = None,
    camera_usb: Annotated[str | None, typer.Option("--camera-usb", help="VID:PID → /dev/estate-camera")] = None,
    start: Annotated[bool, typer.Option("--start/--no-start", help="start (or restart) the service")] = True,
    source: Annotated[
        str | None, typer.Option("--source", help="a checkout or wheel to install (default: this checkout)")
    ] = None,
) -> None:
    """Install a role as a service that starts at boot: systemd units (restarted always, watchdog), the `estate`
    user in the dialout/video/lp groups, udev names for the printer, lock-board adapter and camera, a full-screen
    X server with no desktop for the kiosk and gate. `--upgrade` updates the software and units, keeping the
    config file and the outbox."""
    role = _role(role)
    settings = {
        "server": server or "",
        "device_token": device_token or "",
        "printer": printer or "",
        "camera": camera or "",
        "cabinet": cabinet or "",
        "protocol": protocol or "",
    }
    hardware = units.Hardware(
        _usb(printer_usb, "--printer-usb"), _usb(cabinet_usb, "--cabinet-usb"), _usb(camera_usb, "--camera-usb")
    )
    plan = Installation(role, root, venv, hardware, settings, source or "")
    try:
        install(plan, upgrade=upgrade, start=start)
    except (ValueError, OSError, subprocess.CalledProcessError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"{'upgraded' if upgrade else 'installed'} {role}: {units.service_name(role)} under {root}", err=True)


def uninstall_command(
    role: Annotated[str, typer.Argument(help="kiosk, gate, cabinet or server")],
    root: RootOption = Path("/"),
    purge: Annotated[bool, typer.Option("--purge", help="also delete the config file and the data (outbox)")] = False,
) -> None:
    """Undo `estate install ROLE`: stop and disable the service, remove its units, udev rules and user
    declaration. The config file and the data folder stay unless --purge."""
    plan = Installation(_role(role), root)
    try:
        uninstall(plan, purge=purge)
    except (ValueError, OSError, subprocess.CalledProcessError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    typer.echo(f"uninstalled {role} under {root}", err=True)
