"""The move-in desk (入伙办理, R-MOVE), one owner at a time in the manual's order: a queue ticket (first come, first
served); the move-in notice 《入伙通知书》 and the ID checked, ID copies ×2 and a bank-book copy ×1 kept; the
documents signed on the pad and 1-inch photos ×3 per family member kept; fees by the fee list 《入伙费用一览表》,
counted aloud with the change worked out and a receipt; the move-in pack handed over; the unit walked with the
unit facilities acceptance form 《单元设施验收确认表》, its failed lines the rectification items, the water and
electricity meters read, the owner signing; keys signed for through the key register (never without the fee
recorded), one door key kept for rectification with a receipt; the file steps. Each step checks everything before
it changes anything."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    BorrowerKind,
    Estate,
    Key,
    KeyGroup,
    KeyLoan,
    KeySet,
    LoanPurpose,
    Occupancy,
    OccupancyKind,
    Person,
    StaffUser,
    StepHistory,
    Unit,
)
from server.db.models.lifecycle import FacilityCheck, Meter, MoveIn, MoveInFee, MoveInState, ScanKind, Vacancy
from server.domain import clock, numbering, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.keys import loans, rectification
from server.domain.lifecycle import meters
from server.domain.lifecycle import move_in_fees as fee_list
from server.domain.lifecycle import move_in_scans as scans
from server.domain.lifecycle.processes import MOVE_IN
from server.domain.service.intake import unit_of
from server.domain.service.signatures import resident_signature

NUMBER_KIND = "RH"  # 入伙
# The documents the owner signs (R-MOVE), in the pack's order: code → (Chinese, English).
DOCUMENTS: dict[str, tuple[str, str]] = {
    "covenant": ("《业主公约》签约页", "Owner covenant (signing page)"),
    "fire_pledge": ("《区域防火责任书》", "Fire-safety pledge"),
    "acceptance": ("《收楼声明书》", "Acceptance declaration"),
    "bank_debit": ("《委托银行代收费合同》", "Bank-debit contract"),
    "registration": ("《业主情况登记表》", "Owner registration form"),
}
# The move-in pack handed over (R-MOVE).
PACK: dict[str, tuple[str, str]] = {
    "covenant": ("《业主公约》", "Owner covenant"),
    "fire_pledge": ("《区域防火责任书》", "Fire-safety pledge"),
    "manual": ("《住宅使用说明书及质量保证书》", "Home manual and quality guarantee"),
    "renovation_guide": ("《装修指南》", "Renovation guide"),
    "drawings": ("单元图纸", "Unit drawings"),
    "service_card": ("《社区服务中心服务联络卡》", "Service contact card"),
    "declaration": ("《住户宣言》", "Residents' declaration"),
}
# The fee list 《入伙费用一览表》 an estate starts with; each estate keeps its own (`move_in_fees.items`).
FEES = fee_list.DEFAULT_FEES
# The unit facilities acceptance form 《单元设施验收确认表》: its lines.
FACILITIES: dict[str, tuple[str, str]] = {
    "doors": ("门（入户门、室内门）", "Doors"),
    "windows": ("窗及玻璃", "Windows and glass"),
    "walls": ("墙面、天花", "Walls and ceilings"),
    "floors": ("地面", "Floors"),
    "electrical": ("电气、开关插座", "Electrics, switches, sockets"),
    "plumbing": ("给排水、洁具", "Plumbing and sanitary ware"),
    "intercom": ("对讲、门铃", "Intercom and doorbell"),
    "balcony": ("阳台、栏杆", "Balcony and railings"),
}
ID_COPIES, BANK_COPIES, PHOTOS_EACH = scans.ID_COPIES, scans.BANK_COPIES, 3
OPEN = (
    MoveInState.queued,
    MoveInState.checked,
    MoveInState.signed,
    MoveInState.paid,
    MoveInState.pack_handed,
    MoveInState.inspected,
    MoveInState.keys_issued,
)
UNPAID = (MoveInState.queued, MoveInState.checked, MoveInState.signed)


def get(session: Session, estate: Estate, move_in_id: int) -> MoveIn:
    found = session.get(MoveIn, move_in_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound("没有这条入伙记录", "no such move-in", code="unknown_move_in")
    return found


def history(session: Session, move_in: MoveIn) -> list[StepHistory]:
    return list(
        session.scalars(
            select(StepHistory)
            .where(StepHistory.process == MOVE_IN.name, StepHistory.record_id == move_in.id)
            .order_by(StepHistory.at, StepHistory.id)
        )
    )


def still_queued() -> ColumnElement[bool]:
    """A move-in not done with yet: neither filed nor cancelled."""
    return MoveIn.state.not_in((MoveInState.filed, MoveInState.cancelled))


def queue_of(session: Session, estate: Estate, now: datetime, *, open_only: bool = False) -> list[MoveIn]:
    """The day's move-ins by ticket: those waiting and those under way (and, unless `open_only`, those filed or
    cancelled today; `open_only` is the dashboard's move-in queue)."""
    query = select(MoveIn).where(MoveIn.estate_id == estate.id, MoveIn.queued_on == clock.today(estate, now))
    if open_only:
        query = query.where(still_queued())
    return list(session.scalars(query.order_by(MoveIn.ticket)))


def move_ins(session: Session, estate: Estate) -> list[MoveIn]:
    return list(session.scalars(select(MoveIn).where(MoveIn.estate_id == estate.id).order_by(MoveIn.id.desc())))


def owners_of(session: Session, unit: Unit) -> list[Person]:
    """The unit's owners on the registry (the move-in notice names one of them)."""
    return list(
        session.scalars(
            select(Person)
            .join(Occupancy, Occupancy.person_id == Person.id)
            .where(Occupancy.unit_id == unit.id, Occupancy.kind == OccupancyKind.owner, Occupancy.ends_on.is_(None))
            .order_by(Person.name)
        )
    )


def _missing(fields: Sequence[str], zh: str, en: str) -> DomainError:
    return DomainError(zh, en, code="missing_fields", fields=list(fields))


# --- 1 the queue ----------------------------------------------------------------------------------------------------


def queue(
    session: Session, actor: Actor, estate: Estate, *, unit_id: int, owner_id: int, by: StaffUser, now: datetime
) -> MoveIn:
    """An owner signs in at the desk and takes the day's next ticket (R-MOVE: first come, first served)."""
    unit = unit_of(session, estate, unit_id)
    owner = session.get(Person, owner_id)
    if owner is None or owner.id not in {p.id for p in owners_of(session, unit)}:
        raise DomainError("这位不是该房的业主", "this person does not own the unit", code="not_owner", status=403)
    earlier = session.scalar(select(MoveIn).where(MoveIn.unit_id == unit.id, MoveIn.state != MoveInState.cancelled))
    if earlier is not None:
        raise Conflict(
            f"{unit.code} 已有入伙记录 {earlier.number}",
            f"{unit.code} already has move-in {earlier.number}",
            code="move_in_exists",
        )
    day = clock.today(estate, now)
    last = session.scalar(select(func.max(MoveIn.ticket)).where(MoveIn.estate_id == estate.id, MoveIn.queued_on == day))
    move_in = MoveIn(
        estate_id=estate.id,
        unit_id=unit.id,
        owner_id=owner.id,
        ticket=(last or 0) + 1,
        queued_on=day,
        queued_at=now,
        number=numbering.next_number(session, estate, NUMBER_KIND, day),
        created_by=actor.label,
    )
    workflow.step(session, actor, MOVE_IN, move_in, "queue", now, by=by, unit=unit.code, ticket=move_in.ticket)
    return move_in


# --- 2 the notice, the ID and the copies ----------------------------------------------------------------------------


def check_papers(
    session: Session,
    actor: Actor,
    move_in: MoveIn,
    *,
    notice_no: str,
    id_checked: bool,
    by: StaffUser,
    now: datetime,
) -> MoveIn:
    """The move-in notice and the original ID checked; ID copies ×2 and a bank-book copy ×1 kept, as scans taken
    at the desk (`move_in_scans`). Tickets are served in order: an earlier ticket of the day still waiting goes
    first."""
    workflow.check(MOVE_IN, move_in, "check", by=by, fields={"notice_no": notice_no.strip()})
    waiting = session.scalar(
        select(MoveIn)
        .where(
            MoveIn.estate_id == move_in.estate_id,
            MoveIn.queued_on == move_in.queued_on,
            MoveIn.state == MoveInState.queued,
            MoveIn.ticket < move_in.ticket,
        )
        .order_by(MoveIn.ticket)
        .limit(1)
    )
    if waiting is not None:
        raise Conflict(
            f"请先办理 {waiting.ticket} 号（先来后到）",
            f"ticket {waiting.ticket} is served first (first come, first served)",
            code="not_your_turn",
        )
    if not id_checked:
        raise DomainError("请查验业主身份证或护照原件", "check the owner's original ID", code="id_unchecked")
    kept = scans.counts(session, move_in)
    id_copies, bank_copies = kept[ScanKind.id_copy], kept[ScanKind.bank_book]
    if id_copies < ID_COPIES or bank_copies < BANK_COPIES:
        raise DomainError(
            f"须留存身份证复印件 {ID_COPIES} 份、银行存折复印件 {BANK_COPIES} 份的扫描件"
            f"（现有 {id_copies} 份、{bank_copies} 份）",
            f"scan {ID_COPIES} ID copies and {BANK_COPIES} bank-book copy (there are {id_copies} and {bank_copies})",
            code="copies_missing",
        )
    fields = {"notice_no": notice_no.strip()[:40], "id_copies": id_copies, "bank_copies": bank_copies}
    workflow.step(session, actor, MOVE_IN, move_in, "check", now, by=by, fields=fields)
    return move_in


# --- 3 documents and photos ------------------------------------------------------------------------------------------


def sign_documents(
    session: Session,
    actor: Actor,
    move_in: MoveIn,
    *,
    documents: Sequence[str],
    family_members: int,
    photos: int,
    signature: str,
    by: StaffUser,
    now: datetime,
) -> MoveIn:
    """Every document of the pack signed, and 1-inch photos ×3 for each family member (the owner counted), each
    member's photo also scanned (`move_in_scans`)."""
    workflow.check(MOVE_IN, move_in, "sign", by=by, fields={"documents": "x", "owner_signature": "x"})
    unsigned = [code for code in DOCUMENTS if code not in documents]
    if unsigned:
        names = "、".join(DOCUMENTS[c][0] for c in unsigned)
        raise DomainError(
            f"还有文件未签：{names}",
            f"not yet signed: {', '.join(DOCUMENTS[c][1] for c in unsigned)}",
            code="documents_unsigned",
            fields=unsigned,
        )
    if family_members < 1 or photos < PHOTOS_EACH * family_members:
        raise DomainError(
            f"每位家庭成员须留 1 寸照片 {PHOTOS_EACH} 张（共 {PHOTOS_EACH * max(family_members, 1)} 张）",
            f"{PHOTOS_EACH} one-inch photos for each family member ({PHOTOS_EACH * max(family_members, 1)} in all)",
            code="photos_missing",
        )
    scanned = scans.counts(session, move_in)[ScanKind.family_photo]
    if scanned < family_members:
        raise DomainError(
            f"须扫描每位家庭成员的照片（{family_members} 人，现有 {scanned} 张）",
            f"scan each family member's photo ({family_members} members, {scanned} scanned)",
            code="photos_missing",
        )
    fields = {
        "documents": ",".join(DOCUMENTS),
        "owner_signature": resident_signature(signature),
        "family_members": family_members,
        "photos": photos,
    }
    workflow.step(session, actor, MOVE_IN, move_in, "sign", now, by=by, fields=fields)
    return move_in


# --- 4 fees -----------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Payment:
    lines: Mapping[str, int] | None  # fee code → amount in fen; None: the estate's list with its standard amounts
    tendered_fen: int  # what the owner handed over
    read_back: bool  # the total was read aloud to the owner and confirmed
    receipt_no: str


def change_due(total_fen: int, tendered_fen: int) -> int:
    """The change to give back (R-MOVE: counted aloud, the change worked out again); short payment is refused."""
    if tendered_fen < total_fen:
        raise DomainError(
            f"收款 {tendered_fen / 100:.2f} 元不足应收 {total_fen / 100:.2f} 元",
            f"{tendered_fen / 100:.2f} received is less than the {total_fen / 100:.2f} due",
            code="short_payment",
        )
    return tendered_fen - total_fen


def pay(session: Session, actor: Actor, move_in: MoveIn, payment: Payment, *, by: StaffUser, now: datetime) -> MoveIn:
    """Finance takes the fees by the estate's fee list (its active lines): the total read back to the owner, the
    change worked out, the receipt number recorded — the proof of payment keys are later issued against. The lines
    are kept with their names and amounts as charged, whatever the list later becomes."""
    receipt = payment.receipt_no.strip()[:40]
    workflow.check(MOVE_IN, move_in, "pay", by=by, fields={"fee_receipt_no": receipt})
    estate = session.get_one(Estate, move_in.estate_id)
    lines = fee_list.standard_lines(session, estate) if payment.lines is None else dict(payment.lines)
    names = fee_list.charged_names(session, estate, lines)
    total = sum(lines.values())
    if total <= 0:
        raise DomainError(
            "请按费用一览表填写应收金额", "enter the fees from the fee list", code="missing_fields", fields=["fees"]
        )
    if not payment.read_back:
        raise DomainError(
            "请向业主唱收金额并确认", "read the total back to the owner and confirm it", code="not_read_back"
        )
    change = change_due(total, payment.tendered_fen)
    for code, fen in lines.items():
        if fen:
            zh, en = names[code]
            move_in.fees.append(MoveInFee(code=code, amount_fen=fen, name_zh=zh, name_en=en))
    fields = {
        "fee_receipt_no": receipt,
        "fee_total_fen": total,
        "tendered_fen": payment.tendered_fen,
        "change_fen": change,
    }
    charged = {code: fen for code, fen in lines.items() if fen}
    workflow.step(session, actor, MOVE_IN, move_in, "pay", now, by=by, fields=fields, total_fen=total, lines=charged)
    return move_in


def fee_recorded(move_in: MoveIn) -> bool:
    return move_in.state not in UNPAID and bool(move_in.fee_receipt_no) and move_in.fee_total_fen > 0


# --- 5 the pack -------------------------------------------------------------------------------------------------------


def hand_pack(
    session: Session, actor: Actor, move_in: MoveIn, *, items: Sequence[str], by: StaffUser, now: datetime
) -> MoveIn:
    """The owner signs for the move-in pack 《入伙资料袋》; every item of its checklist is in it."""
    workflow.check(MOVE_IN, move_in, "hand_pack", by=by, fields={"pack_items": "x"})
    left = [code for code in PACK if code not in items]
    if left:
        raise DomainError(
            f"资料袋还缺：{'、'.join(PACK[c][0] for c in left)}",
            f"the pack still lacks: {', '.join(PACK[c][1] for c in left)}",
            code="pack_incomplete",
            fields=left,
        )
    workflow.step(session, actor, MOVE_IN, move_in, "hand_pack", now, by=by, fields={"pack_items": ",".join(PACK)})
    return move_in


# --- 6 the unit inspection --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Inspection:
    results: Mapping[str, tuple[bool, str]]  # facility line → (passed, the rectification item when failed)
    water: str  # the meters as read, as typed
    electricity: str
    signature: str  # the owner's, on the facilities form


def inspect(
    session: Session, actor: Actor, move_in: MoveIn, inspection: Inspection, *, by: StaffUser, now: datetime
) -> MoveIn:
    """The unit walked with the facilities form: every line passed or failed with its rectification item; the
    meters read, never lower than the unit's previous readings; the owner signs."""
    workflow.check(MOVE_IN, move_in, "inspect", by=by, fields={"acceptance_signature": "x"})
    unchecked = [code for code in FACILITIES if code not in inspection.results]
    if unchecked:
        raise DomainError(
            f"验收表还有未验项目：{'、'.join(FACILITIES[c][0] for c in unchecked)}",
            f"lines not inspected: {', '.join(FACILITIES[c][1] for c in unchecked)}",
            code="items_not_inspected",
            fields=unchecked,
        )
    vague = [c for c, (ok, what) in inspection.results.items() if not ok and not what.strip()]
    if vague:
        raise DomainError(
            "不合格项须写明整改内容", "a failed line names its rectification item", code="missing_fields", fields=vague
        )
    unit = session.get_one(Unit, move_in.unit_id)
    readings = {
        Meter.water: meters.parse(Meter.water, inspection.water),
        Meter.electricity: meters.parse(Meter.electricity, inspection.electricity),
    }
    for meter, milli in readings.items():
        meters.check(session, unit, meter, milli)
    signature = resident_signature(inspection.signature)
    for code in FACILITIES:
        ok, what = inspection.results[code]
        move_in.facilities.append(FacilityCheck(item=code, passed=ok, rectification="" if ok else what.strip()[:200]))
    for meter, milli in readings.items():
        meters.record(session, actor, unit, meter, milli, source="move_in", at=now)
    fields = {
        "acceptance_signature": signature,
        "water_milli": readings[Meter.water],
        "electricity_milli": readings[Meter.electricity],
    }
    workflow.step(
        session,
        actor,
        MOVE_IN,
        move_in,
        "inspect",
        now,
        by=by,
        fields=fields,
        rectification=len(rectification_items(move_in)),
    )
    return move_in


def rectification_items(move_in: MoveIn) -> list[FacilityCheck]:
    """The failed lines: the rectification list 《项目整改表》 that goes to engineering."""
    return [line for line in move_in.facilities if not line.passed]


# --- 7 keys -----------------------------------------------------------------------------------------------------------


def unit_keys(session: Session, move_in: MoveIn) -> list[Key]:
    """The unit's own keys in the key register (door, mailbox, milk box …), not yet handed over."""
    return list(
        session.scalars(
            select(Key)
            .join(KeySet, Key.set_id == KeySet.id)
            .where(KeySet.unit_id == move_in.unit_id, KeySet.opens == KeyGroup.unit, Key.handed_over_at.is_(None))
            .order_by(Key.id)
        )
    )


@dataclass(frozen=True)
class KeyIssue:
    receipt_no: str  # the owner's signed key receipt 《钥匙签领表》
    signature: str
    kept_key_id: int | None = None  # a door key kept for the rectification work (R-KEY-9)
    rectification_receipt_no: str = ""  # the receipt the owner collects it with


def issue_keys(
    session: Session, actor: Actor, estate: Estate, move_in: MoveIn, issue: KeyIssue, *, by: StaffUser, now: datetime
) -> MoveIn:
    """R-MOVE, R-KEY-8: keys only against the recorded payment; the owner signs the key receipt and each key is
    registered in the key register as a move-in issue to the owner. With rectification items, one door key stays
    for the work, with a receipt for the owner."""
    if not fee_recorded(move_in):
        raise Conflict(
            "入伙费用未登记收讫，不能发放钥匙",
            "the move-in fees are not recorded: no keys are issued",
            code="fee_not_recorded",
        )
    receipt = issue.receipt_no.strip()[:40]
    workflow.check(MOVE_IN, move_in, "issue_keys", by=by, fields={"key_receipt_no": receipt, "key_signature": "x"})
    signature = resident_signature(issue.signature)
    keys = unit_keys(session, move_in)
    if not keys:
        raise Conflict(
            "钥匙登记表中没有这套房的钥匙", "the key register holds no keys of this unit", code="no_unit_keys"
        )
    kept = None
    if issue.kept_key_id is not None:
        kept = next((k for k in keys if k.id == issue.kept_key_id), None)
        if kept is None:
            raise DomainError("留用的钥匙须是本户的钥匙", "the key kept is one of this unit's", code="bad_key")
        if not issue.rectification_receipt_no.strip():
            raise DomainError(
                "留用整改钥匙须给业主开回执，请填回执号",
                "give the owner a receipt for the key kept",
                code="missing_receipt",
            )
    elif rectification_items(move_in):
        raise DomainError(
            "有整改项目，须留用一把入户门钥匙并给业主回执",
            "with rectification items, keep one door key with a receipt",
            code="rectification_key_needed",
        )
    if len([k for k in keys if k is not kept]) == 0:
        raise DomainError("至少要有一把钥匙交给业主", "at least one key goes to the owner", code="bad_key")
    owner = session.get_one(Person, move_in.owner_id)
    borrower = loans.Borrower(BorrowerKind.owner, person=owner, identity_checked=True)
    for key in keys:
        if key is kept:
            continue
        loans.lend(
            session,
            actor,
            estate,
            key_id=key.id,
            purpose="move_in",
            borrower=borrower,
            by=by,
            now=now,
            receipt_no=receipt,
            payment_proof=move_in.fee_receipt_no,
            note=move_in.number,
        )
    if kept is not None:  # R-KEY-9: into the unit's rectification set, lent only for the work
        rectification.keep(session, actor, kept, receipt_no=issue.rectification_receipt_no, now=now)
    fields = {
        "key_receipt_no": receipt,
        "key_signature": signature,
        "kept_key_id": kept.id if kept else None,
        "rectification_receipt_no": issue.rectification_receipt_no.strip()[:40] if kept else "",
    }
    workflow.step(
        session, actor, MOVE_IN, move_in, "issue_keys", now, by=by, fields=fields, keys=len(keys) - (1 if kept else 0)
    )
    return move_in


def return_rectification_key(
    session: Session,
    actor: Actor,
    estate: Estate,
    move_in: MoveIn,
    *,
    receipt_no: str,
    by: StaffUser,
    now: datetime,
) -> KeyLoan:
    """R-KEY-9: the rectification done, the owner collects the kept door key with their receipt. It leaves the
    register as their other keys did: registered to the owner against the receipt and the move-in payment, handed
    over when the cabinet sees it taken."""
    key = session.get(Key, move_in.kept_key_id) if move_in.kept_key_id is not None else None
    key_set = session.get(KeySet, key.set_id) if key is not None else None
    if key is None or key_set is None or key_set.opens != KeyGroup.rectification or key.handed_over_at is not None:
        raise Conflict(
            "这次入伙没有留用中的整改钥匙", "this move-in has no rectification key kept", code="no_rectification_key"
        )
    owner = session.get_one(Person, move_in.owner_id)
    return loans.lend(
        session,
        actor,
        estate,
        key_id=key.id,
        purpose="move_in",
        borrower=loans.Borrower(BorrowerKind.owner, person=owner, identity_checked=True),
        by=by,
        now=now,
        receipt_no=receipt_no,
        payment_proof=move_in.fee_receipt_no,
        note=f"{move_in.number} 整改完成，凭回执领回",
    )


def issued_keys(session: Session, move_in: MoveIn) -> list[tuple[Key, KeyLoan]]:
    """The keys handed to the owner against the signed key receipt 《钥匙签领表》 (R-KEY-8), with their loans."""
    if not move_in.key_receipt_no:
        return []
    rows = session.execute(
        select(Key, KeyLoan)
        .join(KeyLoan, KeyLoan.key_id == Key.id)
        .where(
            KeyLoan.estate_id == move_in.estate_id,
            KeyLoan.purpose == LoanPurpose.move_in,
            KeyLoan.receipt_no == move_in.key_receipt_no,
            KeyLoan.borrower_person_id == move_in.owner_id,
        )
        .order_by(Key.id)
    )
    return [(key, loan) for key, loan in rows]


# --- 8 filing ---------------------------------------------------------------------------------------------------------

FILING: dict[str, tuple[str, str]] = {
    "registration": ("《业主情况登记表》已录入电脑", "Registration form entered into the computer"),
    "finance": ("银行代收费合同、水电表底度交财务部", "Bank contract and meter readings to finance"),
    "engineering": ("整改表和整改钥匙登记后交工程部", "Rectification list and key to engineering"),
    "pack": ("入伙资料袋按房号归档", "Pack filed by unit number"),
}


def file(
    session: Session,
    actor: Actor,
    estate: Estate,
    move_in: MoveIn,
    *,
    done: Sequence[str],
    by: StaffUser,
    now: datetime,
) -> MoveIn:
    """The file steps, each ticked; the engineering step only when there is something for it. The unit is no
    longer vacant (R-VAC)."""
    workflow.check(MOVE_IN, move_in, "file", by=by, fields={"filed_at": now})
    needed = [c for c in FILING if c != "engineering" or rectification_items(move_in) or move_in.kept_key_id]
    left = [c for c in needed if c not in done]
    if left:
        raise DomainError(
            f"还有归档步骤未完成：{'、'.join(FILING[c][0] for c in left)}",
            f"filing steps left: {', '.join(FILING[c][1] for c in left)}",
            code="filing_incomplete",
            fields=left,
        )
    vacancy = session.scalar(select(Vacancy).where(Vacancy.unit_id == move_in.unit_id, Vacancy.ends_on.is_(None)))
    if vacancy is not None:
        vacancy.ends_on = clock.today(estate, now)
        vacancy.move_in_id = move_in.id
    workflow.step(session, actor, MOVE_IN, move_in, "file", now, by=by, fields={"filed_at": now})
    return move_in


def cancel(session: Session, actor: Actor, move_in: MoveIn, *, by: StaffUser, now: datetime, note: str) -> MoveIn:
    workflow.step(session, actor, MOVE_IN, move_in, "cancel", now, by=by, note=note.strip()[:200])
    return move_in
