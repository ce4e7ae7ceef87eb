"""Who is acting: a staff user, an enrolled device, or the system itself (CLI, start-up)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Actor:
    kind: str  # "user" | "device" | "system"
    id: int | None = None
    name: str = ""
    ip: str = ""
    device_id: int | None = None

    @property
    def label(self) -> str:
        return f"{self.kind}:{self.id}:{self.name}" if self.id is not None else f"{self.kind}:{self.name}"


SYSTEM = Actor(kind="system", name="estate")


def cli_actor(command: str) -> Actor:
    return Actor(kind="system", name=f"cli {command}")
