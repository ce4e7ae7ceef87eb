"""Requests to cut a copy of a key. Public door and plant-room keys are copied only with the general manager's
approval (R-KEY-11); a unit's keys with the key manager's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.db.models import DuplicationState, Estate, KeyDuplication, KeyGroup, KeySet, StaffUser
from server.domain import workflow
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.keys.register import get_key
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition

D = DuplicationState
GM = Perm.keys_approve_duplication
DUPLICATION = workflow.process(
    "key_duplication",
    DuplicationState,
    Transition("request", frozenset({NEW}), D.requested, Perm.keys_manage, ("reason",)),
    Transition("approve", frozenset({D.requested}), D.approved, GM),  # R-KEY-11
    Transition("refuse", frozenset({D.requested}), D.refused, GM),
    Transition("approve_unit_key", frozenset({D.requested}), D.approved, Perm.keys_manage),
    Transition("refuse_unit_key", frozenset({D.requested}), D.refused, Perm.keys_manage),
)
NEEDS_GENERAL_MANAGER = (KeyGroup.public_door, KeyGroup.plant_room)


def request_duplication(
    session: Session, actor: Actor, estate: Estate, key_id: int, reason: str, *, by: StaffUser, now: datetime
) -> KeyDuplication:
    key = get_key(session, estate, key_id)
    request = KeyDuplication(estate_id=estate.id, key_id=key.id, requested_by_id=by.id, requested_at=now)
    workflow.step(
        session,
        actor,
        DUPLICATION,
        request,
        "request",
        now,
        by=by,
        fields={"reason": reason.strip()[:200]},
        key=key.label,
    )
    return request


def get_request(session: Session, estate: Estate, request_id: int) -> KeyDuplication:
    request = session.get(KeyDuplication, request_id)
    if request is None or request.estate_id != estate.id:
        raise NotFound(f"没有配钥匙申请 {request_id}", f"no duplication request {request_id}", code="unknown_request")
    return request


def decide(
    session: Session,
    actor: Actor,
    request: KeyDuplication,
    *,
    approve: bool,
    by: StaffUser,
    now: datetime,
    note: str = "",
) -> KeyDuplication:
    """Approve or refuse; for a public-door or plant-room key only the general manager may (R-KEY-11)."""
    estate = session.get_one(Estate, request.estate_id)
    key = get_key(session, estate, request.key_id)
    gm_only = session.get_one(KeySet, key.set_id).opens in NEEDS_GENERAL_MANAGER
    name = ("approve" if approve else "refuse") + ("" if gm_only else "_unit_key")
    try:
        workflow.check(DUPLICATION, request, name, by=by)
    except DomainError as refused:
        if gm_only and refused.status == 403:
            raise DomainError(
                "公共门窗和设备房钥匙未经总经理同意不得配制",
                "public door and plant-room keys are copied only with the general manager's approval",
                code="needs_general_manager",
                status=403,
            ) from None
        raise
    workflow.step(
        session,
        actor,
        DUPLICATION,
        request,
        name,
        now,
        by=by,
        note=note,
        fields={"decided_by_id": by.id, "decided_at": now},
        key=key.label,
    )
    return request
