"""The lifecycle's paper, declared once (server.console.registers): the unit facilities acceptance form
《单元设施验收确认表》 of a move-in with its rectification items, meter readings and the owner's signature; the
move-in register 《入伙登记表》; the takeover inspection form 《物业接管验收表》 with both signatures; the monthly
vacant-unit statistics 《空置房统计表》; the developer repair register 《开发商返修跟踪表》 (R-MOVE, R-VAC-1, 2, 6)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from server.console.registers import Column, Form, Register
from server.db.models import Estate, Key, Person, Unit
from server.db.models.lifecycle import FacilityCheck, MoveIn, TakeoverInspection
from server.domain import clock
from server.domain.lifecycle import developer_repairs, meters
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle.statistics import MonthStatistics
from server.domain.lifecycle.vacancy import CATEGORIES

ACCEPTANCE = Form(
    "unit-facilities-acceptance",
    "《单元设施验收确认表》",
    "Unit facilities acceptance form",
    (
        Column("number", "入伙编号", "Move-in"),
        Column("unit", "房号", "Unit"),
        Column("owner", "业主", "Owner"),
        Column("inspected_at", "验房时间", "Inspected"),
        *(Column(f"item_{code}", zh, en) for code, (zh, en) in desk.FACILITIES.items()),
        Column("water", "水表底度 (m³)", "Water meter (m³)"),
        Column("electricity", "电表底度 (kWh)", "Electricity meter (kWh)"),
        Column("rectification", "整改项目《项目整改表》", "Rectification items", 100),
        Column("kept_key", "留用整改钥匙 / 回执", "Key kept / receipt", 100),
    ),
    signatures=(("业主", "Owner"), ("验楼员", "Inspector")),
)

PAPERS = Form(
    "move-in-papers",
    "《入伙资料确认表》",
    "Move-in papers confirmation",
    (
        Column("number", "入伙编号", "Move-in"),
        Column("ticket", "排号", "Ticket"),
        Column("unit", "房号", "Unit"),
        Column("owner", "业主", "Owner"),
        Column("notice", "《入伙通知书》编号", "Move-in notice"),
        Column("copies", "身份证 / 存折复印件", "ID / bank-book copies"),
        Column("family", "家庭成员 / 照片", "Family members / photos"),
        Column("fees", "收费", "Fees"),
        Column("documents", "已签署文件", "Documents signed", 100),
        Column("pack", "入伙资料袋", "Move-in pack handed over", 100),
    ),
    signatures=(("业主", "Owner"), ("经办人", "Desk staff")),
)

KEY_RECEIPT = Form(
    "key-receipt",
    "《钥匙签领表》",
    "Key receipt",
    (
        Column("number", "入伙编号", "Move-in"),
        Column("unit", "房号", "Unit"),
        Column("owner", "业主", "Owner"),
        Column("receipt", "签领单号", "Receipt"),
        Column("payment", "入伙缴费证明", "Proof of payment"),
        Column("issued_at", "发放时间", "Issued"),
        Column("keys", "钥匙（标签 / 类型）", "Keys (label / kind)", 100),
        Column("kept_key", "留用整改钥匙 / 回执", "Key kept / receipt", 100),
    ),
    signatures=(("业主", "Owner"), ("经办人", "Issued by")),
)

RECTIFICATION = Form(
    "rectification-list",
    "《项目整改表》",
    "Rectification list",
    (
        Column("number", "入伙编号", "Move-in"),
        Column("unit", "房号", "Unit"),
        Column("owner", "业主", "Owner"),
        Column("inspected_at", "验房时间", "Inspected"),
        Column("items", "整改项目", "Items to rectify", 100),
        Column("kept_key", "留用整改钥匙 / 回执", "Key kept / receipt", 100),
    ),
    signatures=(("业主", "Owner"), ("验楼员", "Inspector"), ("工程部", "Engineering")),
)

MOVE_IN_REGISTER = Register(
    "move-in-register",
    "《入伙登记表》",
    "Move-in register",
    (
        Column("number", "编号", "Number", 18),
        Column("ticket", "号", "Ticket", 5),
        Column("day", "日期", "Day", 11),
        Column("unit", "房号", "Unit", 9),
        Column("owner", "业主", "Owner", 10),
        Column("state", "状态", "State", 10),
        Column("fees", "收费（元）", "Fees (yuan)", 10),
        Column("receipt", "收据号", "Receipt", 11),
        Column("water", "水表", "Water", 8),
        Column("electricity", "电表", "Electricity", 8),
        Column("rectification", "整改项", "Rectification", 7),
        Column("key_receipt", "钥匙签领单", "Key receipt", 11),
    ),
    signatures=(("经办人", "Prepared by"), ("客服中心主管", "CS supervisor")),
)

TAKEOVER_FORM = Form(
    "takeover-inspection",
    "《物业接管验收表》",
    "Takeover inspection form",
    (
        Column("number", "编号", "Number"),
        Column("unit", "房号", "Unit"),
        Column("developer", "发展商（委托方）", "Developer"),
        Column("developer_rep", "发展商代表", "Developer's representative"),
        Column("opened_at", "验收时间", "Inspected"),
        Column("signed_at", "签署时间", "Signed"),
        *(Column(f"item_{c.value}", zh, en, 100) for c, (zh, en) in CATEGORIES.items()),
    ),
    signatures=(("工程部负责人", "Head of engineering"), ("发展商（委托方）", "Developer")),
)

STATISTICS = Register(
    "vacant-units",
    "《空置房统计表》",
    "Vacant-unit statistics",
    (
        Column("building", "楼栋", "Building", 7),
        Column("unit", "房号", "Unit", 9),
        Column("starts_on", "接管日期", "Taken over", 11),
        Column("ends_on", "入伙日期", "Moved in", 11),
        Column("days", "本月空置天数", "Vacant days", 9),
        Column("fee_days", "计费天数", "Fee days", 9),
        Column("patrols", "巡查", "Patrols", 7),
        Column("findings", "发现问题", "Findings", 8),
        Column("cleanings", "清洁", "Cleaning", 7),
        Column("viewings", "看房", "Viewings", 7),
    ),
    signatures=(("房管员", "Unit keeper"), ("客服中心主管", "CS supervisor")),
)


def _yes(passed: bool | None, lang: str) -> str:
    if passed is None:
        return ""
    return ("合格" if passed else "不合格") if lang == "zh" else ("pass" if passed else "fail")


def papers_values(session: Session, record: MoveIn, lang: str) -> dict[str, object]:
    """The papers confirmation 《入伙资料确认表》 as the desk filled it: papers checked, documents signed, photos,
    and "已收费" once the fees are recorded (R-MOVE)."""
    index = 0 if lang == "zh" else 1

    def names(codes: str, table: dict[str, tuple[str, str]]) -> str:
        return "；".join(table.get(code, (code, code))[index] for code in codes.split(",") if code)

    paid = desk.fee_recorded(record)
    fees = f"{record.fee_total_fen / 100:.2f} {'元' if lang == 'zh' else 'yuan'} · {record.fee_receipt_no}"
    return {
        "number": record.number,
        "ticket": record.ticket,
        "unit": session.get_one(Unit, record.unit_id).code,
        "owner": session.get_one(Person, record.owner_id).name,
        "notice": record.notice_no,
        "copies": f"{record.id_copies} / {record.bank_copies}",
        "family": f"{record.family_members} / {record.photos}",
        "fees": (("已收费 " if lang == "zh" else "paid ") + fees) if paid else "",
        "documents": names(record.documents, desk.DOCUMENTS),
        "pack": names(record.pack_items, desk.PACK),
    }


def key_receipt_values(
    session: Session, estate: Estate, record: MoveIn, kept: Key | None, lang: str
) -> dict[str, object]:
    """The key receipt 《钥匙签领表》 as the owner signed it for the keys handed over (R-KEY-8, 9)."""
    issued = desk.issued_keys(session, record)
    return {
        "number": record.number,
        "unit": session.get_one(Unit, record.unit_id).code,
        "owner": session.get_one(Person, record.owner_id).name,
        "receipt": record.key_receipt_no,
        "payment": record.fee_receipt_no,
        "issued_at": clock.local_text(estate, issued[0][1].registered_at) if issued else "",
        "keys": "；".join(f"{key.label} / {key.kind.value}" for key, _loan in issued),
        "kept_key": f"{kept.label} / {record.rectification_receipt_no}" if kept else "",
    }


def rectification_values(
    session: Session, estate: Estate, record: MoveIn, kept: Key | None, inspected_at: datetime | None, lang: str
) -> dict[str, object]:
    """The rectification list 《项目整改表》 that goes to engineering with the key kept for the work (R-MOVE)."""
    index = 0 if lang == "zh" else 1

    def line_text(n: int, line: FacilityCheck) -> str:
        return f"{n}. {desk.FACILITIES.get(line.item, (line.item, line.item))[index]}：{line.rectification}"

    return {
        "number": record.number,
        "unit": session.get_one(Unit, record.unit_id).code,
        "owner": session.get_one(Person, record.owner_id).name,
        "inspected_at": clock.local_text(estate, inspected_at),
        "items": "\n".join(line_text(n, line) for n, line in enumerate(desk.rectification_items(record), start=1)),
        "kept_key": f"{kept.label} / {record.rectification_receipt_no}" if kept else "",
    }


def acceptance_values(
    session: Session, estate: Estate, record: MoveIn, lang: str, inspected_at: datetime | None
) -> dict[str, object]:
    unit, owner = session.get_one(Unit, record.unit_id), session.get_one(Person, record.owner_id)
    lines = {line.item: line for line in record.facilities}
    values: dict[str, object] = {
        "number": record.number,
        "unit": unit.code,
        "owner": owner.name,
        "inspected_at": clock.local_text(estate, inspected_at),
        "water": meters.text(record.water_milli),
        "electricity": meters.text(record.electricity_milli),
        "rectification": "；".join(line.rectification for line in desk.rectification_items(record)),
        "kept_key": record.rectification_receipt_no,
    }
    for code in desk.FACILITIES:
        line = lines.get(code)
        values[f"item_{code}"] = _yes(line.passed if line else None, lang)
    return values


STATES: dict[str, tuple[str, str]] = {
    "queued": ("排队中", "Queued"),
    "checked": ("已验资料", "Papers checked"),
    "signed": ("已签约", "Documents signed"),
    "paid": ("已交款", "Paid"),
    "pack_handed": ("已领资料袋", "Pack handed over"),
    "inspected": ("已验房", "Inspected"),
    "keys_issued": ("已领钥匙", "Keys issued"),
    "filed": ("已归档", "Filed"),
    "cancelled": ("已取消", "Cancelled"),
}


def register_rows(session: Session, estate: Estate, records: list[MoveIn], lang: str) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for r in records:
        unit, owner = session.get_one(Unit, r.unit_id), session.get_one(Person, r.owner_id)
        rows.append(
            {
                "number": r.number,
                "ticket": r.ticket,
                "day": r.queued_on.isoformat(),
                "unit": unit.code,
                "owner": owner.name,
                "state": STATES[r.state.value][0 if lang == "zh" else 1],
                "fees": f"{r.fee_total_fen / 100:.2f}" if r.fee_total_fen else "",
                "receipt": r.fee_receipt_no,
                "water": meters.text(r.water_milli),
                "electricity": meters.text(r.electricity_milli),
                "rectification": len(desk.rectification_items(r)) or "",
                "key_receipt": r.key_receipt_no,
            }
        )
    return rows


def takeover_values(session: Session, estate: Estate, form: TakeoverInspection, lang: str) -> dict[str, object]:
    values: dict[str, object] = {
        "number": form.number,
        "unit": session.get_one(Unit, form.unit_id).code,
        "developer": form.developer,
        "developer_rep": form.developer_rep,
        "opened_at": clock.local_text(estate, form.opened_at),
        "signed_at": clock.local_text(estate, form.signed_at),
    }
    for item in form.items:
        text = _yes(item.passed, lang)
        if item.passed is False:
            text += f"：{item.defect}" + (f"（{item.agreement}）" if item.agreement else "")
        values[f"item_{item.category.value}"] = text
    return values


def statistics_rows(stats: MonthStatistics) -> list[dict[str, object]]:
    return [
        {
            "building": line.building,
            "unit": line.unit,
            "starts_on": line.starts_on.isoformat(),
            "ends_on": line.ends_on.isoformat() if line.ends_on else "",
            "days": line.days,
            "fee_days": line.fee_days,
            "patrols": line.patrols,
            "findings": line.findings,
            "cleanings": line.cleanings,
            "viewings": line.viewings,
        }
        for line in stats.lines
    ]


def statistics_heading(estate: Estate, stats: MonthStatistics, lang: str) -> str:
    name = estate.name if lang == "zh" else (estate.name_en or estate.name)
    if lang == "zh":
        return (
            f"{name} · {stats.first:%Y 年 %m 月} · 月初空置 {stats.at_start} 套，本月接管 {stats.taken_over} 套，"
            f"入伙 {stats.moved_in} 套，月末空置 {stats.at_end} 套 · 空置房管理费按 {stats.fee_percent}% 计"
        )
    return (
        f"{name} · {stats.first:%Y-%m} · vacant on the 1st {stats.at_start}, taken over {stats.taken_over}, "
        f"moved in {stats.moved_in}, vacant at the end {stats.at_end} · vacant fee at {stats.fee_percent}%"
    )


DEVELOPER_REPAIRS = Register(
    "developer-repairs",
    "《开发商返修跟踪表》",
    "Developer repair register",
    (
        Column("number", "编号", "Number", 16),
        Column("unit", "房号", "Unit", 8),
        Column("item", "项目", "Item", 9),
        Column("description", "问题", "Defect", 26),
        Column("source", "来源", "Source", 8),
        Column("developer", "发展商", "Developer", 12),
        Column("state", "状态", "State", 9),
        Column("reported", "报修", "Reported", 13),
        Column("due", "限期", "Due", 13),
        Column("overdue", "逾期", "Overdue", 5),
        Column("repaired", "修复", "Repaired", 13),
        Column("verified", "验收", "Verified", 13),
        Column("reopened", "退回次数", "Reopened", 6),
    ),
    signatures=(("工程部", "Engineering"), ("发展商代表", "Developer")),
)
REPAIR_STATES = {
    "reported": ("已报发展商", "Reported"),
    "acknowledged": ("发展商已确认", "Acknowledged"),
    "repaired": ("已修复待验", "Repaired"),
    "verified": ("已验收", "Verified"),
    "reopened": ("退回重修", "Reopened"),
}

SHOWN = {
    "open": ("未完成", "open"),
    "overdue": ("逾期", "overdue"),
    "closed": ("已验收", "closed"),
    "all": ("全部", "all"),
}


def developer_repair_heading(estate: Estate, show: str, now: datetime, lang: str) -> str:
    name = estate.name if lang == "zh" else (estate.name_en or estate.name)
    return f"{name} · {clock.local_text(estate, now)} · {SHOWN[show][0 if lang == 'zh' else 1]}"


def developer_repair_rows(estate: Estate, lines: list[developer_repairs.Line], lang: str) -> list[dict[str, object]]:
    pick = 0 if lang == "zh" else 1
    return [
        {
            "number": x.repair.number,
            "unit": x.unit,
            "item": CATEGORIES[x.repair.category][pick],
            "description": x.repair.description,
            "source": ("接管验收", "takeover")[pick] if x.repair.takeover_item_id else ("巡查", "patrol")[pick],
            "developer": x.repair.developer,
            "state": REPAIR_STATES[x.repair.state.value][pick],
            "reported": clock.local_text(estate, x.repair.reported_at),
            "due": clock.local_text(estate, x.repair.due_at),
            "overdue": x.overdue,
            "repaired": clock.local_text(estate, x.repair.repaired_at),
            "verified": clock.local_text(estate, x.repair.verified_at),
            "reopened": x.repair.reopened or "",
        }
        for x in lines
    ]
