"""The cabinet agent's settings: command-line options over `ESTATE_CABINET_*` over a TOML file (its `[cabinet]`
table or its top level) over the defaults (`terminal.settings`).

The boards on the bus are addresses (`boards = [1, 2]`, `--boards 1,2`) or, where a board differs from its
family's defaults, tables saying how it is built and wired:

    [cabinet]
    cabinet = "serial:///dev/ttyUSB1?baudrate=9600"
    protocol = "xor485"
    tag_reader = "serial:///dev/ttyUSB2"      # or "keyboard" for a keyboard-wedge reader
    panel = "keyboard"                        # staff cards (a wedge) and commands typed on standard input
    [[cabinet.boards]]
    address = 1                               # the family's defaults
    [[cabinet.boards]]
    address = 2
    channels = 50
    feedback = "door-opening"                 # the lock's feedback contact closes while the door is open
    order = "low-first"                       # first status byte = channels 1-8
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from devices.cabinet.profiles import BoardProfile, Feedback, StatusOrder, protocol_by_name
from terminal.settings import ProgramSettings


class BoardConfig(BaseModel):
    """One board on the bus; what is not given is its protocol family's default."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    address: int
    protocol: str | None = None  # the family, if said here too; it must be the bus's
    channels: int | None = None
    feedback: Feedback | None = None
    order: StatusOrder | None = None

    def profile(self, protocol: str) -> BoardProfile:
        if self.protocol is not None and protocol_by_name(self.protocol) is not protocol_by_name(protocol):
            raise ValueError(
                f"board {self.address} is a {self.protocol} board but the bus speaks {protocol}: one family per bus"
            )
        settings = {"channels": self.channels, "feedback": self.feedback, "order": self.order}
        profile = BoardProfile.default(protocol, **{k: v for k, v in settings.items() if v is not None})
        profile.check_address(self.address)
        return profile


class CabinetConfig(ProgramSettings):
    model_config = SettingsConfigDict(env_prefix="ESTATE_CABINET_", frozen=True)
    table = "cabinet"

    cabinet: str = ""  # the lock-board bus URL, e.g. serial:///dev/ttyUSB1 or socket://…
    protocol: str = ""  # xor485 or kerong-cu16
    server: str = "http://127.0.0.1:8000"
    device_token: str = ""
    boards: Annotated[tuple[BoardConfig, ...], NoDecode] = (BoardConfig(address=1),)
    tag_reader: str = ""  # the return-point reader: a serial URL, or "keyboard"; empty: none
    panel: str = ""  # where staff sign in and borrow: a serial URL (keypad, card reader), or "keyboard"; empty: none
    data_dir: Path = Path("var/cabinet")  # the outbox, the unlock ledger, the synced roster and unlocks
    poll_interval: float = 0.2
    idle_sign_out: float = 120.0  # seconds with nothing typed at the panel before the person is signed out
    sync_interval: float = 60.0  # seconds between downloads of the staff roster and the waiting unlocks

    @field_validator("boards", mode="before")
    @classmethod
    def _addresses_or_tables(cls, value: object) -> object:
        """Boards as the command line gives them ("1,2"), as addresses, or as tables."""
        if isinstance(value, str):
            value = [int(b) for b in value.split(",") if b.strip()]
        if isinstance(value, list | tuple):
            return tuple({"address": b} if isinstance(b, int) else b for b in value)
        return value

    def check(self) -> CabinetConfig:
        missing = [name for name in ("cabinet", "protocol", "device_token") if not getattr(self, name)]
        if missing:
            names = ", ".join(f"--{name.replace('_', '-')}" for name in missing)
            raise ValueError(f"the cabinet agent needs {names} (or the same in the config file)")
        if self.poll_interval < 0.05:
            raise ValueError("poll_interval must be at least 0.05 s")
        if self.idle_sign_out <= 0 or self.sync_interval <= 0:
            raise ValueError("idle_sign_out and sync_interval are positive numbers of seconds")
        if self.panel == self.tag_reader == "keyboard":
            raise ValueError("the panel and the tag reader cannot both read the keyboard: give one a serial URL")
        addresses = [b.address for b in self.boards]
        if not addresses or len(set(addresses)) != len(addresses):
            raise ValueError(f"boards need distinct addresses, not {addresses}")
        self.profiles()
        return self

    def profiles(self) -> dict[int, BoardProfile]:
        """Each board's profile, by address, in the order the file gives them."""
        return {board.address: board.profile(self.protocol) for board in self.boards}
