"""Records that move through states (WORKFLOWS.md): a process declares its transitions as data — from which states,
to which, the permission a staff member needs, the fields it needs — and `step` applies one: it checks the state,
the permission and the fields, sets the new state, writes the history row and the audit entry."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser, StepHistory
from server.domain import audit, clock, deadlines, workdays
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden
from server.domain.permissions import Perm, allowed


class Record(Protocol):
    id: int
    estate_id: int
    state: Any


@dataclass(frozen=True)
class Transition:
    name: str
    sources: frozenset[str]
    target: str
    perm: Perm | None = None  # None: taken by a device event or by the system, never by a person's button
    needs: tuple[str, ...] = ()  # fields that must be given, non-empty
    starts: deadlines.Clock | None = None  # the clock this step starts: the record's `due_at` is set from it

    def __post_init__(self) -> None:  # states may be given as enum members: kept as their plain values
        object.__setattr__(self, "sources", frozenset(_value(s) for s in self.sources))
        object.__setattr__(self, "target", _value(self.target))


@dataclass(frozen=True)
class Process:
    name: str  # also the audit entity
    states: type[enum.StrEnum]
    transitions: Mapping[str, Transition]

    def __getitem__(self, name: str) -> Transition:
        return self.transitions[name]


def process(name: str, states: type[enum.StrEnum], *transitions: Transition) -> Process:
    return Process(name, states, {t.name: t for t in transitions})


NEW = ""  # the source state of a record's first step


def _value(state: Any) -> str:
    return str(state.value) if isinstance(state, enum.Enum) else str(state or "")


def check(
    flow: Process, record: Record, name: str, *, by: StaffUser | None = None, fields: Mapping[str, object] | None = None
) -> Transition:
    """The transition `name`, if `record` is in a state it starts from, `by` holds its permission and `fields`
    has what it needs; a clear error otherwise. Callers check before they change anything."""
    transition = flow[name]
    before = _value(record.state)
    if before not in transition.sources:
        raise Conflict(
            f"{flow.name} {record.id or ''} 当前为 {before or '新建'}，不能执行 {name}",
            f"{flow.name} {record.id or ''} is {before or 'new'}: {name} is not possible",
            code="wrong_state",
        )
    if transition.perm is not None and (by is None or not allowed(by.role, transition.perm)):
        raise Forbidden(f"{name} 需要权限 {transition.perm.value}", f"{name} needs permission {transition.perm.value}")
    missing = [f for f in transition.needs if (fields or {}).get(f) in (None, "")]
    if missing:
        raise DomainError(
            f"缺少必填项：{', '.join(missing)}", f"missing: {', '.join(missing)}", code="missing_fields", fields=missing
        )
    return transition


def step(
    session: Session,
    actor: Actor,
    flow: Process,
    record: Record,
    name: str,
    at: datetime,
    *,
    by: StaffUser | None = None,
    note: str = "",
    fields: Mapping[str, object] | None = None,
    **detail: Any,
) -> None:
    """Take transition `name` on `record` (which may be new: its state None); `fields` are checked and set on it.
    A transition that starts a clock stores the due time on the record (`due_at`, and `opens_at` when it has one),
    reckoned on the estate's wall clock and working days from `at`."""
    transition = check(flow, record, name, by=by, fields=fields)
    before = _value(record.state)
    given = dict(fields or {})
    for field, value in given.items():
        setattr(record, field, value)
    if transition.starts is not None:
        estate = session.get_one(Estate, record.estate_id)
        window = deadlines.due(transition.starts, at, clock.zone(estate), workdays.estate_calendar(session, estate))
        setattr(record, "due_at", window.at)  # noqa: B010 - a record with a clock has `due_at`, others need not
        if hasattr(record, "opens_at"):
            setattr(record, "opens_at", window.opens)  # noqa: B010
    record.state = flow.states(transition.target)
    session.add(record)
    session.flush()
    session.add(
        StepHistory(
            estate_id=record.estate_id,
            process=flow.name,
            record_id=record.id,
            transition=name,
            from_state=before,
            to_state=transition.target,
            actor=actor.label,
            staff_id=by.id if by is not None else None,
            device_id=actor.device_id,
            note=note,
            at=at,
        )
    )
    audit.record(
        session,
        actor,
        f"{flow.name}.{name}",
        flow.name,
        record.id,
        estate_id=record.estate_id,
        from_state=before,
        to_state=transition.target,
        note=note,
        **detail,
    )
