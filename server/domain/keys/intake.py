"""Taking keys over from contractors: the handover record (R-KEY-1), the 100% acceptance test (R-KEY-2) and the
spot check of at least 10% that the system draws, whose pass rate must be 100% (R-KEY-3)."""

from __future__ import annotations

import math
import random
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db.models import CheckStage, Estate, IntakeState, Key, KeyCheck, KeyIntake, KeySet, StaffUser
from server.domain import workflow
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition

SPOT_SHARE = 0.10  # R-KEY-3: at least 10% of the keys


def _t(name: str, sources: set[str], target: IntakeState, needs: tuple[str, ...] = ()) -> Transition:
    return Transition(name, frozenset(sources), target.value, Perm.keys_manage, needs)


S = IntakeState
INTAKE = workflow.process(
    "key_intake",
    IntakeState,
    _t("receive", {NEW}, S.received, ("contractor", "handed_by")),
    _t("test_passed", {S.received}, S.tested),
    _t("test_failed", {S.received}, S.refused),
    _t("draw_spot_check", {S.tested}, S.spot_check),
    _t("accept", {S.spot_check}, S.accepted),
    _t("refuse", {S.spot_check}, S.refused),
    _t("retest", {S.refused}, S.received),  # the contractor brought the keys back
)


def open_intake(
    session: Session,
    actor: Actor,
    estate: Estate,
    *,
    contractor: str,
    handed_by: str,
    declared_keys: int,
    by: StaffUser,
    at: datetime,
    note: str = "",
) -> KeyIntake:
    """The handover record 钥匙移交记录 (R-KEY-1): which contractor's person handed how many keys to whom."""
    if declared_keys < 1:
        raise DomainError("移交数量至少为 1", "at least one key is handed over", code="bad_count")
    intake = KeyIntake(estate_id=estate.id, received_by_id=by.id, handed_at=at, declared_keys=declared_keys, note=note)
    fields = {"contractor": contractor.strip()[:100], "handed_by": handed_by.strip()[:60]}
    workflow.step(session, actor, INTAKE, intake, "receive", at, by=by, fields=fields, declared_keys=declared_keys)
    return intake


def get_intake(session: Session, estate: Estate, intake_id: int) -> KeyIntake:
    intake = session.get(KeyIntake, intake_id)
    if intake is None or intake.estate_id != estate.id:
        raise NotFound(f"没有移交记录 {intake_id}", f"no key intake {intake_id}", code="unknown_intake")
    return intake


def intake_keys(session: Session, intake: KeyIntake) -> list[Key]:
    return list(session.scalars(select(Key).join(KeySet).where(KeySet.intake_id == intake.id).order_by(Key.id)))


def record_acceptance_test(
    session: Session, actor: Actor, intake: KeyIntake, results: Mapping[int, bool], *, by: StaffUser, at: datetime
) -> KeyIntake:
    """R-KEY-2: every key taken over is tried (100%) and counted against the handover record; one failure sends the
    batch back to the contractor."""
    workflow.check(INTAKE, intake, "test_passed", by=by)
    keys = intake_keys(session, intake)
    if len(keys) != intake.declared_keys:
        raise DomainError(
            f"登记了 {len(keys)} 把钥匙，移交记录为 {intake.declared_keys} 把，数量不符",
            f"{len(keys)} keys registered but the handover record says {intake.declared_keys}",
            code="count_mismatch",
        )
    _check_covers(keys, results, "每一把钥匙都要试用（100%）", "every key must be tried (100%)")
    _write_checks(session, intake, keys, CheckStage.acceptance, results, by, at)
    failed = [k.label for k in keys if not results[k.id]]
    name = "test_failed" if failed else "test_passed"
    workflow.step(session, actor, INTAKE, intake, name, at, by=by, failed=failed, tried=len(keys))
    return intake


def draw_spot_check(
    session: Session, actor: Actor, intake: KeyIntake, *, by: StaffUser, at: datetime, rng: random.Random | None = None
) -> list[Key]:
    """R-KEY-3: the system draws at least 10% of the keys (at least one) at random for the CS admin to try again."""
    workflow.check(INTAKE, intake, "draw_spot_check", by=by)
    keys = intake_keys(session, intake)
    size = max(1, math.ceil(len(keys) * SPOT_SHARE))
    drawn = sorted((rng or random.SystemRandom()).sample(keys, size), key=lambda k: k.id)
    workflow.step(session, actor, INTAKE, intake, "draw_spot_check", at, by=by, drawn=[k.id for k in drawn])
    for key in drawn:
        session.add(KeyCheck(intake_id=intake.id, key_id=key.id, stage=CheckStage.spot))
    session.flush()
    return drawn


def spot_check_keys(session: Session, intake: KeyIntake) -> list[Key]:
    return list(
        session.scalars(
            select(Key)
            .join(KeyCheck, KeyCheck.key_id == Key.id)
            .where(KeyCheck.intake_id == intake.id, KeyCheck.stage == CheckStage.spot)
            .order_by(Key.id)
        )
    )


def record_spot_check(
    session: Session, actor: Actor, intake: KeyIntake, results: Mapping[int, bool], *, by: StaffUser, at: datetime
) -> KeyIntake:
    """R-KEY-3: the drawn keys' results; the batch is accepted only at a 100% pass rate, otherwise refused."""
    workflow.check(INTAKE, intake, "accept", by=by)
    drawn = spot_check_keys(session, intake)
    _check_covers(drawn, results, "抽到的每一把钥匙都要试用", "every drawn key must be tried")
    _write_checks(session, intake, drawn, CheckStage.spot, results, by, at)
    failed = [k.label for k in drawn if not results[k.id]]
    name = "refuse" if failed else "accept"
    workflow.step(session, actor, INTAKE, intake, name, at, by=by, failed=failed, tried=len(drawn))
    return intake


def retest(session: Session, actor: Actor, intake: KeyIntake, *, by: StaffUser, at: datetime, note: str) -> KeyIntake:
    """A refused batch the contractor brought back is tested from the start (the old results stay in the audit)."""
    workflow.step(session, actor, INTAKE, intake, "retest", at, by=by, note=note)
    session.execute(delete(KeyCheck).where(KeyCheck.intake_id == intake.id))
    return intake


def _check_covers(keys: list[Key], results: Mapping[int, bool], zh: str, en: str) -> None:
    wanted = {k.id for k in keys}
    if set(results) != wanted:
        missing = sorted(wanted - set(results))
        extra = sorted(set(results) - wanted)
        raise DomainError(
            f"{zh}（缺 {missing}，多 {extra}）",
            f"{en} (missing {missing}, not in it {extra})",
            code="checks_incomplete",
            missing=missing,
            extra=extra,
        )


def _write_checks(
    session: Session,
    intake: KeyIntake,
    keys: list[Key],
    stage: CheckStage,
    results: Mapping[int, bool],
    by: StaffUser,
    at: datetime,
) -> None:
    existing = {
        c.key_id: c
        for c in session.scalars(select(KeyCheck).where(KeyCheck.intake_id == intake.id, KeyCheck.stage == stage))
    }
    for key in keys:
        check = existing.get(key.id) or KeyCheck(intake_id=intake.id, key_id=key.id, stage=stage)
        check.passed, check.checked_by_id, check.checked_at = bool(results[key.id]), by.id, at
        session.add(check)
    session.flush()
