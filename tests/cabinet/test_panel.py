"""What a person types at the cabinet's panel, read into commands; anything else is a clear error that never
repeats the line (it may hold a card number or a PIN)."""

from __future__ import annotations

import pytest

from cabinet.panel import Borrow, PanelError, SignIn, SignOut, parse
from server.contract.cabinet import CabinetSignIn


@pytest.mark.parametrize(
    ("line", "command"),
    [
        ("E0001\r\n", SignIn(CabinetSignIn(card="E0001"), "card")),
        ("  0012345678  ", SignIn(CabinetSignIn(card="0012345678"), "card")),
        ("pin engineer 135790", SignIn(CabinetSignIn(username="engineer", pin="135790"), "pin")),
        ("PIN engineer 13579024", SignIn(CabinetSignIn(username="engineer", pin="13579024"), "pin")),
        ("borrow 水泵房（在用） engineering 2", Borrow("水泵房（在用）", "engineering", 2.0)),
        ("borrow 1-1A viewing", Borrow("1-1A", "viewing", None)),
        ("borrow 1栋1单元 1层 公共门 engineering 0.5", Borrow("1栋1单元 1层 公共门", "engineering", 0.5)),
        ('borrow "1栋1单元 1层 公共门" engineering', Borrow("1栋1单元 1层 公共门", "engineering", None)),
        ("borrow 8E0000000186A101 engineering 4", Borrow("8E0000000186A101", "engineering", 4.0)),
        ("out", SignOut()),
        ("OUT\r", SignOut()),
        ("", None),
        ("   \r\n", None),
    ],
)
def test_lines_the_panel_understands(line: str, command: object) -> None:
    assert parse(line) == command


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ("E01", "not a card number"),
        ("x" * 41, "not a card number"),
        ("pin engineer", "pin <username> <pin>"),
        ("pin engineer 1234", "6–8 digit PIN"),
        ("pin engineer 12345a", "6–8 digit PIN"),
        ("pin engineer 135790 extra", "pin <username> <pin>"),
        ("borrow", "borrow <key label or tag>"),
        ("borrow 水泵房", "borrow <key label or tag>"),
        ("borrow 水泵房 engineering 0", "hours must be more than 0"),
        ("borrow 水泵房 engineering -3", "hours must be more than 0"),
        ("borrow 水泵房 engineering 100000", "at most 720"),
        ("borrow " + "k" * 61 + " engineering", "at most 60 characters"),
        ("open the door please", "not a command"),
        ("out now", "not a command"),
    ],
)
def test_bad_lines_say_what_to_type(line: str, message: str) -> None:
    with pytest.raises(PanelError, match=message) as refused:
        parse(line)
    assert "135790" not in str(refused.value) and "1234" not in str(refused.value)
