"""The item lines a resident picks before confirming (R-REL-2: each item's name and quantity)."""

from __future__ import annotations

from dataclasses import dataclass, field

from server.contract import slip_token
from server.contract.schemas import ItemLineIn

MAX_QUANTITY = 99
MAX_OTHER_CHARS = 16


@dataclass
class ItemDraft:
    """Catalogue items by code with their quantities, free-text "other" items, and the planned day."""

    quantities: dict[str, int] = field(default_factory=dict)
    others: list[tuple[str, int]] = field(default_factory=list)
    last_line: str = ""  # the line last added or changed ("item.SOFA", "other.0"): the list keeps it in view
    day_offset: int = 0  # 0 today, 1 tomorrow, 2 the day after

    @property
    def line_count(self) -> int:
        return len(self.quantities) + len(self.others)

    @property
    def full(self) -> bool:
        return self.line_count >= slip_token.MAX_LINES

    @property
    def empty(self) -> bool:
        return self.line_count == 0

    def fits_with(self, line: slip_token.ItemLine) -> bool:
        """Whether the slip's QR code still prints at full size with one more line (asked before the server)."""
        lines = [slip_token.ItemLine(c, q) for c, q in self.quantities.items()]
        lines += [slip_token.ItemLine(n, q, True) for n, q in self.others]
        return slip_token.token_fits([*lines, line])

    def add(self, code: str) -> bool:
        """One more of a catalogue item; False when the slip already has as many lines as it can carry."""
        if code not in self.quantities and (self.full or not self.fits_with(slip_token.ItemLine(code, 1))):
            return False
        self.quantities[code] = min(self.quantities.get(code, 0) + 1, MAX_QUANTITY)
        self.last_line = f"item.{code}"
        return True

    def remove(self, code: str) -> None:
        self.last_line = f"item.{code}"
        left = self.quantities.get(code, 0) - 1
        if left > 0:
            self.quantities[code] = left
        else:
            self.quantities.pop(code, None)

    def other_problem(self, text: str) -> str | None:
        """Why this "other" item cannot go on the slip (a catalogue key), or None."""
        name = " ".join(text.split())
        if not name:
            return "other.empty"
        if len(name) > MAX_OTHER_CHARS or len(name.encode()) > slip_token.MAX_NAME_BYTES:
            return "other.too_long"
        if self.full:
            return "items.full"
        if name not in dict(self.others) and not self.fits_with(slip_token.ItemLine(name, 1, True)):
            return "other.no_room"
        return None

    def add_other(self, text: str) -> None:
        name = " ".join(text.split())
        for n, (existing, quantity) in enumerate(self.others):
            if existing == name:
                self.others[n] = (name, min(quantity + 1, MAX_QUANTITY))
                self.last_line = f"other.{n}"
                return
        self.others.append((name, 1))
        self.last_line = f"other.{len(self.others) - 1}"

    def change_other(self, index: int, delta: int) -> None:
        name, quantity = self.others[index]
        self.last_line = f"other.{index}"
        quantity += delta
        if quantity <= 0:
            del self.others[index]
        else:
            self.others[index] = (name, min(quantity, MAX_QUANTITY))

    def lines(self) -> list[ItemLineIn]:
        return [ItemLineIn(code=c, quantity=q) for c, q in self.quantities.items()] + [
            ItemLineIn(name=n, quantity=q) for n, q in self.others
        ]
