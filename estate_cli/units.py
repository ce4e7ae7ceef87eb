"""The files `estate install` puts on a field machine, as text: systemd units, the service user, the data folders,
udev rules for stable device names, and the X server's settings of a kiosk or gate screen.

A kiosk or gate runs full-screen on a bare X server (no desktop, no window manager, no cursor, no screen blanking,
no switching to a text console), the program itself as the only client; systemd restarts it when it exits or its
watchdog stops hearing from it.
"""

from __future__ import annotations

from dataclasses import dataclass

USER = "estate"
GROUPS = ("dialout", "video", "lp")  # serial lines, cameras, printers
VENV = "/opt/estate-desk/venv"
CONFIG_DIR = "/etc/estate-desk"
DATA_DIR = "/var/lib/estate-desk"
DISPLAY = ":0"
ROLES = ("kiosk", "gate", "cabinet", "server")
SCREEN_ROLES = ("kiosk", "gate")
WATCHDOG_SEC = 30
# Debian 12 packages each role needs at run time.
DEBIAN = {
    "kiosk": (
        "xserver-xorg-core",
        "xserver-xorg-input-libinput",
        "fonts-wqy-microhei",
        "libusb-1.0-0",
        "libmtdev1",
        "libsdl2-2.0-0",
        "libgl1",
        "python3-venv",
    ),
    "gate": (
        "xserver-xorg-core",
        "xserver-xorg-input-libinput",
        "fonts-wqy-microhei",
        "libzbar0",
        "libmtdev1",
        "libsdl2-2.0-0",
        "libgl1",
        "python3-venv",
    ),
    "cabinet": ("python3-venv",),
    "server": ("python3-venv", "fonts-wqy-microhei"),
}
EXTRA = {"kiosk": "kiosk", "gate": "gate", "cabinet": "kiosk", "server": "server"}


@dataclass(frozen=True)
class Hardware:
    """What identifies this machine's devices on USB, for udev's stable names (empty: no rule)."""

    printer_usb: str = ""  # VID:PID of the slip printer, e.g. 04b8:0202
    cabinet_usb: str = ""  # VID:PID of the USB–RS485 adapter of the lock boards, e.g. 1a86:7523
    camera_usb: str = ""  # VID:PID of the gate's camera


def service_name(role: str) -> str:
    return f"estate-{role}.service"


def x_service_name() -> str:
    return "estate-x.service"


def config_path(role: str) -> str:
    return f"{CONFIG_DIR}/{role}.toml"


def data_path(role: str) -> str:
    return f"{DATA_DIR}/{role}"


def unit(role: str, venv: str = VENV) -> str:
    """The role's service: restarted always, watched by systemd's watchdog (not the server: it answers HTTP)."""
    config = config_path(role)
    command = {
        "kiosk": f"{venv}/bin/estate kiosk --config {config} --fullscreen",
        "gate": f"{venv}/bin/estate gate --config {config} --fullscreen --data-dir {data_path(role)}",
        "cabinet": f"{venv}/bin/estate cabinet --config {config} --data-dir {data_path(role)}",
        "server": f"{venv}/bin/estate serve",
    }[role]
    screen = role in SCREEN_ROLES
    lines: list[str | None] = [
        "[Unit]",
        f"Description=estate-desk {role}",
        "Wants=network-online.target",
        "After=network-online.target systemd-udevd.service",
    ]
    if screen:
        lines += [f"Requires={x_service_name()}", f"After={x_service_name()}", f"PartOf={x_service_name()}"]
    lines += [
        "StartLimitIntervalSec=0",
        "",
        "[Service]",
        "Type=notify" if role != "server" else "Type=exec",
        f"ExecStart={command}",
        f"User={USER}",
        f"Group={USER}",
        f"SupplementaryGroups={' '.join(GROUPS)}" if role != "server" else None,
        f"WorkingDirectory={data_path(role)}",
        "Restart=always",
        "RestartSec=3",
        "UMask=0077",  # the outbox, the gate's roster and the logs: the service user's alone
        "NoNewPrivileges=yes",
        "ProtectSystem=full",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        f"ReadWritePaths={data_path(role)}",
        "SyslogLevelPrefix=yes",
        "Environment=PYTHONUNBUFFERED=1",
        "Environment=ESCPOS_CAPABILITIES_PICKLE_DIR=" + data_path(role),
    ]
    if role != "server":
        lines += [f"WatchdogSec={WATCHDOG_SEC}", "NotifyAccess=main", "TimeoutStartSec=90"]
    if screen:
        lines += [
            f"Environment=DISPLAY={DISPLAY}",
            "Environment=KIVY_NO_ARGS=1",
            "Environment=KIVY_WINDOW=sdl2",
            f"Environment=KIVY_HOME={data_path(role)}/kivy",
        ]
    if role == "server":
        lines += [f"Environment=ESTATE_DATA_DIR={data_path(role)}", f"Environment=ESTATE_CONFIG={config}"]
    lines += ["", "[Install]", "WantedBy=multi-user.target", ""]
    return "\n".join(line for line in lines if line is not None)


def x_unit() -> str:
    """A bare X server for the kiosk or gate: no cursor (-nocursor), no screen saver (-s 0), no power saving
    (-dpms), nothing listening on the network, on its own virtual terminal with no login prompt beside it."""
    return "\n".join(
        [
            "[Unit]",
            "Description=estate-desk screen (X server, no desktop)",
            "After=systemd-user-sessions.service getty@tty7.service plymouth-quit.service",
            "Conflicts=getty@tty7.service",
            "",
            "[Service]",
            "Type=simple",
            f"ExecStart=/usr/lib/xorg/Xorg {DISPLAY} vt7 -nolisten tcp -nocursor -s 0 -dpms -novtswitch -keeptty",
            "Restart=always",
            "RestartSec=2",
            "",
            "[Install]",
            "WantedBy=multi-user.target",
            "",
        ]
    )


def xorg_conf() -> str:
    """No blanking, no Ctrl-Alt-Backspace, no Ctrl-Alt-Fn: the card reader's keystrokes never reach a console."""
    return "\n".join(
        [
            'Section "ServerFlags"',
            '    Option "BlankTime" "0"',
            '    Option "StandbyTime" "0"',
            '    Option "SuspendTime" "0"',
            '    Option "OffTime" "0"',
            '    Option "DontVTSwitch" "true"',
            '    Option "DontZap" "true"',
            "EndSection",
            "",
        ]
    )


def sysusers(role: str) -> str:
    """The service user (systemd-sysusers makes it), in the groups of serial lines, cameras and printers."""
    lines = [f'u {USER} - "estate-desk {role}" {DATA_DIR} /usr/sbin/nologin']
    if role != "server":
        lines += [f"m {USER} {group}" for group in GROUPS]
    return "\n".join(lines) + "\n"


def tmpfiles(role: str) -> str:
    """The data folder (outbox, caches, the gate's roster) and the config folder: the service user's only."""
    return "\n".join(
        [
            f"d {DATA_DIR} 0750 {USER} {USER} -",
            f"d {data_path(role)} 0700 {USER} {USER} -",
            f"d {CONFIG_DIR} 0750 root {USER} -",
            f"z {config_path(role)} 0640 root {USER} -",
            "",
        ]
    )


def _usb(ids: str) -> tuple[str, str]:
    vendor, _, product = ids.lower().partition(":")
    return vendor, product


def udev_rules(hardware: Hardware) -> str:
    """Stable names: /dev/estate-printer, /dev/estate-cabinet, /dev/estate-camera (beside udev's own
    /dev/serial/by-id/…), each reachable by the service user's groups."""
    rules = ["# estate-desk: stable names for this machine's devices"]
    if hardware.printer_usb:
        vendor, product = _usb(hardware.printer_usb)
        rules += [
            f'SUBSYSTEM=="usb", ENV{{DEVTYPE}}=="usb_device", ATTR{{idVendor}}=="{vendor}", '
            f'ATTR{{idProduct}}=="{product}", GROUP="lp", MODE="0660", SYMLINK+="estate-printer"',
            f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{vendor}", ATTRS{{idProduct}}=="{product}", GROUP="dialout", '
            'MODE="0660", SYMLINK+="estate-printer-tty"',
        ]
    if hardware.cabinet_usb:
        vendor, product = _usb(hardware.cabinet_usb)
        rules.append(
            f'SUBSYSTEM=="tty", ATTRS{{idVendor}}=="{vendor}", ATTRS{{idProduct}}=="{product}", GROUP="dialout", '
            'MODE="0660", SYMLINK+="estate-cabinet"'
        )
    if hardware.camera_usb:
        vendor, product = _usb(hardware.camera_usb)
        rules.append(
            f'SUBSYSTEM=="video4linux", ATTRS{{idVendor}}=="{vendor}", ATTRS{{idProduct}}=="{product}", '
            'ATTR{index}=="0", GROUP="video", MODE="0660", SYMLINK+="estate-camera"'
        )
    return "\n".join(rules) + "\n"
