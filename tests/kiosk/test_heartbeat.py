"""The kiosk's heartbeat: the front desk sees on the console when the kiosk's printer is out of paper."""

from __future__ import annotations

import logging

import pytest
from fastapi.testclient import TestClient

from devices.printing.virtual import PrinterState, VirtualPrinter
from kiosk.heartbeat import HeartbeatSender
from kiosk.printer import UrlPrinter
from server.contract.client import EstateClient

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.mark.parametrize(
    ("state", "reported", "shown"),
    [
        (PrinterState.OK, "ok", "打印机: 正常"),
        (PrinterState.OUT, "paper_out", "打印机: 缺纸"),
        (PrinterState.COVER_OPEN, "cover_open", "打印机: 盖未合"),
        (PrinterState.SILENT, "unknown", "打印机: 未知"),
    ],
)
def test_the_printer_state_reaches_the_devices_page(
    api: EstateClient,
    printer: VirtualPrinter,
    client: TestClient,
    make_user,
    login,
    state: PrinterState,
    reported: str,
    shown: str,
) -> None:
    printer.state = state
    beat = HeartbeatSender(api.heartbeat, UrlPrinter(printer.url, timeout=0.5)).beat_once()
    assert beat.peripherals == {"printer": reported}
    make_user("admin", username="boss")
    login(client, "boss", "correct-horse-1")
    assert shown in client.get("/console/devices").text


def test_an_unplugged_printer_is_offline_and_a_missing_server_is_no_crash(
    kiosk_token: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The server away and the printer unplugged: a warning line for each, once, however many beats fail."""
    caplog.set_level(logging.INFO, logger="kiosk")
    with EstateClient("http://127.0.0.1:9", kiosk_token, timeout=0.5) as away:  # nothing listens on port 9
        sender = HeartbeatSender(away.heartbeat, UrlPrinter("tcp://127.0.0.1:9", timeout=0.5))
        beats = [sender.beat_once() for _ in range(3)]
    assert [beat.peripherals for beat in beats] == [{"printer": "offline"}] * 3
    logged = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "kiosk.heartbeat"]
    assert [level for level, _ in logged] == ["WARNING", "WARNING"]
    assert logged[0][1] == "kiosk printer: offline (was unknown)"
    assert logged[1][1].startswith("kiosk link: offline (was unknown): ")
