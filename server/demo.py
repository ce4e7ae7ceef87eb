"""Realistic demonstration data: one estate with three buildings, residents, arrears, staff and devices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from server.db.models import (
    ApplicantKind,
    Device,
    DeviceKind,
    Estate,
    GuardCredential,
    OccupancyKind,
    ReleaseSlip,
    Role,
    SlipState,
    StaffUser,
)
from server.domain import clock, devices, guards, registry, staff
from server.domain.actors import Actor
from server.domain.errors import Unauthorized
from server.domain.slips import issuing

DEMO_PASSWORD = "demo-2026"
GUARD_USERNAME, GUARD_PIN, GUARD_CARD = "guard", "246813", "G0001"
DEMO_SLIP_UNIT = "1-3B"
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾萧田董潘袁蔡蒋余于杜叶程魏苏吕丁任沈姚卢"
GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红建国文斌宇浩然欣怡子涵梓轩雨彤俊杰嘉怡思远晨曦"
STAFF = [
    ("admin", "系统管理员", Role.admin),
    ("manager", "陈经理", Role.cs_manager),
    ("records", "刘管理员", Role.records_admin),
    ("frontdesk", "王前台", Role.front_desk),
    ("captain", "赵队长", Role.security_captain),
    (GUARD_USERNAME, "孙保安", Role.gate_guard),
    ("engineer", "周工程", Role.engineering),
    ("cleaning", "吴环境", Role.environment),
    ("finance", "郑财务", Role.finance),
    ("gm", "高总", Role.general_manager),
]


@dataclass
class DemoResult:
    estate: Estate
    created: bool
    logins: list[tuple[str, str, Role]] = field(default_factory=list)
    device_tokens: dict[str, str] = field(default_factory=dict)
    reissued: list[str] = field(default_factory=list)  # device kinds whose earlier token stopped working
    residents: list[tuple[str, str, str, str]] = field(default_factory=list)  # unit, name, card, pin
    arrears_unit: str = ""


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return "1" + rng.choice("3578") + "".join(rng.choice("0123456789") for _ in range(9))


def seed(
    session: Session,
    actor: Actor,
    *,
    seed_value: int = 20261127,
    today: date | None = None,
    known_tokens: dict[str, str] | None = None,
) -> DemoResult:
    """Create the demo estate once. Device tokens are stored hashed, so later runs keep the tokens of the last run
    (`known_tokens`, as written to demo-devices.json) while they still work, and issue new ones only for devices
    without a working token: a kiosk or gate already running keeps working."""
    today = today or date.today()
    estate = session.scalar(select(Estate).where(Estate.code == "GH"))
    result = DemoResult(estate=estate, created=estate is None) if estate else None
    if result is None:
        result = _create(session, actor, random.Random(seed_value), today)
    _ensure_guard_credentials(session, actor, result.estate)
    known = known_tokens or {}
    for device in session.scalars(select(Device).where(Device.estate_id == result.estate.id).order_by(Device.id)):
        kind = device.kind.value
        token = known.get(kind, "")
        if not _still_works(session, device, token):
            token = devices.issue_token(session, actor, device)
            if kind in known:
                result.reissued.append(kind)
        result.device_tokens[kind] = token
    result.logins = [(username, DEMO_PASSWORD, role) for username, _name_, role in STAFF]
    return result


def _still_works(session: Session, device: Device, token: str) -> bool:
    try:
        return bool(token) and devices.authenticate(session, token).id == device.id
    except Unauthorized:
        return False


def _ensure_guard_credentials(session: Session, actor: Actor, estate: Estate) -> None:
    """The PIN and card the demo prints for the guard (also on demo databases made before they were set)."""
    guard = session.scalar(select(StaffUser).where(StaffUser.username == GUARD_USERNAME))
    if guard is not None and session.get(GuardCredential, guard.id) is None:
        guards.set_credentials(session, actor, estate, guard, pin=GUARD_PIN, card=GUARD_CARD)


def _create(session: Session, actor: Actor, rng: random.Random, today: date) -> DemoResult:
    estate = registry.create_estate(session, actor, "GH", "观海台", "Guanhaitai")
    result = DemoResult(estate=estate, created=True)
    for building in ("1", "2", "3"):
        for floor in range(1, 13):
            for label in "ABCD":
                unit = registry.ensure_unit(session, actor, estate, f"{building}-{floor}{label}")
                owner = registry.add_person(
                    session, actor, estate, _name(rng), _phone(rng), f"{rng.randint(0, 9999):04d}"
                )
                since = today - timedelta(days=rng.randint(200, 3000))
                registry.add_occupancy(session, actor, unit, owner, OccupancyKind.owner, since)
                if rng.random() < 0.4:
                    family = registry.add_person(session, actor, estate, owner.name[0] + _name(rng)[1:], _phone(rng))
                    registry.add_occupancy(session, actor, unit, family, OccupancyKind.family, since)
                if rng.random() < 0.2:
                    tenant = registry.add_person(session, actor, estate, _name(rng), _phone(rng))
                    lease = today - timedelta(days=rng.randint(30, 700))
                    registry.add_occupancy(
                        session, actor, unit, tenant, OccupancyKind.tenant, lease, lease + timedelta(days=730)
                    )
                    if not result.arrears_unit:
                        # R-REL-5: a tenant-occupied unit with arrears, so the refusal can be shown.
                        registry.set_arrears(session, actor, unit, 128_000, "物业费 2026 年 7–10 月未缴")
                        result.arrears_unit = unit.code
                if len(result.residents) < 6 and floor in (3, 8) and label == "B":
                    card = f"{building}{floor:02d}{label}{rng.randint(100000, 999999)}"
                    pin = f"{rng.randint(0, 999999):06d}"
                    registry.set_credentials(session, actor, owner, card=card, pin=pin)
                    result.residents.append((unit.code, owner.name, card, pin))
    for username, display, role in STAFF:
        staff.create_user(
            session, actor, username=username, display_name=display, role=role, password=DEMO_PASSWORD, estates=[estate]
        )
    devices.enrol(session, actor, estate, DeviceKind.kiosk, "大堂自助机 1", "1 栋大堂")
    devices.enrol(session, actor, estate, DeviceKind.gate, "北门岗", "北门")
    devices.enrol(session, actor, estate, DeviceKind.cabinet, "钥匙柜 A", "客服中心")
    return result


def demo_slip(session: Session, actor: Actor, estate: Estate, unit_code: str) -> ReleaseSlip:
    """The slip the gate's demo camera shows: the one an earlier run issued while it is still unused and valid
    (so repeated runs leave no unused slips in the day's reconciliation), else a new one for the owner of
    `unit_code`, as the kiosk would issue it."""
    now = issuing.utcnow()
    today = clock.local_day(estate, now)
    earlier = session.scalar(
        select(ReleaseSlip)
        .where(
            ReleaseSlip.estate_id == estate.id,
            ReleaseSlip.unit_code == unit_code,
            ReleaseSlip.issued_by == actor.label[:80],
            ReleaseSlip.state == SlipState.issued,
            ReleaseSlip.day == today,
            ReleaseSlip.valid_until > now,
        )
        .order_by(ReleaseSlip.id.desc())
        .options(selectinload(ReleaseSlip.items))  # the caller prints them after the session ends
    )
    if earlier is not None:
        return earlier
    unit = registry.get_unit(session, estate, unit_code)
    owner = next(o.person for o in unit.occupancies if o.kind == OccupancyKind.owner and o.current_on(today))
    draft = issuing.SlipDraft(
        [issuing.LineDraft("SOFA", None, 1), issuing.LineDraft("BOX", None, 5), issuing.LineDraft(None, "落地灯", 1)],
        today,
    )
    kind = ApplicantKind.owner
    return issuing.request_slip(session, actor, estate, unit, kind, owner, draft, channel="kiosk", now=now).issue(
        session
    )
