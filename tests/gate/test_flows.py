"""The gate's state machines against the real server app (in-process), online and with the network pulled:
sign-in, every verdict, the checklist (match, short, extra), manual entry, release and refusal."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from sqlalchemy import select
from sqlalchemy.orm import Session

from gate.flows.checklist import Checklist
from gate.flows.gate_flow import QUIET_S
from gate.flows.verdict import ItemLine
from gate.link import event_of
from server.contract import slip_token
from server.db.models import AuditEntry, Estate, ReleaseSlip, SlipRelease, StaffUser
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.slips import issuing
from tests.conftest import Household, make_household

from .conftest import GUARD_CARD, GUARD_PIN, STAFF, Gate, issue_slip, now_utc

MODES = ["online", "offline"]


def ready_gate(gate: Gate, mode: str) -> Gate:
    """Synced once online, the guard signed in, then (offline mode) the network pulled and noticed by the
    background sync (a scan no longer asks the server, so it is no longer what finds the network gone)."""
    gate.link.refresh_reference()
    for key in GUARD_PIN:
        gate.flow.signin_key(key)
    gate.flow.signin_submit()
    assert gate.flow.state == "ready"
    if mode == "offline":
        assert gate.switch is not None
        gate.switch.down = True
        with pytest.raises(httpx.TransportError):
            gate.link.refresh_reference()
        assert not gate.link.online
    return gate


def count_everything(gate: Gate) -> None:
    assert gate.flow.checklist is not None
    for line in gate.flow.checklist.lines:
        gate.flow.tap_match(line.line)


# --- sign-in -----------------------------------------------------------------------------------------------------


def test_sign_in_by_pin_and_card_online_and_offline(make_gate: Callable[..., Gate], guard: StaffUser) -> None:
    gate = make_gate()
    flow = gate.flow
    gate.switch.down = True  # type: ignore[union-attr]
    for key in GUARD_PIN:
        flow.signin_key(key)
    flow.signin_submit()
    assert flow.state == "signed_out" and flow.signin.state.error == "not_synced"  # never synced: nobody known
    gate.switch.down = False  # type: ignore[union-attr]
    gate.link.refresh_reference()
    assert gate.link.online
    for key in "999999":
        flow.signin_key(key)
    flow.signin_submit()
    assert flow.state == "signed_out" and flow.signin.state.error == "guard_unknown"
    flow.signin_key("1")
    flow.signin_submit()
    assert flow.signin.state.error == "pin_short"
    flow.signin_key("clear")
    for key in GUARD_PIN:
        flow.signin_key(key)
    flow.signin_submit()
    assert flow.state == "ready" and flow.guard is not None and flow.guard.display_name == "张保安"
    flow.sign_out()
    assert flow.state == "signed_out" and flow.guard is None
    gate.switch.down = True  # type: ignore[union-attr]
    flow.signin_card(GUARD_CARD)  # offline: checked against the synced roster
    assert flow.state == "ready" and flow.guard is not None and flow.guard.username == "zhang_guard"
    assert not gate.link.online
    flow.sign_out()
    flow.signin_card("SOMEONE-ELSE")
    assert flow.state == "signed_out" and flow.signin.state.error == "guard_unknown"


def test_scans_are_ignored_until_a_guard_signs_in(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip]
) -> None:
    gate = make_gate()
    assert gate.flow.on_scan(slip_maker().token) is False
    assert gate.flow.state == "signed_out"


# --- verdicts ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_a_valid_slip_opens_the_checklist(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], mode: str
) -> None:
    slip = slip_maker()
    gate = ready_gate(make_gate(), mode)
    assert gate.flow.on_scan(slip.token)
    flow = gate.flow
    assert flow.state == "checklist" and flow.verdict is not None and flow.verdict.online == (mode == "online")
    assert flow.verdict.slip is not None and flow.verdict.slip.number == slip.number
    assert [(i.name, i.quantity) for i in flow.verdict.slip.lines] == [("沙发", 1), ("旧书架", 2)]


def forged(token: str) -> str:
    signed = slip_token.decode(token)
    payload = bytearray(signed.payload)
    payload[-1] ^= 0x01  # a changed byte of the signed payload (the last item's quantity)
    return slip_token.token_text(bytes(payload), signed.signature)


@pytest.mark.parametrize("mode", MODES)
def test_every_rejection_shows_its_reason(
    make_gate: Callable[..., Gate],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    estate: Estate,
    household: Household,
    mode: str,
) -> None:
    expired = slip_maker(now=issuing.utcnow() - timedelta(days=9))
    cancelled = issuing.cancel(db, STAFF, slip_maker(), "住户取消")
    db.commit()
    revoked = slip_maker()
    revoked.revoked_at = issuing.utcnow()
    db.commit()
    used = slip_maker()
    other = registry.create_estate(db, SYSTEM, "XY", "翠苑", "Cuiyuan")
    elsewhere = issue_slip(db, other, make_household(db, other, "1-1A", credentials=False))
    good = slip_maker()
    claims = slip_token.decode(good.token).claims
    stranger = slip_token.encode(
        slip_token.SlipClaims(99, claims.estate, claims.day, claims.seq, claims.unit, claims.valid_until, claims.items),
        Ed25519PrivateKey.generate(),
    )

    west = ready_gate(make_gate("西门"), "online")
    west.flow.on_scan(used.token)
    count_everything(west)
    west.flow.release()
    assert west.flow.state == "done" and west.flow.decision is not None and not west.flow.decision.queued

    gate = ready_gate(make_gate("东门"), mode)
    expected = {
        forged(good.token): "bad_signature",
        "RS1:hello": "malformed",
        stranger: "unknown_key",
        elsewhere.token: "wrong_estate",
        expired.token: "expired",
        revoked.token: "revoked",
        cancelled.token: "cancelled",
        used.token: "already_released",
    }
    for text, code in expected.items():
        gate.flow.on_scan(text)
        assert gate.flow.state == "rejected", code
        assert gate.flow.verdict is not None and gate.flow.verdict.code == code
    if mode == "online":  # the server says when and where the slip was used
        assert gate.flow.verdict.released_gate == "西门"
        assert gate.flow.verdict.released_at is not None
    gate.flow.next()
    assert gate.flow.state == "ready"
    if mode == "offline":  # turned-away scans wait in the outbox for the audit trail
        kinds = [event_of(e).kind for e in gate.link.outbox.pending()]
        assert kinds == ["reject"] * len(expected)


@pytest.mark.parametrize("mode", MODES)
def test_a_code_holding_control_characters_is_turned_away_and_its_scan_still_uploaded(
    make_gate: Callable[..., Gate], guard: StaffUser, db: Session, mode: str
) -> None:
    """A QR code may hold any text: one with a line break, NUL or an escape in it is turned away as malformed like
    any bad code, and the rejected scan still reaches the server's audit trail, whose text type refuses control
    characters (so the gate sends the text with them replaced)."""
    gate = ready_gate(make_gate(), mode)
    gate.flow.on_scan("RS1:first line\nsecond\x00\x1b[2J")
    assert gate.flow.state == "rejected" and gate.flow.verdict is not None and gate.flow.verdict.code == "malformed"
    assert gate.switch is not None
    gate.switch.down = False
    assert gate.link.upload() == 1
    assert [(e.result, e.code) for e in gate.link.outbox.all()] == [("recorded", "malformed")]
    rejected = select(AuditEntry.detail).where(AuditEntry.action == "gate.scan_rejected")
    assert db.scalars(rejected).all() == ['{"at": "' + str(gate.link.outbox.all()[0].at) + '", "code": "malformed"}']


def test_outbox_entries_that_cannot_be_sent_as_they_are_do_not_hold_up_the_decisions_after_them(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], db: Session
) -> None:
    """A scan queued by an earlier gate version with control characters in its text goes with them replaced;
    entries holding no request at all are set aside as unreadable (and logged); the decision queued after them
    reaches the server."""
    slip = slip_maker()
    gate = ready_gate(make_gate(), "offline")
    at = now_utc()
    older = {
        "nonce": "older-scan-0001",
        "kind": "reject",
        "text": "RS1:a\nb\x00",
        "at": at.isoformat(),
        "code": "malformed",
    }
    gate.link.outbox.add("older-scan-0001", "sync", json.dumps(older), at)
    gate.link.outbox.add("broken-event-01", "sync", '{"nonce": "broken-ev', at)
    gate.link.outbox.add("broken-release1", "release", "[]", at)
    gate.flow.on_scan(slip.token)
    count_everything(gate)
    gate.flow.release()
    assert gate.flow.decision is not None and gate.flow.decision.queued
    assert gate.switch is not None
    gate.switch.down = False
    assert gate.link.upload() == 2 and gate.link.queue_length() == 0
    assert {e.nonce: (e.result, e.code) for e in gate.link.outbox.all()} == {
        "older-scan-0001": ("recorded", "malformed"),
        "broken-event-01": ("rejected", "unreadable"),
        "broken-release1": ("rejected", "unreadable"),
        gate.link.outbox.all()[-1].nonce: ("recorded", "released"),
    }
    assert db.scalar(select(SlipRelease.outcome).where(SlipRelease.slip_id == slip.id)) == "released"


@pytest.mark.parametrize("mode", MODES)
def test_a_slip_released_here_is_refused_here_with_time_and_gate(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], mode: str
) -> None:
    slip = slip_maker()
    gate = ready_gate(make_gate("东门"), mode)
    gate.flow.on_scan(slip.token)
    count_everything(gate)
    gate.flow.release()
    decision = gate.flow.decision
    assert decision is not None and decision.outcome == "released" and decision.queued == (mode == "offline")
    gate.flow.next()
    gate.clock.advance(QUIET_S)  # shown again later, not straight after "继续"
    gate.flow.on_scan(slip.token)
    verdict = gate.flow.verdict
    assert gate.flow.state == "rejected" and verdict is not None and verdict.code == "already_released"
    assert verdict.released_gate == "东门" and verdict.released_at is not None
    assert abs(verdict.released_at - decision.at) < timedelta(seconds=1)


def test_an_online_release_is_one_call_that_carries_the_servers_verdict(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip]
) -> None:
    """Online, the gate checks a scanned slip with the keys it holds and records the release in one call; a slip
    used at another gate after this one checked it is refused by that call, saying where it was used (R-REL-6)."""
    first, second = slip_maker(), slip_maker()
    east = ready_gate(make_gate("东门"), "online")
    west = ready_gate(make_gate("西门"), "online")
    assert east.switch is not None
    east.switch.sent.clear()
    east.flow.on_scan(first.token)
    count_everything(east)
    east.flow.release()
    assert east.flow.decision is not None and not east.flow.decision.queued
    assert east.switch.sent == ["/api/v1/gate/releases"]
    east.flow.next()
    east.flow.on_scan(second.token)
    assert east.flow.state == "checklist"
    west.flow.on_scan(second.token)
    count_everything(west)
    west.flow.release()
    count_everything(east)
    east.flow.release()
    verdict = east.flow.verdict
    assert east.flow.state == "rejected" and verdict is not None and verdict.code == "already_released"
    assert verdict.released_gate == "西门"


# --- the checklist -------------------------------------------------------------------------------------------------


def test_checklist_match_short_and_extra() -> None:
    checklist = Checklist((ItemLine(1, "沙发", 1), ItemLine(2, "纸箱", 5)))
    assert not checklist.can_release and not checklist.can_refuse
    checklist.match(1)
    assert checklist.status(1) == "match" and checklist.status(2) == "unchecked"
    assert not checklist.can_release and not checklist.can_refuse  # every line must be counted first
    checklist.count(2, 5)
    # R-REL-6: a counted slip may be refused with a reason although every count matches
    assert checklist.status(2) == "match" and checklist.can_release and checklist.can_refuse
    checklist.count(2, 3)
    assert checklist.status(2) == "short" and not checklist.can_release and checklist.can_refuse
    checklist.count(2, 7)
    assert checklist.status(2) == "extra" and checklist.differences == [(ItemLine(2, "纸箱", 5), 7)]
    with pytest.raises(ValueError):
        checklist.count(2, -1)
    with pytest.raises(KeyError):
        checklist.match(3)


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("counted", [1, 3], ids=["short", "extra"])
def test_a_difference_is_refused_with_the_reason(
    make_gate: Callable[..., Gate],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    mode: str,
    counted: int,
) -> None:
    slip = slip_maker()
    gate = ready_gate(make_gate(), mode)
    flow = gate.flow
    flow.on_scan(slip.token)
    flow.tap_match(1)
    flow.count_open(2)
    for key in str(counted):
        flow.count_key(key)
    flow.count_done()
    assert flow.checklist is not None and flow.checklist.status(2) == ("short" if counted < 2 else "extra")
    flow.release()
    assert flow.state == "checklist"  # release is not possible with a difference
    flow.refuse_open()
    assert flow.state == "refusing"
    flow.refuse("物品数量不符")
    assert flow.state == "done" and flow.decision is not None and flow.decision.outcome == "refused"
    if mode == "offline":
        gate.switch.down = False  # type: ignore[union-attr]
        gate.link.upload()
    db.expire_all()
    record = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert record is not None and record.outcome == "refused" and record.guard == "张保安"
    assert f"实点 {counted}" in record.reason and "物品数量不符" in record.reason
    assert record.offline == (mode == "offline")


def test_release_online_is_logged_with_guard_and_time(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], db: Session
) -> None:
    slip = slip_maker()
    gate = ready_gate(make_gate("东门"), "online")
    gate.flow.on_scan(slip.token)
    count_everything(gate)
    before = issuing.utcnow()
    gate.flow.release()
    assert gate.flow.decision is not None and gate.flow.decision.outcome == "released"
    db.expire_all()
    record = db.scalar(select(SlipRelease).where(SlipRelease.slip_id == slip.id))
    assert record is not None and record.outcome == "released" and record.guard == "张保安" and record.gate == "东门"
    assert before - timedelta(seconds=1) <= record.at <= issuing.utcnow()
    assert gate.link.queue_length() == 0


# --- manual entry --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
def test_manual_entry_of_the_slip_number(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip], mode: str
) -> None:
    slip = slip_maker()
    gate = ready_gate(make_gate(), mode)
    flow = gate.flow
    flow.manual_open()
    assert flow.state == "manual"
    for key in str(slip.seq):  # the sequence alone names today's slip
        flow.manual_key(key)
    assert flow.manual_number() == slip.number
    flow.manual_submit()
    assert flow.state == "checklist" and flow.verdict is not None and flow.verdict.slip is not None
    assert flow.verdict.slip.number == slip.number and len(flow.verdict.slip.lines) == 2
    count_everything(gate)
    flow.release()
    assert flow.decision is not None and flow.decision.outcome == "released"
    flow.manual_open()
    for key in slip.number.replace("GH-", "").replace("-", ""):  # date and sequence in full
        flow.manual_key(key)
    flow.manual_submit()
    assert flow.state == "rejected" and flow.verdict is not None and flow.verdict.code == "already_released"
    flow.manual_open()
    for key in "9876":
        flow.manual_key(key)
    flow.manual_submit()
    assert flow.state == "rejected" and flow.verdict is not None and flow.verdict.code == "unknown_slip"


def test_the_slip_just_finished_is_ignored_after_next_while_still_held_up(
    make_gate: Callable[..., Gate], guard: StaffUser, slip_maker: Callable[..., ReleaseSlip]
) -> None:
    """A camera that keeps seeing the slip the guard just released (the demo's looping camera, a resident who has
    not put it away) does not bring it straight back as "放行条已使用" after "继续"; another slip is read at once."""
    slip, other = slip_maker(), slip_maker()
    gate = ready_gate(make_gate("东门"), "online")
    flow = gate.flow
    assert flow.on_scan(slip.token)
    count_everything(gate)
    flow.release()
    flow.next()
    for _ in range(3):  # seen again every scanner debounce window: each sighting keeps it quiet
        gate.clock.advance(QUIET_S - 1)
        assert not flow.on_scan(slip.token) and flow.state == "ready"
    assert flow.repeats_ignored == 3
    assert flow.on_scan(other.token) and flow.state == "checklist"
    flow.next()
    gate.clock.advance(QUIET_S)  # put away, shown again later: the guard is told it was used
    assert flow.on_scan(slip.token) and flow.state == "rejected"
    verdict = flow.verdict
    assert verdict is not None and verdict.code == "already_released"
    flow.next()  # a rejection's slip is quiet after "继续" too
    assert not flow.on_scan(slip.token) and flow.state == "ready"
