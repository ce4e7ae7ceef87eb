"""The whole loop: kiosk flow → server → virtual printer → PNG → zxing-cpp reads the QR → the gate's verify."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from devices.printing.virtual import VirtualPrinter
from devices.qr.decoders import make_decoder
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Screen, Service
from server.contract.client import EstateClient
from tests.conftest import OWNER_CARD

from .conftest import confirm_signed, type_other

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_kiosk_slip_read_from_paper_passes_the_gate_with_the_same_items(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, live_server: str, gate_token: str
) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    for char in OWNER_CARD:
        flow.card_key(char)
    flow.card_enter()
    flow.add("SOFA")
    flow.add("WARD")
    flow.add("WARD")
    flow.open_other()
    type_other(flow, ("jiu", "旧"), ("shujia", "书架"))
    flow.add_other()
    flow.review()
    confirm_signed(flow)
    assert flow.state.screen is Screen.DONE
    (job,) = printer.wait_for_jobs(1)
    assert job.png_path is not None
    grey = np.asarray(Image.open(job.png_path).convert("L"))
    texts = [code.text for code in make_decoder("zxing").decode_grey(grey)]
    assert len(texts) == 1 and texts[0]
    with EstateClient(live_server, gate_token) as gate:
        verified = gate.verify(texts[0])
    assert verified.slip.number == flow.session.slip.number  # type: ignore[union-attr]
    assert verified.slip.state == "issued"
    assert [(i.code, i.name, i.quantity) for i in verified.slip.items] == [
        ("SOFA", "沙发", 1),
        ("WARD", "衣柜", 2),
        (None, "旧书架", 1),
    ]
