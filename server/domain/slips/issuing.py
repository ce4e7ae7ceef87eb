"""Issuing slips (R-REL-2/4): the day's number, the signed token, the register entry; reprint, cancel, re-issue,
and the owner's countersign after a proxy (R-REL-3)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.base import utcnow
from server.db.models import (
    ApplicantKind,
    Estate,
    Person,
    ReleaseSlip,
    SlipAttachment,
    SlipCounter,
    SlipItem,
    SlipState,
    Unit,
)
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound
from server.domain.slips import catalogue, eligibility, keys, paper
from server.domain.slips.eligibility import Applicant, ProxyDetails

MAX_DAYS_AHEAD = 30
MAX_VALID_DAYS = 7


@dataclass(frozen=True)
class LineDraft:
    """An item line as asked for: a catalogue code, or a free-text name; and a quantity."""

    code: str | None
    name: str | None
    quantity: int


@dataclass(frozen=True)
class SlipDraft:
    lines: list[LineDraft]
    planned_date: date
    vehicle_plate: str = ""
    note: str = ""
    valid_days: int = 1  # validity runs to the end of the planned day (and further days if asked)


def next_seq(session: Session, estate: Estate, day: date) -> int:
    """The next number of the estate's day, taken atomically so concurrent issues never share one."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = (
        insert(SlipCounter)
        .values(estate_id=estate.id, day=day, last=1)
        .on_conflict_do_update(index_elements=["estate_id", "day"], set_={"last": SlipCounter.last + 1})
        .returning(SlipCounter.last)
    )
    return int(session.execute(statement).scalar_one())


def _lines(session: Session, estate: Estate, lines: list[LineDraft]) -> list[tuple[str | None, str, int]]:
    """(code, name, quantity) per line, names taken from the catalogue (R-REL-2: name and quantity per item)."""
    if not 1 <= len(lines) <= slip_token.MAX_LINES:
        raise DomainError(
            f"放行条须列明 1–{slip_token.MAX_LINES} 行物品",
            f"list 1–{slip_token.MAX_LINES} item lines",
            code="bad_item_count",
        )
    known = catalogue.by_code(session, estate)
    by_name = {item.name: item for item in known.values()}
    out: list[tuple[str | None, str, int]] = []
    for line in lines:
        if not 1 <= line.quantity <= 999:
            raise DomainError("数量应为 1–999", "a quantity is 1–999", code="bad_quantity")
        if line.code:
            item = known.get(line.code.strip().upper())
            if item is None:
                raise DomainError(
                    f"物品目录中没有 {line.code}", f"{line.code} is not in the catalogue", code="unknown_item"
                )
            out.append((item.code, item.name, line.quantity))
            continue
        name = " ".join((line.name or "").split())
        if not name or len(name) > catalogue.MAX_NAME or len(name.encode()) > slip_token.MAX_NAME_BYTES:
            raise DomainError(
                f"物品名称应为 1–{catalogue.MAX_NAME} 个字",
                f"an item name is 1–{catalogue.MAX_NAME} characters",
                code="bad_item_name",
            )
        item = by_name.get(name)
        out.append((item.code, item.name, line.quantity) if item else (None, name, line.quantity))
    if not slip_token.token_fits([slip_token.ItemLine(code or name, qty, code is None) for code, name, qty in out]):
        raise DomainError(
            "物品名称总长超出放行条二维码容量，请缩短名称或选用目录物品",
            "the item names are too long together for the slip's QR code: shorten them or pick catalogue items",
            code="items_too_long",
        )
    return out


def _token(estate: Estate, slip: ReleaseSlip, key_id: int, private_hex: str) -> str:
    claims = slip_token.SlipClaims(
        key_id=key_id,
        estate=estate.code,
        day=slip.day,
        seq=slip.seq,
        unit=slip.unit_code,
        valid_until=slip.valid_until,
        items=tuple(slip_token.ItemLine(i.code or i.name, i.quantity, i.code is None) for i in slip.items),
    )
    return slip_token.encode(claims, keys.private_key(private_hex))


def issue(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    applicant: Applicant,
    draft: SlipDraft,
    *,
    channel: str,
    now: datetime | None = None,
    reissue_of: ReleaseSlip | None = None,
    signature: bytes | None = None,
) -> ReleaseSlip:
    """Number, sign and record a slip for an applicant the eligibility rules accepted, with the applicant's
    signature from the pad when one was given (R-REL-2)."""
    now = now or utcnow()
    today = clock.local_day(estate, now)
    if draft.planned_date < today or draft.planned_date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            f"计划日期应在今天到 {MAX_DAYS_AHEAD} 天内",
            f"the planned date is today or within {MAX_DAYS_AHEAD} days",
            code="bad_planned_date",
        )
    if not 1 <= draft.valid_days <= MAX_VALID_DAYS:
        raise DomainError(f"有效天数应为 1–{MAX_VALID_DAYS}", f"1–{MAX_VALID_DAYS} days", code="bad_validity")
    lines = _lines(session, estate, draft.lines)
    key = keys.active_key(session)
    seq = next_seq(session, estate, today)
    proxy = applicant.proxy
    slip = ReleaseSlip(
        estate_id=estate.id,
        number=slip_token.slip_number(estate.code, today, seq),
        day=today,
        seq=seq,
        unit_id=unit.id,
        unit_code=unit.code,
        applicant_kind=applicant.kind,
        person_id=applicant.person.id,
        applicant_name=applicant.display_name,
        proxy_name=proxy.proxy_name.strip() if proxy else "",
        proxy_phone=proxy.proxy_phone.strip() if proxy else "",
        confirmed_by=proxy.confirmed_by.strip() if proxy else "",
        confirmed_at=proxy.confirmed_at if proxy else None,
        confirmation=proxy.confirmation.strip() if proxy else "",
        countersign_pending=applicant.kind == ApplicantKind.proxy,  # R-REL-3: the owner signs later
        planned_date=draft.planned_date,
        valid_until=clock.end_of_day(estate, draft.planned_date + timedelta(days=draft.valid_days - 1)),
        vehicle_plate=draft.vehicle_plate.strip().upper()[:12],
        note=draft.note.strip()[:200],
        state=SlipState.issued,
        channel=channel,
        key_id=key.id,
        token="",
        issued_at=now,
        issued_by=actor.label[:80],
        device_id=actor.device_id,
        reissue_of_id=reissue_of.id if reissue_of else None,
        items=[SlipItem(line=n, code=c, name=name, quantity=q) for n, (c, name, q) in enumerate(lines, start=1)],
    )
    slip.token = _token(estate, slip, key.id, key.private_key)
    session.add(slip)
    session.flush()
    if proxy is not None:
        session.add(
            SlipAttachment(slip_id=slip.id, kind="proxy_id", media_type=proxy.id_media_type, data=proxy.id_image)
        )
    if signature is not None:
        paper.attach(session, slip, paper.SIGNATURE, signature)
    audit.record(
        session,
        actor,
        "slip.issue",
        "slip",
        slip.id,
        estate_id=estate.id,
        number=slip.number,
        unit=unit.code,
        applicant=applicant.kind.value,
        items=[[name, q] for _c, name, q in lines],
        key_id=key.id,
        reissue_of=reissue_of.number if reissue_of else None,
        signed=signature is not None,
    )
    return slip


@dataclass(frozen=True)
class Approval:
    """A slip request the eligibility rules accepted, as plain values: `issue` numbers, signs and records the slip,
    in this session or a later one (the kiosk's request is checked on a worker thread and written by the writer)."""

    actor: Actor
    estate_id: int
    unit_id: int
    kind: ApplicantKind
    person_id: int
    draft: SlipDraft
    channel: str
    now: datetime
    proxy: ProxyDetails | None = None
    reissue_of_id: int | None = None
    signature: bytes | None = None  # the applicant's, checked already (`paper`)

    def issue(self, session: Session) -> ReleaseSlip:
        estate = session.get(Estate, self.estate_id)
        unit = session.get(Unit, self.unit_id)
        person = session.get(Person, self.person_id)
        assert estate is not None and unit is not None and person is not None
        applicant = Applicant(self.kind, person, self.proxy)
        if self.reissue_of_id is not None:
            old = get_slip(session, estate, self.reissue_of_id)
            return reissue(
                session, self.actor, estate, old, applicant, self.draft, now=self.now, signature=self.signature
            )
        return issue(
            session,
            self.actor,
            estate,
            unit,
            applicant,
            self.draft,
            channel=self.channel,
            now=self.now,
            signature=self.signature,
        )


def request_slip(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    kind: ApplicantKind,
    person: Person,
    draft: SlipDraft,
    *,
    channel: str,
    proxy: ProxyDetails | None = None,
    reissue_of: ReleaseSlip | None = None,
    now: datetime | None = None,
    signature: bytes | None = None,
) -> Approval:
    """A resident (or a proxy, at the console) asks for a slip for `unit`: checked by the eligibility rules on the
    estate's day at `now` (R-REL-2/3/5), a refusal recorded; what passes is an approval whose `issue` makes the slip.

    The kiosk and the console both ask here, so both judge a request by the same day and the same rules."""
    now = now or utcnow()
    today = clock.local_day(estate, now)
    applicant = eligibility.check(
        session, actor, estate, unit, kind, person, channel=channel, today=today, proxy=proxy, now=now
    )
    return Approval(
        actor=actor,
        estate_id=estate.id,
        unit_id=unit.id,
        kind=applicant.kind,
        person_id=person.id,
        draft=draft,
        channel=channel,
        now=now,
        proxy=applicant.proxy,
        reissue_of_id=reissue_of.id if reissue_of is not None else None,
        signature=signature,
    )


def get_slip(session: Session, estate: Estate, number_or_id: str | int) -> ReleaseSlip:
    if isinstance(number_or_id, int):
        slip = session.get(ReleaseSlip, number_or_id)
    else:
        slip = session.scalar(select(ReleaseSlip).where(ReleaseSlip.number == number_or_id.strip().upper()))
    if slip is None or slip.estate_id != estate.id:
        raise NotFound("本小区没有这张放行条", "no such slip in this estate", code="unknown_slip")
    return slip


def reprint(session: Session, actor: Actor, slip: ReleaseSlip) -> ReleaseSlip:
    """A reprint carries the same token (it is the same slip); each one is logged."""
    if slip.state != SlipState.issued or slip.revoked_at is not None:
        raise Conflict(
            "只能补打未使用的有效放行条", "only a valid, unused slip can be reprinted", code="not_reprintable"
        )
    slip.reprints += 1
    audit.record(
        session, actor, "slip.reprint", "slip", slip.id, estate_id=slip.estate_id, number=slip.number, n=slip.reprints
    )
    return slip


def cancel(session: Session, actor: Actor, slip: ReleaseSlip, reason: str, now: datetime | None = None) -> ReleaseSlip:
    """Cancel an unused slip; its number goes on the revocation list gates download."""
    if slip.state != SlipState.issued:
        raise Conflict("只能作废未使用的放行条", "only an unused slip can be cancelled", code="not_cancellable")
    if not reason.strip():
        raise DomainError("请填写作废原因", "give a reason", code="reason_missing")
    slip.state = SlipState.cancelled
    slip.cancelled_at = now or utcnow()
    audit.record(
        session, actor, "slip.cancel", "slip", slip.id, estate_id=slip.estate_id, number=slip.number, reason=reason
    )
    return slip


def reissue(
    session: Session,
    actor: Actor,
    estate: Estate,
    old: ReleaseSlip,
    applicant: Applicant,
    draft: SlipDraft,
    *,
    now: datetime | None = None,
    signature: bytes | None = None,
) -> ReleaseSlip:
    """A new slip replacing one refused at the gate (or not yet used); the old token is revoked at once."""
    if old.state not in (SlipState.issued, SlipState.refused) or old.revoked_at is not None:
        raise Conflict("该放行条不能重开", "this slip cannot be re-issued", code="not_reissuable")
    unit = session.get(Unit, old.unit_id)
    assert unit is not None
    old.revoked_at = now or utcnow()
    new = issue(
        session, actor, estate, unit, applicant, draft, channel="console", now=now, reissue_of=old, signature=signature
    )
    audit.record(
        session, actor, "slip.revoke", "slip", old.id, estate_id=old.estate_id, number=old.number, by=new.number
    )
    return new


def countersign(
    session: Session,
    actor: Actor,
    slip: ReleaseSlip,
    staff_name: str,
    now: datetime | None = None,
    signature: bytes | None = None,
) -> ReleaseSlip:
    """R-REL-3: the owner came and countersigned the slip a proxy took, on the pad when one is at the desk."""
    if not slip.countersign_pending:
        raise Conflict("该放行条无需或已完成业主补签", "no countersign is pending", code="no_countersign_pending")
    slip.countersign_pending = False
    slip.countersigned_at = now or utcnow()
    slip.countersigned_by = staff_name[:60]
    if signature is not None:
        paper.attach(session, slip, paper.COUNTERSIGN, signature)
    audit.record(
        session,
        actor,
        "slip.countersign",
        "slip",
        slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        signed=signature is not None,
    )
    return slip
