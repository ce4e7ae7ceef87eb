"""Key cabinet (R-KEY): RS485 lock boards (XOR "485 lock board", Kerong KR-CU16), key tags, and a board simulator.

The driver a cabinet service uses:

    cabinet = Cabinet("serial:///dev/ttyUSB1", "xor485", boards=[1, 2], key_reader=..., key_homes=...)
    cabinet.subscribe(on_event)          # DoorOpened, DoorNotOpened, DoorOpenedWithoutCommand, KeyRemoved, ...
    cabinet.start()                      # polls in the background; door state comes only from polls
    cabinet.open_slot(1, 7, request_id)  # never sends a second frame for one request id (ledger=SqliteLedger(path):
                                         # not across restarts and programs either)
    cabinet.status(1)                    # [SlotStatus(board, slot, door, key), ...]

The return-point tag reader (`reader.ReturnPointReader`, with `reader.TagReaderSimulator`) reports `TagRead` events;
`lines.LineReader` reads any line device (a keyboard wedge, a keypad or card reader on a serial line).
"""

from devices.cabinet.driver import Cabinet, SlotStatus
from devices.cabinet.errors import (
    CabinetError,
    CabinetUrlError,
    FrameError,
    LineBusy,
    LineDown,
    NoReply,
    RequestIdConflict,
)
from devices.cabinet.ledger import MemoryLedger, SqliteLedger, UnlockLedger, UnlockOutcome, UnlockResult
from devices.cabinet.profiles import BoardProfile, Feedback, StatusOrder, UnknownProtocolError, protocol_by_name

__all__ = [
    "BoardProfile",
    "Cabinet",
    "CabinetError",
    "CabinetUrlError",
    "Feedback",
    "FrameError",
    "LineBusy",
    "LineDown",
    "MemoryLedger",
    "NoReply",
    "RequestIdConflict",
    "SlotStatus",
    "SqliteLedger",
    "StatusOrder",
    "UnknownProtocolError",
    "UnlockLedger",
    "UnlockOutcome",
    "UnlockResult",
    "protocol_by_name",
]
