"""The item checklist (R-REL-6): every line of the slip with its quantity; the guard taps a line as matching or
enters the number actually counted. Release needs every line counted and equal; any difference means refuse, and
the guard may refuse with a reason although the counts match."""

from __future__ import annotations

from dataclasses import dataclass, field

from gate.flows.verdict import ItemLine

MAX_COUNT = 9999


@dataclass
class Checklist:
    lines: tuple[ItemLine, ...]
    counted: dict[int, int] = field(default_factory=dict)

    def match(self, line: int) -> None:
        """The guard sees exactly what the slip says on this line."""
        self.counted[line] = self._line(line).quantity

    def count(self, line: int, counted: int) -> None:
        self._line(line)
        if not 0 <= counted <= MAX_COUNT:
            raise ValueError(f"a count is 0–{MAX_COUNT}")
        self.counted[line] = counted

    def clear(self, line: int) -> None:
        self.counted.pop(line, None)

    def _line(self, line: int) -> ItemLine:
        for item in self.lines:
            if item.line == line:
                return item
        raise KeyError(f"the slip has no line {line}")

    def status(self, line: int) -> str:
        """unchecked, match, short (fewer than on the slip) or extra (more than on the slip)."""
        item = self._line(line)
        if line not in self.counted:
            return "unchecked"
        counted = self.counted[line]
        return "match" if counted == item.quantity else ("short" if counted < item.quantity else "extra")

    @property
    def complete(self) -> bool:
        return all(item.line in self.counted for item in self.lines)

    @property
    def all_match(self) -> bool:
        return self.complete and all(self.status(item.line) == "match" for item in self.lines)

    @property
    def differences(self) -> list[tuple[ItemLine, int]]:
        return [(item, self.counted[item.line]) for item in self.lines if self.status(item.line) in ("short", "extra")]

    @property
    def can_release(self) -> bool:
        return self.all_match

    @property
    def can_refuse(self) -> bool:
        """Any counted slip may be refused: for a difference, or with a reason although every count matches (an item
        not on the slip, damaged goods)."""
        return self.complete
