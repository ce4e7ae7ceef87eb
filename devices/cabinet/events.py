"""What the cabinet reports: door, board and key events, each a small value with a JSON form."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, kw_only=True)
class CabinetEvent:
    board: int
    at: datetime = field(default_factory=_now, compare=False)

    @property
    def name(self) -> str:
        return _NAMES[type(self)]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["at"] = self.at.isoformat()
        return {"event": self.name, **data}


@dataclass(frozen=True, kw_only=True)
class SlotEvent(CabinetEvent):
    slot: int


@dataclass(frozen=True, kw_only=True)
class DoorOpened(SlotEvent):
    """Seen open by polling; `request_id` names the unlock that opened it, None if nobody asked."""

    request_id: str | None


@dataclass(frozen=True, kw_only=True)
class DoorClosed(SlotEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class DoorNotOpened(SlotEvent):
    """An unlock went out but the door was not seen open within the allowed time."""

    request_id: str
    waited_s: float


@dataclass(frozen=True, kw_only=True)
class DoorOpenedWithoutCommand(SlotEvent):
    """Tamper: the door opened with no unlock pending (forced, or a lock that did not hold)."""


@dataclass(frozen=True, kw_only=True)
class DoorHeldOpen(SlotEvent):
    open_s: float


@dataclass(frozen=True, kw_only=True)
class BoardOffline(CabinetEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class BoardOnline(CabinetEvent):
    pass


@dataclass(frozen=True, kw_only=True)
class KeyRemoved(SlotEvent):
    """`tag` is None where only presence is known (Kerong IR sensor, no reader)."""

    tag: str | None


@dataclass(frozen=True, kw_only=True)
class KeyReturned(SlotEvent):
    tag: str | None


@dataclass(frozen=True, kw_only=True)
class KeyReturnedToWrongSlot(SlotEvent):
    tag: str
    home_board: int
    home_slot: int


@dataclass(frozen=True, kw_only=True)
class UnknownTag(SlotEvent):
    tag: str


@dataclass(frozen=True, kw_only=True)
class TagUnreadable(SlotEvent):
    reason: str


@dataclass(frozen=True, kw_only=True)
class TagRead(CabinetEvent):
    """A key held to the cabinet's return-point reader. Not in a slot: `board` is 0, the cabinet itself."""

    tag: str
    reader: str


@dataclass(frozen=True, kw_only=True)
class TagReadFailed(CabinetEvent):
    """The return-point reader sent a line that is not a valid tag (`board` 0, as for `TagRead`)."""

    reader: str
    reason: str


_NAMES: dict[type[CabinetEvent], str] = {
    DoorOpened: "door_opened",
    DoorClosed: "door_closed",
    DoorNotOpened: "door_not_opened",
    DoorOpenedWithoutCommand: "door_opened_without_command",
    DoorHeldOpen: "door_held_open",
    BoardOffline: "board_offline",
    BoardOnline: "board_online",
    KeyRemoved: "key_removed",
    KeyReturned: "key_returned",
    KeyReturnedToWrongSlot: "key_returned_to_wrong_slot",
    UnknownTag: "unknown_tag",
    TagUnreadable: "tag_unreadable",
    TagRead: "tag_read",
    TagReadFailed: "tag_read_failed",
}
