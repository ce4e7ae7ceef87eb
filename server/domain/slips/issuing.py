"""Issuing slips (R-REL-2/4): the day's number, the signed token, the register entry; reprint, cancel, re-issue,
and the owner's countersign after a proxy (R-REL-3)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

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
    SigningKey,
    SlipAttachment,
    SlipCounter,
    SlipItem,
    SlipState,
    Unit,
)
from server.db.plain import Later, Plain
from server.domain import audit, clock, idempotency, throttle
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
    return resolve_lines({code: item.name for code, item in catalogue.by_code(session, estate).items()}, lines)


def resolve_lines(known: Mapping[str, str], lines: list[LineDraft]) -> list[tuple[str | None, str, int]]:
    """(code, name, quantity) per line, names taken from the catalogue's offered items, `known` (code → name)
    (R-REL-2: name and quantity per item)."""
    if not 1 <= len(lines) <= slip_token.MAX_LINES:
        raise DomainError(
            f"放行条须列明 1–{slip_token.MAX_LINES} 行物品",
            f"list 1–{slip_token.MAX_LINES} item lines",
            code="bad_item_count",
        )
    by_name = {name: code for code, name in known.items()}
    out: list[tuple[str | None, str, int]] = []
    for line in lines:
        if not 1 <= line.quantity <= 999:
            raise DomainError("数量应为 1–999", "a quantity is 1–999", code="bad_quantity")
        if line.code:
            code = line.code.strip().upper()
            if code not in known:
                raise DomainError(
                    f"物品目录中没有 {line.code}", f"{line.code} is not in the catalogue", code="unknown_item"
                )
            out.append((code, known[code], line.quantity))
            continue
        name = " ".join((line.name or "").split())
        if not name or len(name) > catalogue.MAX_NAME or len(name.encode()) > slip_token.MAX_NAME_BYTES:
            raise DomainError(
                f"物品名称应为 1–{catalogue.MAX_NAME} 个字",
                f"an item name is 1–{catalogue.MAX_NAME} characters",
                code="bad_item_name",
            )
        found = by_name.get(name)
        out.append((found, name, line.quantity) if found else (None, name, line.quantity))
    if not slip_token.token_fits([slip_token.ItemLine(code or name, qty, code is None) for code, name, qty in out]):
        raise DomainError(
            "物品名称总长超出放行条二维码容量，请缩短名称或选用目录物品",
            "the item names are too long together for the slip's QR code: shorten them or pick catalogue items",
            code="items_too_long",
        )
    return out


def _drafted(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    applicant: Applicant,
    draft: SlipDraft,
    *,
    channel: str,
    now: datetime,
    reissue_of: ReleaseSlip | None,
) -> tuple[ReleaseSlip, SigningKey]:
    """The slip as it will be recorded, but not yet numbered nor signed (and in no session), and its signing key."""
    check_dates(estate, draft, now)
    lines = _lines(session, estate, draft.lines)
    key = keys.active_key(session)
    slip = new_slip(
        actor, estate, unit, applicant, draft, lines, channel=channel, now=now, key_id=key.id, reissue_of=reissue_of
    )
    return slip, key


def check_dates(estate: Estate, draft: SlipDraft, now: datetime) -> None:
    """A planned date from the estate's today to MAX_DAYS_AHEAD days on, valid for 1 to MAX_VALID_DAYS days."""
    today = clock.local_day(estate, now)
    if draft.planned_date < today or draft.planned_date > today + timedelta(days=MAX_DAYS_AHEAD):
        raise DomainError(
            f"计划日期应在今天到 {MAX_DAYS_AHEAD} 天内",
            f"the planned date is today or within {MAX_DAYS_AHEAD} days",
            code="bad_planned_date",
        )
    if not 1 <= draft.valid_days <= MAX_VALID_DAYS:
        raise DomainError(f"有效天数应为 1–{MAX_VALID_DAYS}", f"1–{MAX_VALID_DAYS} days", code="bad_validity")


def new_slip(
    actor: Actor,
    estate: Estate,
    unit: Unit,
    applicant: Applicant,
    draft: SlipDraft,
    lines: list[tuple[str | None, str, int]],
    *,
    channel: str,
    now: datetime,
    key_id: int,
    reissue_of: ReleaseSlip | None = None,
) -> ReleaseSlip:
    """The slip of a request (its dates checked, `check_dates`; its lines resolved, `resolve_lines`) as it will be
    recorded, in no session, not yet numbered nor signed (`_numbered`)."""
    today = clock.local_day(estate, now)
    proxy = applicant.proxy
    return ReleaseSlip(
        estate_id=estate.id,
        day=today,
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
        key_id=key_id,
        issued_at=now,
        issued_by=actor.label[:80],
        device_id=actor.device_id,
        reissue_of_id=reissue_of.id if reissue_of else None,
        items=[SlipItem(line=n, code=c, name=name, quantity=q) for n, (c, name, q) in enumerate(lines, start=1)],
    )


def _numbered(slip: ReleaseSlip, estate_code: str, seq: int, private_hex: str) -> ReleaseSlip:
    """Give the slip the day's number `seq` and its signed token (R-REL-4)."""
    slip.seq = seq
    slip.number = slip_token.slip_number(estate_code, slip.day, seq)
    claims = slip_token.SlipClaims(
        key_id=slip.key_id,
        estate=estate_code,
        day=slip.day,
        seq=seq,
        unit=slip.unit_code,
        valid_until=slip.valid_until,
        items=tuple(slip_token.ItemLine(i.code or i.name, i.quantity, i.code is None) for i in slip.items),
    )
    slip.token = slip_token.encode(claims, keys.private_key(private_hex))
    return slip


def _issue_detail(slip: ReleaseSlip, reissue_of: str | None, signed: bool) -> dict[str, Any]:
    """What the audit entry of an issue says of the slip."""
    return {
        "number": slip.number,
        "unit": slip.unit_code,
        "applicant": slip.applicant_kind.value,
        "items": [[i.name, i.quantity] for i in slip.items],
        "key_id": slip.key_id,
        "reissue_of": reissue_of,
        "signed": signed,
    }


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
    slip, key = _drafted(
        session, actor, estate, unit, applicant, draft, channel=channel, now=now or utcnow(), reissue_of=reissue_of
    )
    _numbered(slip, estate.code, next_seq(session, estate, slip.day), key.private_key)
    session.add(slip)
    session.flush()
    proxy = applicant.proxy
    if proxy is not None:
        session.add(
            SlipAttachment(slip_id=slip.id, kind="proxy_id", media_type=proxy.id_media_type, data=proxy.id_image)
        )
    if signature is not None:
        paper.attach(session, slip, paper.SIGNATURE, signature)
    detail = _issue_detail(slip, reissue_of.number if reissue_of else None, signature is not None)
    audit.record(session, actor, "slip.issue", "slip", slip.id, estate_id=estate.id, **detail)
    return slip


@dataclass(frozen=True)
class Drafted:
    """A resident's slip drafted on a reading session (`Approval.drafted`), to be numbered, signed and written by
    `issue_plain` in the writer's transaction: the write holds the writer only for its statements."""

    actor: Actor
    slip: ReleaseSlip  # in no session; numbered and given its id by `issue_plain`
    estate: Estate  # a copy in no session: its code, name and zone, for the slip and its print data
    private_hex: str  # the signing key's
    signature: bytes | None


def issue_plain(
    db: Plain, drafted: Drafted, write: idempotency.DeviceWrite, answer: Callable[[ReleaseSlip], idempotency.Answer]
) -> idempotency.Answer | Later[idempotency.Answer | None] | None:
    """`issue` of a drafted slip in plain statements, with `answer`'s answer for the slip kept for the request's
    key; None, with nothing written, when an answer is kept for the key already (`answer_once` gives it).

    In a batch run as one (`Plain.together`, PostgreSQL) the slip is left for the statements of the whole batch
    (`_issue_all`): the day's counter is then taken once for all its slips, at the batch's end, so that a batch of
    another worker waits for it only that long; the answer is read once the batch is sent (`Later`)."""
    if db.together:
        pending = _PendingIssue(drafted, write, answer)
        db.queue(_issue_all, pending)
        return Later(pending.outcome)
    if idempotency.taken_plain(db, write):
        return None
    slip = drafted.slip
    row = db.execute(_NEXT_SEQ, (slip.estate_id, db.day(slip.day))).fetchone()
    _numbered(slip, drafted.estate.code, int(row[0]), drafted.private_hex)
    slip_id = db.insert(slip)
    for item in slip.items:
        db.insert(item, slip_id=slip_id)
    if drafted.signature is not None:
        db.insert(SlipAttachment(kind=paper.SIGNATURE, media_type="image/png", data=drafted.signature), slip_id=slip_id)
    return _issued(db, drafted, write, answer)


def _issued(
    db: Plain, drafted: Drafted, write: idempotency.DeviceWrite, answer: Callable[[ReleaseSlip], idempotency.Answer]
) -> idempotency.Answer:
    """The audit entry of a slip written, and its answer kept for the request's key."""
    _audit_issue(db, drafted)
    return idempotency.keep_plain(db, write, answer(drafted.slip), drafted.slip.issued_at)


def _audit_issue(db: Plain, drafted: Drafted) -> None:
    slip = drafted.slip
    detail = _issue_detail(slip, None, drafted.signature is not None)
    audit.record_plain(db, drafted.actor, "slip.issue", "slip", slip.id, estate_id=slip.estate_id, **detail)


class _PendingIssue:
    """A drafted slip left for the statements of its batch (`_issue_all`), and then its answer."""

    def __init__(
        self,
        drafted: Drafted,
        write: idempotency.DeviceWrite,
        answer: Callable[[ReleaseSlip], idempotency.Answer],
    ) -> None:
        self.drafted, self.write, self.answer = drafted, write, answer
        self.answered: idempotency.Answer | None = None
        self.done = False

    def outcome(self) -> idempotency.Answer | None:
        assert self.done, "read once the batch's slips are written"
        return self.answered


def _issue_all(db: Plain, pending: list[_PendingIssue]) -> None:
    """The slips of a batch run as one (PostgreSQL): every key's lock in one statement and the keys already
    answered in one more; then, for the others, each day's counter moved on by its slips and their ids taken, in
    one round trip; the slips numbered and signed; their rows, lines and signatures written in a statement each, and
    their answers kept. A key named twice in the batch makes the batch fail (two answers for one key): it then runs
    again a write at a time, and the second finds the first's answer."""
    throttle.serialize_plain(db, *(idempotency.key_lock(p.write) for p in pending))
    kept = db.execute(_KEPT_OF, ([p.write.device_id for p in pending], [p.write.key for p in pending])).fetchall()
    answered = {int(n) for (n,) in kept}
    fresh = [p for n, p in enumerate(pending, start=1) if n not in answered]
    for p in pending:
        p.done = True
    if not fresh:
        return
    days: dict[tuple[int, date], list[_PendingIssue]] = {}
    for p in fresh:
        days.setdefault((p.drafted.slip.estate_id, p.drafted.slip.day), []).append(p)
    order = sorted(days)  # every batch takes the counters' rows in the same order
    counters = db.execute(_RESERVE, ([e for e, _ in order], [d for _, d in order], [len(days[k]) for k in order]))
    ids = db.execute(_SLIP_IDS, (len(fresh),))
    last = {(int(e), db.read_day(d)): int(n) for e, d, n in counters.fetchall()}
    free_ids = iter(sorted(int(i) for (i,) in ids.fetchall()))
    slips, items, attachments = [], [], []
    for key in order:
        first = last[key] - len(days[key]) + 1
        for seq, p in enumerate(days[key], start=first):
            drafted = p.drafted
            slip = _numbered(drafted.slip, drafted.estate.code, seq, drafted.private_hex)
            slip.id = next(free_ids)
            slips.append(slip)
            for item in slip.items:
                item.slip_id = slip.id
                items.append(item)
            if drafted.signature is not None:
                attachments.append(
                    SlipAttachment(
                        slip_id=slip.id, kind=paper.SIGNATURE, media_type="image/png", data=drafted.signature
                    )
                )
    db.insert_all(slips)
    db.insert_all(items)
    db.insert_all(attachments)
    kept_answers = []
    for p in fresh:
        _audit_issue(db, p.drafted)
        p.answered = p.answer(p.drafted.slip)
        kept_answers.append(idempotency.kept_answer(p.write, p.answered, p.drafted.slip.issued_at))
    db.insert_all(kept_answers)


_COUNTERS = SlipCounter.__tablename__
_NEXT_SEQ = (
    f"INSERT INTO {_COUNTERS} (estate_id, day, last) VALUES (?, ?, 1)"
    f" ON CONFLICT (estate_id, day) DO UPDATE SET last = {_COUNTERS}.last + 1 RETURNING last"
)
_RESERVE = (  # PostgreSQL: each (estate, day) counter moved on by its count of slips, made at it if new
    f"INSERT INTO {_COUNTERS} (estate_id, day, last) SELECT * FROM unnest(?::int[], ?::date[], ?::int[])"
    f" ON CONFLICT (estate_id, day) DO UPDATE SET last = {_COUNTERS}.last + excluded.last"
    " RETURNING estate_id, day, last"
)
_SLIP_IDS = f"SELECT nextval(pg_get_serial_sequence('{ReleaseSlip.__tablename__}', 'id')) FROM generate_series(1, ?)"
_KEPT_OF = (  # PostgreSQL: which of the (device, key) pairs, by their place, have an answer kept already
    "SELECT q.n FROM unnest(?::int[], ?::text[]) WITH ORDINALITY AS q(device, key, n)"
    # a scalar subquery, looked up row by row by the key's index (never a join hashing every kept answer)
    f" WHERE ({idempotency.KEPT_FOR.format(device='q.device', key='q.key')}) IS NOT NULL"
)


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

    def _rows(self, session: Session) -> tuple[Estate, Unit, Person]:
        estate = session.get(Estate, self.estate_id)
        unit = session.get(Unit, self.unit_id)
        person = session.get(Person, self.person_id)
        assert estate is not None and unit is not None and person is not None
        return estate, unit, person

    def drafted(self, session: Session) -> Drafted | None:
        """The slip drafted on `session` for `issue_plain`, for a resident's own request; None for a proxy's or a
        re-issue, which `issue` writes."""
        if self.proxy is not None or self.reissue_of_id is not None:
            return None
        estate, unit, person = self._rows(session)
        applicant, channel = Applicant(self.kind, person), self.channel
        slip, key = _drafted(
            session, self.actor, estate, unit, applicant, self.draft, channel=channel, now=self.now, reissue_of=None
        )
        copy = Estate(id=estate.id, code=estate.code, name=estate.name, timezone=estate.timezone)
        return Drafted(self.actor, slip, copy, key.private_key, self.signature)

    def issue(self, session: Session) -> ReleaseSlip:
        estate, unit, person = self._rows(session)
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
