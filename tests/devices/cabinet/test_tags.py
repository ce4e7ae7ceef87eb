"""Key tags: DS1990A ROMs with their CRC-8, RFID numbers, and the key events a tracker derives from readings."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.cabinet.events import KeyRemoved, KeyReturned, KeyReturnedToWrongSlot, TagUnreadable, UnknownTag
from devices.cabinet.tags import (
    KeyTracker,
    TagError,
    crc8_maxim,
    hex_of_tag_id,
    ibutton_id,
    ibutton_rom,
    raw_tag,
    rfid_id,
    tag_hex,
    tag_id,
)


def test_crc8_of_the_maxim_application_note_example() -> None:
    # Maxim AN27: ROM 02 1C B8 01 00 00 00 carries CRC A2.
    assert crc8_maxim(bytes.fromhex("02 1c b8 01 00 00 00")) == 0xA2
    assert crc8_maxim(bytes.fromhex("02 1c b8 01 00 00 00 a2")) == 0  # a whole ROM checks to zero


def test_ds1990a_rom() -> None:
    rom = ibutton_rom(0x0000_0F7B_2C64)
    assert rom[0] == 0x01 and rom[1:7] == bytes.fromhex("64 2c 7b 0f 00 00")
    assert ibutton_id(rom) == "ibutton:01.00000F7B2C64"


@pytest.mark.parametrize(
    ("rom", "message"),
    [
        (ibutton_rom(5)[:7] + bytes([ibutton_rom(5)[7] ^ 0xFF]), "CRC-8"),  # the right CRC, every bit flipped
        (ibutton_rom(5, family=0x02), "not a DS1990A"),
        (ibutton_rom(5)[:6], "8 bytes"),
    ],
)
def test_bad_ibutton_readings(rom: bytes, message: str) -> None:
    with pytest.raises(TagError, match=message):
        ibutton_id(rom)


def test_rfid_numbers() -> None:
    assert rfid_id(1234567) == "rfid:0001234567"
    assert tag_id(42) == "rfid:0000000042"
    with pytest.raises(TagError):
        rfid_id(1 << 40)


@given(serial=st.integers(0, (1 << 48) - 1), flip=st.integers(0, 63))
def test_any_single_bit_error_is_caught(serial: int, flip: int) -> None:
    rom = bytearray(ibutton_rom(serial))
    assert ibutton_id(bytes(rom)).endswith(f"{serial:012X}")
    rom[flip // 8] ^= 1 << (flip % 8)
    with pytest.raises(TagError):
        ibutton_id(bytes(rom))


def test_tracker_events() -> None:
    a, b = ibutton_rom(1), ibutton_rom(2)
    homes = {tag_id(a): (1, 1), tag_id(b): (1, 2)}
    tracker = KeyTracker(homes.get)
    assert tracker.observe_tags({(1, 1): a, (1, 2): b, (1, 3): None}) == []  # first reading: no news
    assert tracker.observe_tags({(1, 1): None, (1, 2): b, (1, 3): None}) == [KeyRemoved(board=1, slot=1, tag=tag_id(a))]
    assert tracker.observe_tags({(1, 1): None, (1, 2): b, (1, 3): a}) == [
        KeyReturnedToWrongSlot(board=1, slot=3, tag=tag_id(a), home_board=1, home_slot=1)
    ]
    events = tracker.observe_tags({(1, 1): 77, (1, 2): b, (1, 3): None})
    assert events == [UnknownTag(board=1, slot=1, tag="rfid:0000000077"), KeyRemoved(board=1, slot=3, tag=tag_id(a))]
    bad = b[:7] + bytes([b[7] ^ 0xFF])
    events = tracker.observe_tags({(1, 2): bad})
    assert [type(e) for e in events] == [TagUnreadable]
    assert tracker.tag_at((1, 2)) == tag_id(b)  # an unreadable contact is not a removal
    assert tracker.observe_tags({(1, 2): None, (1, 1): None}) == [
        KeyRemoved(board=1, slot=2, tag=tag_id(b)),
        KeyRemoved(board=1, slot=1, tag="rfid:0000000077"),
    ]
    assert tracker.observe_tags({(1, 2): b}) == [KeyReturned(board=1, slot=2, tag=tag_id(b))]


@given(serial=st.integers(0, (1 << 48) - 1), number=st.integers(0, (1 << 40) - 1))
def test_a_tag_in_the_hex_readers_type_and_back(serial: int, number: int) -> None:
    """The hex a reader types is what the key register holds and what the agent sends: one mapping both ways."""
    for raw in (ibutton_rom(serial), number):
        text = tag_hex(raw)
        assert raw_tag(text) == raw and raw_tag(text.lower()) == raw
        assert hex_of_tag_id(tag_id(raw)) == text
    assert len(tag_hex(ibutton_rom(serial))) == 16 and len(tag_hex(number)) == 10


def test_hex_of_tags_as_printed_on_the_can() -> None:
    assert tag_hex(ibutton_rom(0x186A1)) == "8E0000000186A101"
    assert hex_of_tag_id("ibutton:01.0000000186A1") == "8E0000000186A101"
    assert hex_of_tag_id("rfid:0000012345") == "0000003039"
    assert hex_of_tag_id("something else") == "something else"  # passed on as it is, for the server to judge
    with pytest.raises(TagError, match="CRC-8"):
        raw_tag("8F0000000186A101")
