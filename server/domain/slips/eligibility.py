"""Who may get a release slip: an owner, a tenant with no arrears, or a proxy with the owner's confirmation."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import ApplicantKind, Estate, OccupancyKind, Person, Unit
from server.domain import audit, registry
from server.domain.actors import Actor
from server.domain.errors import DomainError, Forbidden

MAX_ID_IMAGE = 2 * 1024 * 1024
ID_IMAGE_TYPES = ("image/jpeg", "image/png", "image/webp")
NON_OWNER_KINDS = (OccupancyKind.tenant, OccupancyKind.family)


@dataclass(frozen=True)
class ProxyDetails:
    """R-REL-3: the proxy, the owner's phone confirmation (who called, when, what was confirmed), the ID copy."""

    proxy_name: str
    proxy_phone: str
    confirmed_by: str
    confirmed_at: datetime
    confirmation: str
    id_image: bytes
    id_media_type: str


@dataclass(frozen=True)
class Applicant:
    kind: ApplicantKind
    person: Person  # the owner or tenant; for a proxy, the owner the proxy acts for
    proxy: ProxyDetails | None = None

    @property
    def display_name(self) -> str:
        return self.proxy.proxy_name if self.proxy else self.person.name


def _holds(unit: Unit, person: Person, kinds: tuple[OccupancyKind, ...], today: date) -> bool:
    return any(o.unit_id == unit.id and o.kind in kinds and o.current_on(today) for o in person.occupancies)


def residents_of(unit: Unit, kinds: tuple[OccupancyKind, ...], today: date) -> list[Person]:
    return [o.person for o in unit.occupancies if o.kind in kinds and o.current_on(today)]


def find_person(unit: Unit, kind: ApplicantKind, name: str, today: date) -> Person:
    """The current owner (owner, proxy) or occupant (tenant) of `unit` with this name; the only one if no name."""
    kinds = (OccupancyKind.owner,) if kind != ApplicantKind.tenant else NON_OWNER_KINDS
    people = residents_of(unit, kinds, today)
    matches = [p for p in people if p.name == name.strip()] if name.strip() else people
    if len(matches) == 1:
        return matches[0]
    who_zh, who_en = ("业主", "owner") if kinds == (OccupancyKind.owner,) else ("住户", "occupant")
    if not matches:
        raise DomainError(
            f"{unit.code} 没有登记名为“{name}”的{who_zh}",
            f"no {who_en} named {name!r} in {unit.code}",
            code="applicant_not_found",
        )
    raise DomainError(f"请填写{who_zh}姓名", f"name the {who_en}", code="applicant_ambiguous")


def _refuse(session: Session, actor: Actor, unit: Unit, kind: ApplicantKind, error: DomainError) -> DomainError:
    """A refused request is kept in the audit trail even though no slip is made."""
    audit.record(
        session,
        actor,
        "slip.request_refused",
        "unit",
        unit.id,
        estate_id=unit.estate_id,
        unit=unit.code,
        applicant=kind.value,
        code=error.code,
    )
    error.keep_changes = True
    return error


def check(
    session: Session,
    actor: Actor,
    estate: Estate,
    unit: Unit,
    kind: ApplicantKind,
    person: Person,
    *,
    channel: str,
    today: date,
    proxy: ProxyDetails | None = None,
    now: datetime | None = None,
) -> Applicant:
    """The applicant, if the rules let them have a slip for `unit` on the estate's day `today`; otherwise a
    specific, recorded refusal. `now` (the system clock by default) bounds a proxy's confirmation time."""
    if unit.estate_id != estate.id or person.estate_id != estate.id:
        raise Forbidden("住户或房屋不属于本小区", "resident or unit of another estate", code="wrong_estate")
    if kind == ApplicantKind.proxy:
        return Applicant(kind, person, _check_proxy(unit, person, channel, today, proxy, now or utcnow()))
    refused = resident_refusal(unit, person, kind, today)
    if refused is not None:
        raise _refuse(session, actor, unit, kind, refused)
    return Applicant(kind, person)


def applicant_kind(occupancy: OccupancyKind) -> ApplicantKind:
    """How a resident applies for their own unit: an owner as the owner, a tenant or family member as a tenant."""
    return ApplicantKind.owner if occupancy == OccupancyKind.owner else ApplicantKind.tenant


def resident_refusal(unit: Unit, person: Person, kind: ApplicantKind, today: date) -> Forbidden | None:
    """Why an owner or tenant applying in person may not have a slip for `unit` today, or None if they may.

    Slips are checked by it when asked for, and the kiosk is told at identification, so a resident who will be
    refused hears it before picking items."""
    held = {o.kind for o in person.occupancies if o.unit_id == unit.id and o.current_on(today)}
    return refusal(unit.code, unit.arrears_fen, kind, held)


def refusal(unit_code: str, arrears_fen: int, kind: ApplicantKind, held: Collection[OccupancyKind]) -> Forbidden | None:
    """The one place of these rules, on plain values: why an owner or tenant who holds the occupancies `held` of a
    unit today (a current owner, tenant or family member) may not have a slip for it, or None if they may."""
    if kind == ApplicantKind.owner:  # R-REL-2: the owner's identity is verified
        if OccupancyKind.owner not in held:
            return Forbidden(f"您不是 {unit_code} 的业主", "not an owner of the unit", code="not_owner")
        return None
    if not any(k in held for k in NON_OWNER_KINDS):
        return Forbidden(f"您不是 {unit_code} 的住户", "not an occupant of the unit", code="not_resident")
    if registry.owes(arrears_fen):  # R-REL-5: a non-owner's slip needs finance to confirm there are no arrears
        yuan = f"¥{arrears_fen // 100:,}.{arrears_fen % 100:02d}"
        return Forbidden(
            f"{unit_code} 尚有欠费 {yuan}，请到前台或财务部结清后再办理放行条",
            f"{unit_code} owes {yuan}: please settle it with the front desk or finance first",
            code="arrears_outstanding",
            arrears_fen=arrears_fen,
        )
    return None


def _check_proxy(
    unit: Unit, owner: Person, channel: str, today: date, proxy: ProxyDetails | None, now: datetime
) -> ProxyDetails:
    """R-REL-3: only staff take a proxy's request, after phoning the owner and copying the proxy's ID."""
    if channel != "console":
        raise Forbidden(
            "代办人请到前台办理", "a proxy applies at the front desk, not at the kiosk", code="proxy_console_only"
        )
    if not _holds(unit, owner, (OccupancyKind.owner,), today):
        raise Forbidden(f"代办须代表 {unit.code} 的业主", "a proxy acts for an owner of the unit", code="not_owner")
    if proxy is None or not proxy.proxy_name.strip():
        raise DomainError("请填写代办人姓名", "the proxy's name is required", code="proxy_name_missing")
    if not proxy.confirmed_by.strip() or not proxy.confirmation.strip():
        raise DomainError(
            "须电话联系业主确认物品，并记录确认人和确认内容",
            "record who phoned the owner and what was confirmed",
            code="owner_confirmation_missing",
        )
    if proxy.confirmed_at > now + timedelta(minutes=5):
        raise DomainError(
            "确认时间不能晚于现在", "the confirmation time is in the future", code="bad_confirmation_time"
        )
    if not proxy.id_image:
        raise DomainError("须留存代办人身份证复印件", "keep a copy of the proxy's ID", code="proxy_id_missing")
    if len(proxy.id_image) > MAX_ID_IMAGE or proxy.id_media_type not in ID_IMAGE_TYPES:
        raise DomainError(
            "身份证图片应为 2 MB 以内的 JPEG/PNG/WebP",
            "the ID copy must be a JPEG, PNG or WebP up to 2 MB",
            code="bad_id_image",
        )
    return proxy
