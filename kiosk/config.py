"""The kiosk's settings: command-line options over `ESTATE_KIOSK_*` over a TOML file (its `[kiosk]` table or its
top level) over the defaults (`terminal.settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic_settings import SettingsConfigDict

from devices.printing.profiles import DEFAULT_PROFILE
from terminal.settings import ProgramSettings


class KioskConfig(ProgramSettings):
    model_config = SettingsConfigDict(env_prefix="ESTATE_KIOSK_", frozen=True)
    table = "kiosk"

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
    """The kiosk's settings, checked: `path` (if given) and every override that is not None on top."""
    return KioskConfig.load(path, **overrides).check()
