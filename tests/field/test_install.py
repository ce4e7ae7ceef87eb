"""`estate install` into a temporary root: the units pass `systemd-analyze verify`, an upgrade keeps the config
file and the outbox, `uninstall` removes what was installed."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from estate_cli import units
from estate_cli.main import app

ANALYZE = shutil.which("systemd-analyze")
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
VENV = str(Path(sys.executable).parent.parent)


def _install(root: Path, *args: str) -> str:
    result = CliRunner().invoke(app, ["install", *args, "--root", str(root), "--venv", VENV])
    assert result.exit_code == 0, result.output
    return result.output


def _executables(unit: str) -> list[str]:
    return [line.split("=", 1)[1].split()[0] for line in unit.splitlines() if line.startswith("ExecStart=")]


@pytest.mark.skipif(ANALYZE is None or not SYSTEM_UNITS.is_dir(), reason="systemd-analyze (Debian: systemd) missing")
def test_units_of_every_role_pass_systemd_analyze_verify(tmp_path: Path) -> None:
    root = tmp_path / "root"
    # The machine's own units (targets, udev) under the root, as on a Debian 12 system.
    shutil.copytree(SYSTEM_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    for role in ("kiosk", "gate", "cabinet", "server"):
        _install(root, role, "--server", "http://10.0.0.2:8000", "--printer-usb", "04b8:0202")
    names = [units.service_name(role) for role in units.ROLES] + [units.x_service_name()]
    for name in names:
        for program in _executables((root / "etc/systemd/system" / name).read_text()):
            target = root / program.lstrip("/")
            if not target.exists():  # the X server is not installed on a test machine: its place is
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text("#!/bin/sh\n")
                target.chmod(0o755)
    verify = subprocess.run(
        [str(ANALYZE), "verify", f"--root={root}", *names], capture_output=True, text=True, timeout=60
    )
    ours = [line for line in verify.stderr.splitlines() if "estate" in line]
    assert verify.returncode == 0 and not ours, verify.stderr

    kiosk = (root / "etc/systemd/system/estate-kiosk.service").read_text()
    for setting in ("Restart=always", "WatchdogSec=30", "Type=notify", "User=estate", "Requires=estate-x.service"):
        assert setting in kiosk
    assert "-nocursor -s 0 -dpms" in (root / "etc/systemd/system/estate-x.service").read_text()
    assert '"DontVTSwitch" "true"' in (root / "etc/X11/xorg.conf.d/90-estate-desk.conf").read_text()
    sysusers = (root / "etc/sysusers.d/estate-desk-cabinet.conf").read_text()
    assert {"m estate dialout", "m estate video", "m estate lp"} <= set(sysusers.splitlines())
    rules = (root / "etc/udev/rules.d/70-estate-desk-kiosk.rules").read_text()
    assert 'ATTR{idVendor}=="04b8"' in rules and 'SYMLINK+="estate-printer"' in rules


def test_upgrade_keeps_config_and_outbox_and_uninstall_removes_the_units(tmp_path: Path) -> None:
    root = tmp_path / "root"
    _install(root, "gate", "--server", "http://10.0.0.2:8000", "--device-token", "edt_secret")
    config = root / "etc/estate-desk/gate.toml"
    assert config.stat().st_mode & 0o777 == 0o640  # the token: root and the service user only
    assert (root / "var/lib/estate-desk/gate").stat().st_mode & 0o777 == 0o700
    config.write_text(config.read_text() + 'gate_name = "东门"\n')
    outbox = root / "var/lib/estate-desk/gate/outbox.db"
    outbox.write_bytes(b"queued decisions")

    again = CliRunner().invoke(app, ["install", "gate", "--root", str(root), "--venv", VENV])
    assert again.exit_code == 1 and "already installed" in again.output and "--upgrade" in again.output

    output = _install(root, "gate", "--upgrade")
    assert "pip install -U" in output
    assert 'gate_name = "东门"' in config.read_text() and "edt_secret" in config.read_text()
    assert outbox.read_bytes() == b"queued decisions"

    result = CliRunner().invoke(app, ["uninstall", "gate", "--root", str(root)])
    assert result.exit_code == 0, result.output
    system = root / "etc/systemd/system"
    assert not (system / "estate-gate.service").exists() and not (system / "estate-x.service").exists()
    assert not (system / "multi-user.target.wants/estate-gate.service").exists()
    assert config.exists() and outbox.exists()  # kept unless --purge


def test_install_refuses_a_bad_role_and_a_bad_usb_id(tmp_path: Path) -> None:
    runner = CliRunner()
    bad_role = runner.invoke(app, ["install", "printer", "--root", str(tmp_path)])
    assert bad_role.exit_code == 2 and "kiosk, gate, cabinet, server" in bad_role.output
    bad_id = runner.invoke(app, ["install", "kiosk", "--root", str(tmp_path), "--printer-usb", "Epson"])
    assert bad_id.exit_code == 2 and "VID:PID" in bad_id.output
    assert not (tmp_path / "etc").exists()
    missing = runner.invoke(app, ["uninstall", "cabinet", "--root", str(tmp_path)])
    assert missing.exit_code == 1 and "not installed" in missing.output
