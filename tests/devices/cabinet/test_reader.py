"""The return-point tag reader: the line protocol of RS232 iButton/RFID readers and keyboard wedges, over a real
pseudo-terminal with the reader simulator."""

from __future__ import annotations

import io
import queue

import pytest

from devices.cabinet.events import CabinetEvent, TagRead, TagReadFailed
from devices.cabinet.reader import ReturnPointReader, TagReaderSimulator, parse_reading, reading_line
from devices.cabinet.tags import TagError, ibutton_rom, tag_id

KEY = ibutton_rom(0x186A1)


def test_readings_as_readers_send_them() -> None:
    assert reading_line(KEY) == b"8E0000000186A101\r\n"  # MSB first, as printed on the can
    assert parse_reading(" 8e0000000186a101\r\n") == "ibutton:01.0000000186A1" == tag_id(KEY)
    assert parse_reading("0000003039") == "rfid:0000012345"


@pytest.mark.parametrize(
    ("line", "message"),
    [("8F0000000186A101", "CRC-8"), ("C90000000186A102", "family"), ("12AB", "16 hex digits"), ("hello", "hex")],
)
def test_bad_readings_say_what_is_wrong(line: str, message: str) -> None:
    with pytest.raises(TagError, match=message):
        parse_reading(line)


def present_until_read(sim: TagReaderSimulator, events: queue.Queue[CabinetEvent]) -> CabinetEvent:
    """Hold the key to the probe until the reader reports it (a reader sends while the key stays on it; what it
    sends before the port is open is lost, as on a real line)."""
    for _ in range(100):
        sim.present(KEY)
        try:
            return events.get(timeout=0.05)
        except queue.Empty:
            continue
    raise AssertionError("the reader never reported the key")


def test_a_serial_reader_on_a_pty_reports_each_key_once_while_it_stays_on_the_probe() -> None:
    events: queue.Queue[CabinetEvent] = queue.Queue()
    with TagReaderSimulator() as sim:
        reader = ReturnPointReader(sim.url, events.put, debounce=30).start()
        try:
            first = present_until_read(sim, events)
            sim.send(b"8E0000000186A101\r")  # repeated, split and ended by a lone CR
            sim.send(b"\n00000030")
            sim.send(b"39\r\n")
            second = events.get(timeout=5)
        finally:
            reader.close()
    assert first == TagRead(board=0, tag=tag_id(KEY), reader=sim.url)
    assert second == TagRead(board=0, tag="rfid:0000012345", reader=sim.url)
    assert events.empty()


def test_a_keyboard_wedge_types_the_same_lines() -> None:
    events: list[CabinetEvent] = []
    reader = ReturnPointReader("keyboard", events.append, stdin=io.StringIO("8E0000000186A101\n\nnot a tag\n"))
    reader.start()
    reader.join(timeout=5)  # standard input ends
    reader.close()
    assert [type(e) for e in events] == [TagRead, TagReadFailed]
