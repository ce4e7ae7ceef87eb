"""The same code is reported once per debounce window, by the debouncer and by the scanner end to end."""

from __future__ import annotations

import queue

import pytest

from devices.camera import Backoff, ScanEvent, Scanner
from devices.camera.sources import MemorySource
from devices.qr import Debouncer
from devices.qr.synthetic import SyntheticFrame


def test_same_text_once_per_window() -> None:
    debouncer = Debouncer(3.0)
    admitted = [t for t in (0.0, 0.5, 1.0, 2.9, 3.0, 3.1, 5.9, 6.0) if debouncer.admit("SLIP-1", t)]
    assert admitted == [0.0, 3.0, 6.0]


def test_different_texts_do_not_hold_each_other_back() -> None:
    debouncer = Debouncer(3.0)
    assert debouncer.admit("SLIP-1", 0.0)
    assert debouncer.admit("SLIP-2", 0.1)
    assert not debouncer.admit("SLIP-1", 0.2)
    assert not debouncer.admit("SLIP-2", 0.3)


def test_zero_window_reports_every_read_and_negative_is_refused() -> None:
    debouncer = Debouncer(0.0)
    assert all(debouncer.admit("SLIP-1", 1.0) for _ in range(3))
    with pytest.raises(ValueError, match="debounce window"):
        Debouncer(-1.0)


def test_scanner_reports_a_held_slip_once(slip_frames: dict[str, SyntheticFrame]) -> None:
    held = slip_frames["clean"]
    other = slip_frames["rotated"]
    frames = [held.image] * 12 + [other.image] * 6
    scanned: queue.Queue[int] = queue.Queue()
    scanner = Scanner(
        lambda: MemorySource(frames, fps=30.0),
        debounce_s=600.0,
        on_frame=lambda frame, _: scanned.put(frame.number),
        backoff=Backoff(initial=60.0),
    )
    with scanner:
        # The capture thread keeps only the latest frame, so a busy scanner may skip some; the last one is
        # always scanned.
        while scanned.get(timeout=30.0) < len(frames):
            pass
    events: list[ScanEvent] = []
    while not scanner.events.empty():
        events.append(scanner.events.get_nowait())
    assert [event.text for event in events] == [held.text, other.text]
    first = events[0]
    assert first.raw_bytes == held.text.encode("ascii")
    assert first.captured_at <= first.decoded_at
    assert first.decode_ms > 0
    assert first.frame_no >= 1


def test_a_failing_listener_does_not_stop_scanning(slip_frames: dict[str, SyntheticFrame]) -> None:
    held = slip_frames["clean"]
    seen: queue.Queue[str] = queue.Queue()

    def listener(event: ScanEvent) -> None:
        seen.put(event.text)
        raise RuntimeError("the gate screen is not ready")

    source = lambda: MemorySource([held.image] * 3, fps=20.0)  # noqa: E731
    with Scanner(source, on_event=listener, debounce_s=0.0, backoff=Backoff(initial=0.01)):
        assert [seen.get(timeout=30.0) for _ in range(2)] == [held.text, held.text]
