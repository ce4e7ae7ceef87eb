"""Vacant units 《空置房管理规定》 (R-VAC-1…4): engineering's takeover inspection of a unit the developer hands over,
item by item, failures agreed with the developer and the pass signed on 《物业接管验收表》 (R-VAC-1); patrols of the
same items, a warranty defect reported to the developer and any other problem sent to engineering as a repair
order (R-VAC-2); cleaning rounds (R-VAC-3); sales viewings lent through the key register (R-VAC-4). A unit is vacant
from its signed takeover until its owner's move-in is filed. What goes to the developer — a failure agreed at the
signed takeover, a warranty defect found on a patrol — is tracked to completion as a developer repair
(server.domain.lifecycle.developer_repairs)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import (
    BorrowerKind,
    Channel,
    Estate,
    Key,
    KeyGroup,
    KeyLoan,
    KeySet,
    LoanPurpose,
    ServiceKind,
    StaffUser,
    StepHistory,
    Unit,
)
from server.db.models.lifecycle import (
    Meter,
    MoveIn,
    MoveInState,
    PatrolFinding,
    TakeoverCategory,
    TakeoverInspection,
    TakeoverItem,
    TakeoverState,
    Vacancy,
    VacantCleaning,
    VacantPatrol,
)
from server.domain import audit, clock, numbering, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.keys import loans
from server.domain.lifecycle import developer_repairs, meters
from server.domain.lifecycle.processes import TAKEOVER
from server.domain.service import intake
from server.domain.service.signatures import resident_signature

NUMBER_KIND = "JS"  # 接收
CATEGORIES: dict[TakeoverCategory, tuple[str, str]] = {
    TakeoverCategory.structure: ("主体结构", "Structure"),
    TakeoverCategory.roof_floor: ("屋面与地面", "Roof and floor"),
    TakeoverCategory.decoration: ("装修", "Decoration"),
    TakeoverCategory.electrical: ("电气", "Electrical"),
    TakeoverCategory.water: ("水系统", "Water"),
    TakeoverCategory.fire: ("消防", "Fire safety"),
    TakeoverCategory.bathroom: ("卫生间", "Bathroom"),
    TakeoverCategory.ancillary: ("附属工程", "Ancillary works"),
}
# R-VAC-3: what a cleaning round covers.
CLEANING: dict[str, tuple[str, str]] = {
    "ceilings": ("天面", "Ceilings"),
    "floors": ("地板", "Floors"),
    "walls": ("墙面及设施", "Walls and fittings"),
    "bathroom": ("卫生间", "Bathroom"),
    "windows": ("窗户", "Windows"),
    "airing": ("透换空气", "Airing"),
}
VIEWING_HOURS = 2


def category(text: str) -> TakeoverCategory:
    try:
        return TakeoverCategory(text.strip())
    except ValueError:
        raise DomainError(f"没有检查项目 {text!r}", f"no inspection item {text!r}", code="bad_item") from None


# --- the takeover inspection (R-VAC-1) -------------------------------------------------------------------------------


def get_takeover(session: Session, estate: Estate, takeover_id: int) -> TakeoverInspection:
    found = session.get(TakeoverInspection, takeover_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这份接管验收表", "no such takeover inspection", code="unknown_takeover")
    return found


def takeovers(session: Session, estate: Estate) -> list[TakeoverInspection]:
    return list(
        session.scalars(
            select(TakeoverInspection)
            .where(TakeoverInspection.estate_id == estate.id)
            .order_by(TakeoverInspection.id.desc())
        )
    )


def open_takeover(
    session: Session,
    actor: Actor,
    estate: Estate,
    *,
    unit_id: int,
    developer: str,
    developer_rep: str,
    by: StaffUser,
    now: datetime,
) -> TakeoverInspection:
    """A unit handed over by the developer, to be inspected item by item."""
    unit = intake.unit_of(session, estate, unit_id)
    existing = session.scalar(select(TakeoverInspection).where(TakeoverInspection.unit_id == unit.id).limit(1))
    if existing is not None:
        raise Conflict(
            f"{unit.code} 已有接管验收表 {existing.number}",
            f"{unit.code} already has takeover {existing.number}",
            code="takeover_exists",
        )
    takeover = TakeoverInspection(
        estate_id=estate.id,
        unit_id=unit.id,
        developer_rep=developer_rep.strip()[:60],
        inspector_id=by.id,
        opened_at=now,
        number=numbering.next_number(session, estate, NUMBER_KIND, clock.local_day(estate, now)),
        items=[TakeoverItem(category=c) for c in TakeoverCategory],
    )
    workflow.step(
        session,
        actor,
        TAKEOVER,
        takeover,
        "open",
        now,
        by=by,
        fields={"developer": developer.strip()[:100]},
        unit=unit.code,
    )
    return takeover


@dataclass(frozen=True)
class ItemResult:
    passed: bool
    defect: str = ""
    agreement: str = ""  # what was agreed with the developer about a failure (the repair, by when)


def record_items(
    session: Session,
    actor: Actor,
    takeover: TakeoverInspection,
    results: Mapping[TakeoverCategory, ItemResult],
    *,
    by: StaffUser,
    now: datetime,
) -> TakeoverInspection:
    """Items inspected (again, if need be): a failure names its defect; its agreement may follow later."""
    workflow.check(TAKEOVER, takeover, "record", by=by)
    vague = [c.value for c, r in results.items() if not r.passed and not r.defect.strip()]
    if vague:
        raise DomainError("不合格项须写明问题", "a failed item names its defect", code="missing_fields", fields=vague)
    for item in takeover.items:
        result = results.get(item.category)
        if result is not None:
            item.passed = result.passed
            item.defect = "" if result.passed else result.defect.strip()[:200]
            item.agreement = "" if result.passed else result.agreement.strip()[:200]
    failed = [c.value for c, r in results.items() if not r.passed]
    workflow.step(session, actor, TAKEOVER, takeover, "record", now, by=by, failed=failed)
    return takeover


@dataclass(frozen=True)
class TakeoverSigning:
    engineering_signature: str  # the head of engineering
    developer_signature: str  # the developer's (or the managing party's) representative
    water: str = ""  # the meters at the takeover, when read: the baseline later readings are checked against
    electricity: str = ""


def sign_takeover(
    session: Session,
    actor: Actor,
    estate: Estate,
    takeover: TakeoverInspection,
    signing: TakeoverSigning,
    *,
    by: StaffUser,
    now: datetime,
    repair_days: int = developer_repairs.REPAIR_DAYS,
) -> TakeoverInspection:
    """R-VAC-1: signed only when every item is inspected and every failure is agreed with the developer; the unit
    is then a vacant unit, and each agreed failure a developer repair with `repair_days` working days."""
    workflow.check(
        TAKEOVER,
        takeover,
        "sign",
        by=by,
        fields={"engineering_signature": "x", "developer_signature": "x", "signed_at": now},
    )
    pending = [i.category.value for i in takeover.items if i.passed is None]
    if pending:
        raise DomainError(
            f"还有未验项目：{'、'.join(CATEGORIES[TakeoverCategory(c)][0] for c in pending)}",
            f"items not inspected: {', '.join(pending)}",
            code="items_not_inspected",
            fields=pending,
        )
    unagreed = [i.category.value for i in takeover.items if i.passed is False and not i.agreement.strip()]
    if unagreed:
        raise DomainError(
            f"不合格项未与发展商商定维修：{'、'.join(CATEGORIES[TakeoverCategory(c)][0] for c in unagreed)}",
            f"failed items not agreed with the developer: {', '.join(unagreed)}",
            code="failures_not_agreed",
            fields=unagreed,
        )
    signatures = {
        "engineering_signature": _signature(signing.engineering_signature, "工程部负责人", "the head of engineering"),
        "developer_signature": _signature(signing.developer_signature, "发展商代表", "the developer's representative"),
        "signed_at": now,
    }
    unit = session.get_one(Unit, takeover.unit_id)
    readings = {
        m: meters.parse(m, t)
        for m, t in ((Meter.water, signing.water), (Meter.electricity, signing.electricity))
        if t.strip()
    }
    for meter, milli in readings.items():
        meters.check(session, unit, meter, milli)
    for meter, milli in readings.items():
        meters.record(session, actor, unit, meter, milli, source="takeover", at=now)
    workflow.step(session, actor, TAKEOVER, takeover, "sign", now, by=by, fields=signatures)
    for item in takeover.items:
        if item.passed is False:
            developer_repairs.report(
                session,
                actor,
                estate,
                unit,
                category=item.category,
                description=f"{item.defect}（约定：{item.agreement}）"[:200],
                developer=takeover.developer,
                by=by,
                now=now,
                days=repair_days,
                takeover_item_id=item.id,
            )
    moved_in = session.scalar(
        select(MoveIn.id).where(MoveIn.unit_id == unit.id, MoveIn.state == MoveInState.filed).limit(1)
    )
    if moved_in is None:
        session.add(
            Vacancy(
                estate_id=estate.id, unit_id=unit.id, takeover_id=takeover.id, starts_on=clock.local_day(estate, now)
            )
        )
    return takeover


def _signature(data_url: str, zh: str, en: str) -> str:
    if not data_url.strip():
        raise DomainError(f"请{zh}签名", f"{en} signs", code="missing_fields")
    return resident_signature(data_url)


# --- vacant units -----------------------------------------------------------------------------------------------------


def vacancy_of(session: Session, unit: Unit) -> Vacancy | None:
    return session.scalar(select(Vacancy).where(Vacancy.unit_id == unit.id, Vacancy.ends_on.is_(None)).limit(1))


def vacant_units(session: Session, estate: Estate) -> list[tuple[Vacancy, Unit]]:
    found = session.execute(
        select(Vacancy, Unit)
        .join(Unit, Vacancy.unit_id == Unit.id)
        .where(Vacancy.estate_id == estate.id, Vacancy.ends_on.is_(None))
        .order_by(Unit.code)
    )
    return [(v, u) for v, u in found.all()]


def vacant_unit(session: Session, estate: Estate, unit_id: int) -> Unit:
    """Unit `unit_id` of the estate, if it is vacant now."""
    unit = intake.unit_of(session, estate, unit_id)
    if vacancy_of(session, unit) is None:
        raise Conflict(f"{unit.code} 不是空置房", f"{unit.code} is not a vacant unit", code="not_vacant")
    return unit


@dataclass(frozen=True)
class Finding:
    category: TakeoverCategory
    description: str
    warranty: bool  # within the developer's warranty


def patrol(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    findings: Sequence[Finding],
    *,
    by: StaffUser,
    now: datetime,
    note: str = "",
    repair_days: int = developer_repairs.REPAIR_DAYS,
) -> VacantPatrol:
    """R-VAC-2: a patrol of a vacant unit. A warranty defect is reported to the developer as a developer repair with
    `repair_days` working days; any other problem becomes a repair order to engineering, on the paid-service
    tracking sheet like every other."""
    vacant_unit(session, estate, unit.id)
    if any(not f.description.strip() for f in findings):
        raise DomainError("巡查发现须写明问题", "a finding names the problem", code="missing_fields")
    visit = VacantPatrol(estate_id=estate.id, unit_id=unit.id, patrolled_at=now, by_id=by.id, note=note.strip()[:200])
    session.add(visit)
    session.flush()
    for finding in findings:
        row = PatrolFinding(
            category=finding.category, description=finding.description.strip()[:200], warranty=finding.warranty
        )
        if finding.warranty:
            row.developer_notified_at = now
        else:
            request = intake.OrderRequest(
                ServiceKind.repair,
                Channel.department,
                unit.id,
                f"空置房巡查 {by.display_name}"[:60],
                category=CATEGORIES[finding.category][0],
                description=finding.description.strip(),
                paid=False,
            )
            row.repair_order_id = intake.open_order(session, actor, estate, request, now, note="空置房巡查").id
        visit.findings.append(row)
    session.flush()
    developer = _developer_of(session, unit)
    for row in visit.findings:
        if row.warranty:
            developer_repairs.report(
                session,
                actor,
                estate,
                unit,
                category=row.category,
                description=row.description,
                developer=developer,
                by=by,
                now=now,
                days=repair_days,
                patrol_finding_id=row.id,
            )
    audit.record(
        session,
        actor,
        "vacancy.patrol",
        "vacant_patrol",
        visit.id,
        estate_id=estate.id,
        unit=unit.code,
        to_developer=sum(f.warranty for f in findings),
        repairs=sum(not f.warranty for f in findings),
    )
    return visit


def _developer_of(session: Session, unit: Unit) -> str:
    """The developer who handed the unit over, as its takeover form names them."""
    found = session.scalar(
        select(TakeoverInspection.developer)
        .where(TakeoverInspection.unit_id == unit.id)
        .order_by(TakeoverInspection.id)
    )
    return found or ""


def clean(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    parts: Sequence[str],
    *,
    by: StaffUser,
    now: datetime,
    note: str = "",
) -> VacantCleaning:
    """R-VAC-3: a cleaning round covers the whole checklist, airing included."""
    vacant_unit(session, estate, unit.id)
    left = [c for c in CLEANING if c not in parts]
    if left:
        raise DomainError(
            f"清洁还缺：{'、'.join(CLEANING[c][0] for c in left)}",
            f"the round still lacks: {', '.join(CLEANING[c][1] for c in left)}",
            code="cleaning_incomplete",
            fields=left,
        )
    round_ = VacantCleaning(
        estate_id=estate.id,
        unit_id=unit.id,
        cleaned_at=now,
        by_id=by.id,
        parts=",".join(CLEANING),
        note=note.strip()[:200],
    )
    session.add(round_)
    session.flush()
    audit.record(session, actor, "vacancy.clean", "vacant_cleaning", round_.id, estate_id=estate.id, unit=unit.code)
    return round_


def patrols_of(session: Session, unit: Unit) -> list[VacantPatrol]:
    return list(
        session.scalars(select(VacantPatrol).where(VacantPatrol.unit_id == unit.id).order_by(VacantPatrol.id.desc()))
    )


def cleanings_of(session: Session, unit: Unit) -> list[VacantCleaning]:
    return list(
        session.scalars(
            select(VacantCleaning).where(VacantCleaning.unit_id == unit.id).order_by(VacantCleaning.id.desc())
        )
    )


# --- sales viewings (R-VAC-4) -----------------------------------------------------------------------------------------


def unit_keys(session: Session, unit: Unit) -> list[Key]:
    return list(
        session.scalars(
            select(Key)
            .join(KeySet, Key.set_id == KeySet.id)
            .where(KeySet.unit_id == unit.id, KeySet.opens == KeyGroup.unit, Key.handed_over_at.is_(None))
            .order_by(Key.id)
        )
    )


def viewings_of(session: Session, unit: Unit) -> list[KeyLoan]:
    return list(
        session.scalars(
            select(KeyLoan)
            .join(Key, KeyLoan.key_id == Key.id)
            .join(KeySet, Key.set_id == KeySet.id)
            .where(KeySet.unit_id == unit.id, KeyLoan.purpose == LoanPurpose.sales_viewing)
            .order_by(KeyLoan.id.desc())
        )
    )


def lend_for_viewing(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    *,
    key_id: int,
    keeper: StaffUser,
    visitor: str,
    by: StaffUser,
    now: datetime,
) -> KeyLoan:
    """R-VAC-4: the sales office shows a vacant unit: the unit keeper takes the key and goes along, and the loan is
    a line of the key loan register with the sales party named; back within the viewing's hours."""
    vacant_unit(session, estate, unit.id)
    if key_id not in {k.id for k in unit_keys(session, unit)}:
        raise DomainError("请选择这套房的钥匙", "choose a key of this unit", code="bad_key")
    if not visitor.strip():
        raise DomainError(
            "请填写售楼处看房人", "name the sales party viewing", code="missing_fields", fields=["visitor"]
        )
    borrower = loans.Borrower(BorrowerKind.staff, staff=keeper)
    return loans.lend(
        session,
        actor,
        estate,
        key_id=key_id,
        purpose=LoanPurpose.sales_viewing.value,
        borrower=borrower,
        by=by,
        now=now,
        due_at=now + timedelta(hours=VIEWING_HOURS),
        accompanied_by=keeper,
        note=f"售楼看房：{visitor.strip()}"[:200],
    )


def takeover_history(session: Session, takeover: TakeoverInspection) -> list[StepHistory]:
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == TAKEOVER.name, StepHistory.record_id == takeover.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )


def signed(takeover: TakeoverInspection) -> bool:
    return takeover.state == TakeoverState.signed
