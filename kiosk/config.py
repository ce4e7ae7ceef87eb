"""The kiosk's settings: a TOML file (`[kiosk]` table or top level) overridden by command-line options."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any

from devices.printing.profiles import DEFAULT_PROFILE


@dataclass(frozen=True)
class KioskConfig:
    server: str = "http://127.0.0.1:8000"
    printer: str = "tcp://127.0.0.1:9100"
    device_token: str = ""
    orientation: str = "portrait"
    windowed: bool = False
    language: str = "zh"
    idle_seconds: float = 60.0
    printer_profile: str = DEFAULT_PROFILE
    font: str | None = None

    def check(self) -> KioskConfig:
        if not self.device_token:
            raise ValueError("a device token is needed: --device-token or device_token in the config file")
        if self.orientation not in ("portrait", "landscape"):
            raise ValueError(f"orientation must be portrait or landscape, not {self.orientation!r}")
        if self.language not in ("zh", "en"):
            raise ValueError(f"language must be zh or en, not {self.language!r}")
        if self.idle_seconds < 5:
            raise ValueError("idle_seconds must be at least 5")
        return self


def load(path: Path | None, **overrides: Any) -> KioskConfig:
    """Settings from `path` (if given), then every override that is not None."""
    values: dict[str, Any] = {}
    if path is not None:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        table = data.get("kiosk", data)
        known = {f.name for f in fields(KioskConfig)}
        unknown = set(table) - known
        if unknown:
            raise ValueError(f"unknown kiosk settings in {path}: {', '.join(sorted(unknown))}")
        values.update(table)
    values.update({k: v for k, v in overrides.items() if v is not None})
    return replace(KioskConfig(), **values).check()
