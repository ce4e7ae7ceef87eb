"""Realistic demonstration data: one estate with three buildings, residents, arrears, staff and devices."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from devices.cabinet.tags import ibutton_rom, tag_hex
from server.contract.guard_secret import hash_secret, verify_secret
from server.db.models import (
    ApplicantKind,
    Device,
    DeviceKind,
    Estate,
    GuardCredential,
    Key,
    KeyBoard,
    KeyGroup,
    KeyKind,
    OccupancyKind,
    PriceItem,
    ReleaseSlip,
    Role,
    ServiceKind,
    SetCopy,
    SlipState,
    StaffUser,
    StandardAnswer,
)
from server.domain import clock, devices, guards, registry, staff
from server.domain.actors import Actor
from server.domain.errors import Unauthorized
from server.domain.keys import intake, layout, register
from server.domain.keys.register import KeySpec
from server.domain.service import feedback, prices
from server.domain.service.prices import PriceLine
from server.domain.slips import issuing

DEMO_PASSWORD = "demo-2026"
GUARD_USERNAME, GUARD_PIN, GUARD_CARD = "guard", "246813", "G0001"
# Who signs in at the key cabinet in the demo: engineering borrows the plant-room keys (R-KEY-10, 14).
CABINET_USERNAME, CABINET_PIN, CABINET_CARD = "engineer", "135790", "E0001"
CABINET_BOARDS, CABINET_CHANNELS = (1, 2), 24  # the XOR 485 boards the demo's cabinet simulator runs
KEY_KEEPER = "records"  # the CS records admin who takes keys over and keeps them (R-KEY-1…4)
# The demo key set: units' key sets (ringed per unit), public-door keys by building entrance and floor, and the
# plant rooms' in-use and spare sets (R-KEY-6, 10). The switch room's keys are TM electronic keys (R-KEY-14).
KEY_UNITS = ("1-1A", "1-1B", "1-2A", "2-1A", "2-1B", "3-1A")
KEY_PUBLIC_DOORS = (("1", "1", 1), ("2", "1", 1))  # building, entrance, floor
KEY_PLANT_ROOMS = (("水泵房", KeyKind.mechanical), ("配电房", KeyKind.tm))
DEMO_TAG_BASE = 0x20261127_0000  # the demo keys' iButton serials count up from here
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
    cabinet_boards: list[tuple[int, int]] = field(default_factory=list)  # address, channels
    cabinet_keys: list[tuple[str, int, int, str]] = field(default_factory=list)  # label, board, slot, tag
    cabinet_staff: tuple[str, str, str, str] = ("", "", "", "")  # username, name, card, PIN


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
    estate = session.scalar(select(Estate).where(Estate.code == "GH"))
    today = today or clock.today(estate)  # the estate's day (its zone's; a new estate's zone is the default)
    result = DemoResult(estate=estate, created=estate is None) if estate else None
    if result is None:
        result = _create(session, actor, random.Random(seed_value), today)
    _ensure_guard_credentials(session, actor, result.estate)
    _ensure_cabinet(session, actor, result)
    _ensure_service_desk(session, actor, result.estate)
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
    """The PIN and card the demo prints for the guard: set when missing, and set again when they are not the printed
    ones (a demo database made before they were set, or by a version that printed another PIN)."""
    guard = session.scalar(select(StaffUser).where(StaffUser.username == GUARD_USERNAME))
    if guard is None:
        return
    held = session.get(GuardCredential, guard.id)
    if (
        held is None
        or not (held.pin_hash and verify_secret(held.pin_hash, GUARD_PIN))
        or not (held.card_hash and verify_secret(held.card_hash, GUARD_CARD))
    ):
        guards.set_credentials(session, actor, estate, guard, pin=GUARD_PIN, card=GUARD_CARD)


def _ensure_cabinet(session: Session, actor: Actor, result: DemoResult) -> None:
    """The key cabinet's boards and the demo key set, accepted and hung in the manual's order (also on demo
    databases made before the register existed), and the card and PIN the demo prints for signing in at it."""
    estate = result.estate
    if session.scalar(select(KeyBoard).where(KeyBoard.estate_id == estate.id)) is None:
        _demo_keys(session, actor, estate)
    user = session.scalar(select(StaffUser).where(StaffUser.username == CABINET_USERNAME))
    if user is not None:
        # Staff sign in at the cabinet with the same salted scrypt credentials as guards at a gate.
        if session.get(GuardCredential, user.id) is None:
            session.add(
                GuardCredential(user_id=user.id, pin_hash=hash_secret(CABINET_PIN), card_hash=hash_secret(CABINET_CARD))
            )
            session.flush()
        result.cabinet_staff = (user.username, user.display_name, CABINET_CARD, CABINET_PIN)
    boards = session.scalars(select(KeyBoard).where(KeyBoard.estate_id == estate.id).order_by(KeyBoard.address))
    result.cabinet_boards = [(b.address, b.channels) for b in boards]
    keys = session.scalars(
        select(Key).where(Key.estate_id == estate.id, Key.slot.is_not(None)).order_by(Key.board, Key.slot)
    )
    result.cabinet_keys = [(k.label, k.board or 0, k.slot or 0, k.tag) for k in keys]


# The service desk's price list 《便民服务一览表》 (R-REP-3, R-CLN-1): kind, code, category, Chinese, English, fen,
# unit.
DEMO_PRICES = (
    (ServiceKind.repair, "tap-leak", "plumbing", "水龙头漏水维修", "Leaking tap", 3000, "次"),
    (ServiceKind.repair, "drain", "plumbing", "下水道疏通", "Blocked drain", 5000, "次"),
    (ServiceKind.repair, "toilet-valve", "plumbing", "马桶进水阀更换", "Toilet fill valve", 6000, "个"),
    (ServiceKind.repair, "socket", "electrical", "插座更换", "Replace a socket", 2000, "个"),
    (ServiceKind.repair, "no-power", "electrical", "房间断电检查", "No power in a room", 0, "次"),
    (ServiceKind.repair, "door-lock", "doors", "门锁维修", "Door lock", 4000, "次"),
    (ServiceKind.repair, "window", "doors", "窗户五金调整", "Window hardware", 3000, "扇"),
    (ServiceKind.cleaning, "daily-2h", "daily", "日常保洁（2小时）", "Daily cleaning (2 h)", 8000, "次"),
    (ServiceKind.cleaning, "deep-3h", "deep", "深度保洁（3小时）", "Deep cleaning (3 h)", 18000, "次"),
    (ServiceKind.cleaning, "windows", "windows", "玻璃清洁", "Window cleaning", 1500, "扇"),
    (ServiceKind.cleaning, "range-hood", "kitchen", "油烟机清洗", "Range hood", 12000, "台"),
)
# Questions the front desk answers the same day from the library (R-FB-2): topic, question, answer.
DEMO_ANSWERS = (
    ("停车", "月租车位怎么办理？", "携带行驶证和身份证到客服中心办理，当天生效。"),
    ("物业费", "物业费怎么缴纳？", "可在客服中心刷卡或转账缴纳，也可办理银行代扣。"),
    ("装修", "装修需要办理什么手续？", "业主提交装修申请，工程部 3 个工作日内审批，审批后办理装修证。"),
)


def _ensure_service_desk(session: Session, actor: Actor, estate: Estate) -> None:
    """The price list and the standard answers, on a demo estate that has none yet (older demo databases too)."""
    now = datetime.now(UTC)
    if session.scalar(select(PriceItem.id).where(PriceItem.estate_id == estate.id).limit(1)) is None:
        for sort, (kind, code, category, zh, en, fen, unit) in enumerate(DEMO_PRICES):
            line = PriceLine(kind, code, category, zh, fen, name_en=en, unit_zh=unit, sort=sort)
            prices.add_item(session, actor, estate, line, now)
    if session.scalar(select(StandardAnswer.id).where(StandardAnswer.estate_id == estate.id).limit(1)) is None:
        for topic, question, answer in DEMO_ANSWERS:
            feedback.add_answer(session, actor, estate, feedback.AnswerDraft(topic, question, answer), now)


def demo_key_tag(number: int) -> str:
    """The tag of the demo's `number`-th key: an iButton (TM) ROM in the hex a reader types, which the cabinet
    simulator gives back when it holds that key."""
    return tag_hex(ibutton_rom(DEMO_TAG_BASE + number))


def _demo_keys(session: Session, actor: Actor, estate: Estate) -> None:
    keeper = session.scalar(select(StaffUser).where(StaffUser.username == KEY_KEEPER))
    if keeper is None:
        return
    now = datetime.now(UTC)
    for address in CABINET_BOARDS:
        register.add_board(session, actor, estate, address, CABINET_CHANNELS, f"钥匙柜 A 第 {address} 块板")
    tags = (demo_key_tag(n) for n in range(1, 1000))
    sets: list[tuple[KeyGroup, list[KeySpec], dict[str, Any]]] = []
    for unit in KEY_UNITS:
        keys = [KeySpec(f"{unit} 入户门", next(tags)), KeySpec(f"{unit} 信报箱", next(tags))]
        sets.append((KeyGroup.unit, keys, {"unit_code": unit}))
    for building, entrance, floor in KEY_PUBLIC_DOORS:
        spec = KeySpec(f"{building}栋{entrance}单元 {floor}层 公共门", next(tags))
        sets.append((KeyGroup.public_door, [spec], {"building": building, "entrance": entrance, "floor": floor}))
    for equipment, kind in KEY_PLANT_ROOMS:
        for copy in (SetCopy.in_use, SetCopy.spare):  # R-KEY-10: one set in use, one spare, both with engineering
            spec = KeySpec(f"{equipment}（{'在用' if copy == SetCopy.in_use else '备用'}）", next(tags), kind)
            sets.append((KeyGroup.plant_room, [spec], {"equipment": equipment, "copy": copy}))
    batch = intake.open_intake(
        session,
        actor,
        estate,
        contractor="观海台总承包部",
        handed_by="李工",
        declared_keys=sum(len(specs) for _, specs, _ in sets),
        by=keeper,
        at=now,
        note="演示数据",
    )
    key_sets = [register.register_set(session, actor, batch, opens, keys, **where) for opens, keys, where in sets]
    # R-KEY-2, 3: every key tried, then the system's spot check of at least 10%, all passing.
    tried = intake.intake_keys(session, batch)
    intake.record_acceptance_test(session, actor, batch, {k.id: True for k in tried}, by=keeper, at=now)
    drawn = intake.draw_spot_check(session, actor, batch, by=keeper, at=now, rng=random.Random(20261127))
    intake.record_spot_check(session, actor, batch, {k.id: True for k in drawn}, by=keeper, at=now)
    layout.apply_layout(session, actor, estate, now)  # R-KEY-7: hung in the manual's order
    for key_set in key_sets:
        register.store_set(session, actor, key_set, now)


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
