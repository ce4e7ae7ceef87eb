"""What the key cabinet reports. Every event goes into the audit trail as `cabinet.<event>` with the time the
cabinet saw it (R-KEY-12: every movement of a key is on record), and the register acts on it:

- `key_removed`: the slot is empty; the key's registered loan goes out (`keys.events.key_removed`), a key taken
  with no loan raises an alarm.
- `key_returned`, and the driver's `key_returned_to_wrong_slot` and `unknown_tag` (which carry the tag read): a key
  is in the slot; back in its home slot it ends its loan, in any other slot it raises a wrong-slot alarm naming the
  right one, an unregistered tag raises an unknown-tag alarm (`keys.events.key_returned`). Where the cabinet reads
  no tag (presence only) the key is taken to be the slot's own.
- `door_opened` with a request id: commanded when the id names an unlock the server authorised for that slot and
  cabinet (the unlock is then used, `keys.unlocks.judge_opening`); any other id is an alert. Without a request id
  it is the plain door record beside the driver's own `door_opened_without_command`, which is the alert.
- the others (`door_opened_without_command`, `door_held_open`, `door_not_opened`, `board_offline`, …) are recorded,
  alerts as the contract lists them (`server.contract.cabinet.ALERTS`).

Whether an event is an alert is the server's judgement, kept in its entry (`alert`) and counted in the answer.
Nothing the cabinet saw is refused or dropped: an event about a board or slot the register does not have, or with a
tag that is not one, is recorded as an alert with the reason. An estate that has registered no boards keeps no key
register yet: its key events are recorded as the cabinet judged them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from server.contract.cabinet import ALERTS, CabinetEventIn
from server.db.base import utcnow
from server.db.models import AlertAcknowledgement, AuditEntry, Device, Estate, KeyBoard, StaffUser
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.keys import events as key_events
from server.domain.keys import unlocks
from server.domain.keys.register import key_at
from server.domain.permissions import Perm, allowed

ACTION_PREFIX = "cabinet."
PUT_BACK = frozenset({"key_returned", "key_returned_to_wrong_slot", "unknown_tag"})
# The register's own entries about keys in the cabinet, shown with the cabinet's events to those who keep keys.
KEY_ACTIONS = ("key.", "key_alarm.", "key_loan.", "key_unlock.")
# How an alert is marked in an entry's detail (audit details are JSON with sorted keys and default separators).
ALERT_MARK = '"alert": true'
# The events `_judge` can judge alerts: the contract's alert kinds, an opening by a request id, and a key taken or put
# back. Any other event (one no driver sent before included) is recorded and never an alert, so the alerts are found
# by these actions over the (estate, action, at) index rather than by reading every entry of the estate.
ALERT_ACTIONS = tuple(sorted(ACTION_PREFIX + e for e in ALERTS | PUT_BACK | {"door_opened", "key_removed"}))
# A person's acknowledgement of an alert: not under `cabinet.`, so it is never taken for a cabinet event.
ACKNOWLEDGE_ACTION = "cabinet_alert.acknowledge"
NOTE_LIMIT = 200


@dataclass
class Judgement:
    """What one event meant: whether a person must look at it, and what the register made of it."""

    alert: bool
    detail: dict[str, Any] = field(default_factory=dict)


def record_events(session: Session, actor: Actor, device: Device, events: list[CabinetEventIn]) -> int:
    """Record each event with the time the cabinet saw it and let the register act on it; returns how many the
    server judges alerts."""
    estate = session.get_one(Estate, device.estate_id)
    keeps_register = session.scalar(select(KeyBoard.id).where(KeyBoard.estate_id == estate.id).limit(1)) is not None
    alerts = 0
    for event in events:
        judged = _judge(session, actor, estate, device, event, keeps_register)
        alerts += judged.alert
        audit.record(
            session,
            actor,
            ACTION_PREFIX + event.event,
            "cabinet_slot",
            f"{device.id}:{event.board}-{event.slot or 0}",
            estate_id=device.estate_id,
            cabinet=device.name,
            board=event.board,
            slot=event.slot,
            seen_at=event.at,
            request_id=event.request_id,
            tag=event.tag,
            reason=event.reason,
            alert=judged.alert,
            **judged.detail,
        )
    return alerts


def _judge(
    session: Session, actor: Actor, estate: Estate, device: Device, event: CabinetEventIn, keeps_register: bool
) -> Judgement:
    if event.event == "door_opened" and event.request_id:
        opening = unlocks.judge_opening(session, device, event.board, event.slot, event.request_id, event.at)
        if opening.commanded:
            assert opening.unlock is not None
            return Judgement(False, {"commanded": True, "loan": opening.unlock.loan_id})
        return Judgement(True, {"commanded": False, "refused": opening.why})
    is_key_event = event.event == "key_removed" or event.event in PUT_BACK
    if not is_key_event or not keeps_register:
        return Judgement(event.event in ALERTS)
    if event.slot is None:
        return Judgement(True, {"refused": "no_slot"})
    try:
        # One savepoint per event: a refusal undoes only what this event began, and the batch goes on.
        with session.begin_nested():
            outcome = _key_event(session, actor, estate, event, event.slot)
    except DomainError as exc:
        return Judgement(True, {"refused": exc.code, "why": exc.en})
    if outcome is None:
        return Judgement(True, {"refused": "unknown_key"})
    detail: dict[str, Any] = {}
    if outcome.key is not None:
        detail["key"] = outcome.key.label
    if outcome.loan is not None:
        detail["loan"] = outcome.loan.id
    if outcome.alarm is not None:
        detail["alarm"] = outcome.alarm.kind.value
        detail["message_en"] = key_events.alarm_text(outcome.alarm, outcome.key, "en")
    return Judgement(outcome.alarm is not None, detail)


def _key_event(
    session: Session, actor: Actor, estate: Estate, event: CabinetEventIn, slot: int
) -> key_events.SlotOutcome | None:
    if event.event == "key_removed":
        return key_events.key_removed(session, estate, event.board, slot, event.at, actor=actor)
    tag = event.tag
    if not tag:  # presence only: the key put back is taken to be the slot's own
        own = key_at(session, estate, event.board, slot)
        if own is None:
            return None
        tag = own.tag
    return key_events.key_returned(session, estate, event.board, slot, tag, event.at, actor=actor)


def alert_condition(estate_id: int, since: datetime | None = None) -> ColumnElement[bool]:
    """The audit entries of cabinet events the server judged alerts (since `since`): what the dashboard counts and
    the cabinet's event page lists with `alerts=1`."""
    condition = and_(
        AuditEntry.estate_id == estate_id,
        AuditEntry.action.in_(ALERT_ACTIONS),
        AuditEntry.detail.contains(ALERT_MARK, autoescape=True),
    )
    return condition if since is None else and_(condition, AuditEntry.at >= since)


def acknowledged() -> ColumnElement[bool]:
    """Whether an audit entry (a cabinet alert) has been acknowledged: EXISTS on its acknowledgement (unique by
    entry); `~acknowledged()` is NOT EXISTS, the alerts still open."""
    return exists().where(AlertAcknowledgement.entry_seq == AuditEntry.seq)


def open_alert_condition(estate_id: int) -> ColumnElement[bool]:
    """The estate's cabinet alerts of any age that nobody has acknowledged: the dashboard's open alerts, and the
    event page's `alerts=1&ack=0`."""
    return and_(alert_condition(estate_id), ~acknowledged())


def is_alert(entry: AuditEntry) -> bool:
    """An entry of a cabinet event the server judged an alert (what `alert_condition` selects in SQL)."""
    return entry.action in ALERT_ACTIONS and ALERT_MARK in (entry.detail or "")


def acknowledge_alert(
    session: Session, actor: Actor, estate: Estate, seq: int, *, by: StaffUser, note: str, now: datetime
) -> AlertAcknowledgement:
    """The records admin who keeps the keys (`keys.manage`) has looked at a cabinet alert of this estate and writes
    what they found or did (R-KEY-12: every movement of a key is on record, and so is who answered an alert). An
    alert is acknowledged once; anything else (another estate's entry, an entry that is no cabinet alert, an empty
    or too long note, a role that does not keep the keys) is refused and changes nothing."""
    if not allowed(by.role, Perm.keys_manage):
        raise Forbidden(
            "只有钥匙管理员可以确认钥匙柜告警", "only the keeper of the keys may acknowledge a cabinet alert"
        )
    text = note.strip()
    if not text:
        raise DomainError("请写明查看结果和处理情况", "write what you found and what was done", code="missing_fields")
    if len(text) > NOTE_LIMIT:
        raise DomainError(
            f"处理情况最多 {NOTE_LIMIT} 字", f"the note is at most {NOTE_LIMIT} characters", code="too_long"
        )
    entry = session.get(AuditEntry, seq)
    if entry is None or entry.estate_id != estate.id:
        raise NotFound("本小区没有这条钥匙柜记录", "no such cabinet record in this estate", code="unknown_event")
    if not is_alert(entry):
        raise DomainError(
            "这条记录不是钥匙柜告警，无需确认",
            "this record is not a cabinet alert: there is nothing to acknowledge",
            code="not_an_alert",
        )
    done = session.scalar(select(AlertAcknowledgement).where(AlertAcknowledgement.entry_seq == entry.seq))
    if done is not None:
        raise Conflict(
            f"这条告警已由{done.by_name}确认",
            f"this alert was already acknowledged by {done.by_name}",
            code="already_acknowledged",
        )
    ack = AlertAcknowledgement(
        estate_id=estate.id, entry_seq=entry.seq, by_id=by.id, by_name=by.display_name, at=now, note=text
    )
    session.add(ack)
    audit.record(
        session,
        actor,
        ACKNOWLEDGE_ACTION,
        "cabinet_alert",
        entry.seq,
        estate_id=estate.id,
        alert_action=entry.action,
        alert_at=entry.at,
        note=text,
    )
    return ack


def acknowledgements(session: Session, seqs: list[int]) -> dict[int, AlertAcknowledgement]:
    """The acknowledgements of these entries, by entry."""
    if not seqs:
        return {}
    found = session.scalars(select(AlertAcknowledgement).where(AlertAcknowledgement.entry_seq.in_(seqs)))
    return {a.entry_seq: a for a in found}


def _alert_entries(estate_id: int) -> Select[int]:
    return select(func.count()).select_from(AuditEntry).where(alert_condition(estate_id))


def alerts_since(session: Session, estate_id: int, hours: int = 24, now: datetime | None = None) -> int:
    """Cabinet events the server judged alerts, recorded for an estate in the last `hours`."""
    since = (now or utcnow()) - timedelta(hours=hours)
    return session.scalar(_alert_entries(estate_id).where(AuditEntry.at >= since)) or 0


def event_log(viewer: StaffUser, estate: Estate, *, alerts_only: bool = False) -> Select[AuditEntry]:
    """The cabinet's events and the register's key entries (keys moved, alarms, loans, unlocks) of an estate,
    newest first: what the staff who keep and lend keys see (`keys.view`: the records admin who keeps the cabinet,
    R-KEY-1…4, and the desk and engineering who lend, R-KEY-12), without the rest of the audit log."""
    if not allowed(viewer.role, Perm.keys_view):
        raise Forbidden("您的角色无权查看钥匙柜记录", "your role may not see the key cabinet's records")
    actions = [AuditEntry.action.startswith(p, autoescape=True) for p in (ACTION_PREFIX, *KEY_ACTIONS)]
    query = select(AuditEntry).where(AuditEntry.estate_id == estate.id, or_(*actions))
    if alerts_only:
        query = query.where(AuditEntry.detail.contains(ALERT_MARK, autoescape=True))
    return query.order_by(AuditEntry.seq.desc())
