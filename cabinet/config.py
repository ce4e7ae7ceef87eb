"""The cabinet agent's settings: command-line options over `ESTATE_CABINET_*` over a TOML file (its `[cabinet]`
table or its top level) over the defaults (`terminal.settings`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from terminal.settings import ProgramSettings


class CabinetConfig(ProgramSettings):
    model_config = SettingsConfigDict(env_prefix="ESTATE_CABINET_", frozen=True)
    table = "cabinet"

    cabinet: str = ""  # the lock-board bus URL, e.g. serial:///dev/ttyUSB1 or socket://…
    protocol: str = ""  # xor485 or kerong-cu16
    server: str = "http://127.0.0.1:8000"
    device_token: str = ""
    boards: Annotated[tuple[int, ...], NoDecode] = (1,)  # board addresses on the bus, e.g. "1,2"
    data_dir: Path = Path("var/cabinet")
    poll_interval: float = 0.2

    @field_validator("boards", mode="before")
    @classmethod
    def _comma_separated(cls, value: object) -> object:
        """Boards as the command line gives them: "1,2"."""
        if isinstance(value, str):
            return tuple(int(b) for b in value.split(",") if b.strip())
        return value

    def check(self) -> CabinetConfig:
        missing = [name for name in ("cabinet", "protocol", "device_token") if not getattr(self, name)]
        if missing:
            names = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
            raise ValueError(f"the cabinet agent needs {names} (or the same in the config file)")
        if self.poll_interval < 0.05:
            raise ValueError("poll_interval must be at least 0.05 s")
        return self
