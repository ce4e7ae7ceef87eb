"""The gate's part of the release log's paper trail: item names in both languages for a slip issued after the last
sync (the catalogue is synced like the gate's other data), refusals with a reason although the counts match, goods
stopped with no slip while offline (uploaded later), and the decided frame kept as a JPEG under 200 KB."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.photo import MAX_PHOTO_BYTES, jpeg_under
from server.db.models import GateStop, ReleaseSlip, SlipAttachment, SlipRelease, StaffUser

from .conftest import GUARD_PIN, Gate

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def signed_in(gate: Gate) -> Gate:
    gate.link.refresh_reference()
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready"
    return gate


def count_all(gate: Gate) -> None:
    checklist = gate.flow.checklist
    assert checklist is not None
    for line in checklist.lines:
        gate.flow.tap_match(line.line)


def test_offline_a_slip_issued_after_the_last_sync_shows_catalogue_names_and_stops_upload_later(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], db: Session
) -> None:
    """R-REL-6 offline: the gate synced, then lost the network; a slip issued since is not among its slips, yet its
    lines read 床 and 沙发 (and bed / sofa in English), not BED and SOFA. The guard refuses it although every count
    matches, with a reason, and stops goods carried out with no slip; both reach the server once it is back."""
    gate = signed_in(make_gate("东门"))
    assert gate.switch is not None
    gate.switch.down = True
    with pytest.raises(httpx.ConnectError):
        gate.link.heartbeat()  # the gate finds the server gone
    slip = slip_maker(lines=[("BED", None, 1), ("SOFA", None, 2), (None, "旧书架", 1)])
    assert slip.number not in gate.link.verifier.reference.slips
    assert gate.flow.on_scan(slip.token) and gate.flow.state == "checklist"
    verdict = gate.flow.verdict
    assert verdict is not None and verdict.slip is not None and not verdict.online
    assert [line.label("zh") for line in verdict.slip.lines] == ["床", "沙发", "旧书架"]
    assert [line.label("en") for line in verdict.slip.lines] == ["bed · 床", "sofa · 沙发", "旧书架"]
    count_all(gate)
    assert gate.flow.checklist is not None and gate.flow.checklist.can_release
    gate.flow.refuse_open()
    gate.flow.refuse("物品有损坏")
    assert gate.flow.decision is not None and gate.flow.decision.outcome == "refused" and gate.flow.decision.queued
    gate.flow.next()
    gate.flow.stop_open()
    gate.flow.stop_pick("冰箱")
    gate.flow.stop_record("无放行条搬出大件物品", "未列明物品")
    assert gate.flow.state == "done" and gate.flow.stop_logged is False
    gate.switch.down = False
    gate.link.upload()
    release = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert release is not None and release.outcome == "refused" and release.reason == "物品有损坏" and release.offline
    stop = db.scalar(select(GateStop))
    assert stop is not None and (stop.goods, stop.gate, stop.guard, stop.offline) == ("冰箱", "东门", "张保安", True)


def test_an_online_release_keeps_the_decided_frame_as_a_jpeg_under_200_kb(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], db: Session
) -> None:
    """R-REL-6: the gate attaches the camera frame it decided on; a 1280×720 frame full of detail is sent under
    200 KB and kept with the slip."""
    frame = np.random.default_rng(7).integers(0, 256, (720, 1280, 3), dtype=np.uint8)
    photo = jpeg_under(frame)
    assert photo.startswith(b"\xff\xd8") and len(photo) <= MAX_PHOTO_BYTES
    gate = signed_in(make_gate("西门"))
    slip = slip_maker()
    assert gate.flow.on_scan(slip.token)
    assert gate.flow.verdict is not None and gate.flow.verdict.slip is not None
    counts = {line.line: line.quantity for line in gate.flow.verdict.slip.lines}
    decision = gate.link.decide(gate.flow.verdict.slip, "张保安", counts, "", photo=photo)
    assert decision.outcome == "released" and not decision.queued
    kept = db.scalar(select(SlipAttachment.data).where(SlipAttachment.slip_id == slip.id))
    assert kept == photo
