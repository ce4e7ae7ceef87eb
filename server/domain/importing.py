"""Importing the resident registry from the office's own sheet (XLSX or CSV).

Every row is validated first and every problem reported by row and column; the import writes only when the whole
sheet is clean, so a sheet with one bad row imports nothing. Given a writer, it writes in chunks of CHUNK rows, each
a short transaction of its own, so a large sheet never keeps the estate's other writes waiting for long; should a
chunk fail part-way, what the earlier chunks wrote is taken out again.
"""

from __future__ import annotations

import csv
import io
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from openpyxl import load_workbook
from sqlalchemy import bindparam, delete, select, update
from sqlalchemy.orm import Session

from server.contract.fields import check_text
from server.db.models import Estate, Occupancy, OccupancyKind, Person, ResidentCredential, Unit
from server.db.writer import Writer
from server.domain import audit, registry
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.secrets import keyed_digest

# Column headers an office sheet may use, Chinese or English, mapped to our fields.
HEADERS: dict[str, tuple[str, ...]] = {
    "unit": ("房号", "房屋", "单元", "unit"),
    "name": ("姓名", "name"),
    "phone": ("电话", "手机", "联系电话", "phone"),
    "kind": ("身份", "类型", "kind", "type"),
    "starts_on": ("起始日期", "入住日期", "开始日期", "from", "starts_on"),
    "ends_on": ("结束日期", "迁出日期", "to", "ends_on"),
    "id_tail": ("证件后四位", "身份证后四位", "id_tail"),
    "card": ("住户卡号", "卡号", "card"),
}
REQUIRED = ("unit", "name", "kind", "starts_on")
KINDS = {
    "业主": OccupancyKind.owner,
    "owner": OccupancyKind.owner,
    "租户": OccupancyKind.tenant,
    "tenant": OccupancyKind.tenant,
    "住户": OccupancyKind.tenant,
    "家属": OccupancyKind.family,
    "家庭成员": OccupancyKind.family,
    "family": OccupancyKind.family,
}
MAX_ROWS = 20000


@dataclass(frozen=True)
class RowProblem:
    row: int  # the sheet's own row number (the header is row 1)
    column: str
    zh: str
    en: str

    def text(self, language: str) -> str:
        return self.en if language == "en" else self.zh


@dataclass
class ImportReport:
    rows: int = 0
    persons_created: int = 0
    occupancies_created: int = 0
    units_created: int = 0
    cards_set: int = 0  # resident cards the sheet gave or replaced
    skipped_duplicates: int = 0
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class ResidentRow:
    row: int
    unit: str
    name: str
    phone: str
    kind: OccupancyKind
    starts_on: date
    ends_on: date | None
    id_tail: str
    card: str


class SheetError(DomainError):
    code = "bad_sheet"


def read_sheet(filename: str, content: bytes) -> list[list[object]]:
    """Rows of cells from an .xlsx or .csv file (UTF-8, UTF-8 with BOM, or GB18030 as Excel saves in China)."""
    suffix = Path(filename).suffix.lower()
    if suffix == ".xlsx":
        try:
            book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a damaged file
            raise SheetError("无法读取 Excel 文件", f"cannot read the Excel file: {exc}") from exc
        sheet = book.worksheets[0]
        return [list(r) for r in sheet.iter_rows(values_only=True)]
    if suffix == ".csv":
        for encoding in ("utf-8-sig", "gb18030"):
            try:
                text = content.decode(encoding)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise SheetError("CSV 文件编码无法识别", "the CSV file is neither UTF-8 nor GB18030")
        try:
            return [list(r) for r in csv.reader(io.StringIO(text))]
        except csv.Error as exc:  # e.g. a cell over the csv module's 128 KiB field limit
            raise SheetError(f"CSV 文件格式有误：{exc}", f"the CSV file is malformed: {exc}") from None
    raise SheetError("只支持 .xlsx 和 .csv 文件", f"only .xlsx and .csv files are accepted, not {suffix or filename!r}")


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def _date(value: object) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    text = _cell(value).replace("/", "-").replace(".", "-").replace("年", "-").replace("月", "-").rstrip("日")
    if "-" not in text:
        return datetime.strptime(text, "%Y%m%d").date()
    parts = text.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise ValueError(text)
    return date(int(parts[0]), int(parts[1]), int(parts[2]))


def _map_headers(header: list[object]) -> dict[str, int]:
    columns: dict[str, int] = {}
    for idx, raw in enumerate(header):
        name = _cell(raw).lower()
        for fld, aliases in HEADERS.items():
            if name in aliases and fld not in columns:
                columns[fld] = idx
    return columns


def validate(rows: list[list[object]], report: ImportReport) -> list[ResidentRow]:
    if not rows:
        report.problems.append(RowProblem(1, "", "表格是空的", "the sheet is empty"))
        return []
    columns = _map_headers(rows[0])
    missing = [f for f in REQUIRED if f not in columns]
    if missing:
        names = ", ".join(f"{HEADERS[f][0]}/{HEADERS[f][-1]}" for f in missing)
        report.problems.append(RowProblem(1, "", f"缺少列：{names}", f"missing columns: {names}"))
        return []
    if len(rows) - 1 > MAX_ROWS:
        report.problems.append(RowProblem(1, "", f"一次最多导入 {MAX_ROWS} 行", f"at most {MAX_ROWS} rows at once"))
        return []
    good: list[ResidentRow] = []
    cards: dict[str, int] = {}
    for number, raw in enumerate(rows[1:], start=2):

        def get(fld: str, raw: list[object] = raw) -> object:
            idx = columns.get(fld)
            return raw[idx] if idx is not None and idx < len(raw) else None

        if all(_cell(v) == "" for v in raw):
            continue
        report.rows += 1
        before = len(report.problems)

        def problem(column: str, zh: str, en: str, row: int = number) -> None:
            report.problems.append(RowProblem(row, column, zh, en))

        for idx, value in enumerate(raw):
            try:
                check_text(_cell(value))
            except ValueError as exc:
                zh, _, en = str(exc).partition(" / ")
                problem(_cell(rows[0][idx]) if idx < len(rows[0]) else str(idx + 1), zh, en or zh)
        unit = _cell(get("unit"))
        try:
            unit = str(registry.parse_unit_code(unit))
        except DomainError as exc:
            problem(HEADERS["unit"][0], exc.zh, exc.en)
        name = _cell(get("name"))
        if not name:
            problem(HEADERS["name"][0], "姓名不能为空", "a name is required")
        elif len(name) > 60:
            problem(HEADERS["name"][0], "姓名过长", "the name is too long")
        phone = _cell(get("phone"))
        if phone and not (phone.replace("-", "").replace(" ", "").isdigit() and 5 <= len(phone) <= 20):
            problem(HEADERS["phone"][0], f"电话号码 {phone!r} 无效", f"invalid phone number {phone!r}")
        kind = KINDS.get(_cell(get("kind")).lower())
        if kind is None:
            problem(
                HEADERS["kind"][0],
                f"身份 {_cell(get('kind'))!r} 应为 业主/租户/家属",
                f"kind {_cell(get('kind'))!r} must be owner, tenant or family",
            )
        starts_on = ends_on = None
        try:
            starts_on = _date(get("starts_on"))
        except ValueError:
            problem(
                HEADERS["starts_on"][0],
                f"日期 {_cell(get('starts_on'))!r} 无效，应如 2024-03-01",
                f"invalid date {_cell(get('starts_on'))!r}, expected like 2024-03-01",
            )
        if _cell(get("ends_on")):
            try:
                ends_on = _date(get("ends_on"))
            except ValueError:
                problem(
                    HEADERS["ends_on"][0],
                    f"日期 {_cell(get('ends_on'))!r} 无效",
                    f"invalid date {_cell(get('ends_on'))!r}",
                )
        if starts_on and ends_on and ends_on < starts_on:
            problem(HEADERS["ends_on"][0], "结束日期早于起始日期", "the end date is before the start date")
        id_tail = _cell(get("id_tail"))
        if id_tail and not (
            len(id_tail) == 4 and id_tail[:3].isdigit() and (id_tail[3].isdigit() or id_tail[3] in "Xx")
        ):
            problem(HEADERS["id_tail"][0], "证件后四位应为 4 位数字（末位可为 X）", "four digits (the last may be X)")
        card = _cell(get("card"))
        if card:
            if not card.isalnum():
                problem(HEADERS["card"][0], "卡号只能包含字母和数字", "letters and digits only")
            elif card in cards:
                problem(HEADERS["card"][0], f"卡号与第 {cards[card]} 行重复", f"same card as row {cards[card]}")
            else:
                cards[card] = number
        if len(report.problems) == before and kind is not None and starts_on is not None:
            good.append(ResidentRow(number, unit, name, phone, kind, starts_on, ends_on, id_tail.upper(), card))
    return good


CHUNK = 10  # rows per write transaction when importing through a writer


@dataclass
class _Written:
    """What the chunks written so far created or changed, so that a failure part-way can take it out again."""

    units: list[int] = field(default_factory=list)
    persons: list[int] = field(default_factory=list)
    occupancies: list[int] = field(default_factory=list)
    credentials: list[int] = field(default_factory=list)
    cards: list[tuple[int, str | None]] = field(default_factory=list)  # credential id, card digest before

    def merge(self, other: _Written) -> None:
        for name in ("units", "persons", "occupancies", "credentials", "cards"):
            getattr(self, name).extend(getattr(other, name))


def import_residents(
    session: Session,
    actor: Actor,
    estate: Estate,
    filename: str,
    content: bytes,
    progress: Callable[[int, int], None] | None = None,
    *,
    writer: Writer | None = None,
    pause: float = 0.0,
) -> ImportReport:
    """Validate the whole sheet, then import it. On any problem nothing is written (without a writer, the caller
    rolls back its transaction). With a writer, `session` only reads and the rows are written in chunks, `pause`
    seconds apart: an import beside a running server on a SQLite file leaves the file's one writer free that long
    after each chunk, so a server's write waiting for it (which retries on SQLite's own schedule, every few to every
    hundred milliseconds) finds it free instead of waiting out the whole import."""
    report = ImportReport()
    rows = validate(read_sheet(filename, content), report)
    if report.ok:
        _check_cards(session, estate, rows, report)
    if not report.ok:
        return report
    people = {(name, phone): pid for pid, name, phone in session.execute(_PEOPLE, {"estate": estate.id})}
    if writer is None:
        _write(session, actor, estate, rows, report, people, _Written(), progress)
        if report.ok:
            _record(session, actor, estate, filename, report)
        return report
    # The card check may have made the server's secret: commit it, so that this thread holds no write of its own
    # while its chunks queue for the writer.
    session.commit()
    written = _Written()
    estate_id = estate.id
    try:
        for start in range(0, len(rows), CHUNK):
            chunk = rows[start : start + CHUNK]

            def write_chunk(s: Session, chunk: list[ResidentRow] = chunk) -> _Written:
                target = s.get(Estate, estate_id)
                assert target is not None
                done = _Written()
                _write(s, actor, target, chunk, report, people, done, None)
                if not report.ok:
                    raise _ChunkRefused
                return done

            # Only a committed chunk's rows are remembered for taking out: a rolled-back one left nothing.
            written.merge(writer.run(write_chunk))
            if progress:
                progress(min(start + CHUNK, len(rows)), len(rows))
            if pause:
                time.sleep(pause)
        writer.run(lambda s: _record(s, actor, s.get(Estate, estate_id), filename, report))
    except Exception:
        writer.run(lambda s: _undo(s, actor, estate_id, filename, written))
        if report.ok:
            raise
    return report


class _ChunkRefused(Exception):
    """A row of the chunk was refused (its problem is in the report): the chunk writes nothing."""


_PEOPLE = select(Person.id, Person.name, Person.phone).where(Person.estate_id == bindparam("estate"))


def _check_cards(session: Session, estate: Estate, rows: list[ResidentRow], report: ImportReport) -> None:
    """A card the registry already gives to someone else: reported before anything is written."""
    holders = {
        digest: (estate_id, name, phone)
        for digest, estate_id, name, phone in session.execute(
            select(ResidentCredential.card_digest, Person.estate_id, Person.name, Person.phone)
            .join(Person, Person.id == ResidentCredential.person_id)
            .where(ResidentCredential.card_digest.is_not(None))
        )
    }
    for row in rows:
        if not row.card:
            continue
        holder = holders.get(keyed_digest(session, row.card))
        if holder is not None and holder != (estate.id, row.name, row.phone):
            report.problems.append(
                RowProblem(row.row, HEADERS["card"][0], "该卡已登记给其他住户", "this card belongs to another resident")
            )


def _record(session: Session, actor: Actor, estate: Estate | None, filename: str, report: ImportReport) -> None:
    assert estate is not None
    audit.record(
        session,
        actor,
        "registry.import",
        "estate",
        estate.id,
        estate_id=estate.id,
        file=filename,
        rows=report.rows,
        persons=report.persons_created,
        occupancies=report.occupancies_created,
    )


def _write(
    session: Session,
    actor: Actor,
    estate: Estate,
    rows: Iterable[ResidentRow],
    report: ImportReport,
    people: dict[tuple[str, str], int],
    written: _Written,
    progress: Callable[[int, int], None] | None,
) -> None:
    rows = list(rows)
    for done, row in enumerate(rows, start=1):
        unit = registry.find_unit(session, estate, row.unit)
        if unit is None:
            unit = registry.ensure_unit(session, actor, estate, row.unit)
            written.units.append(unit.id)
            report.units_created += 1
        person_id = people.get((row.name, row.phone))
        if person_id is None:
            person = registry.add_person(session, actor, estate, row.name, row.phone, row.id_tail)
            people[(row.name, row.phone)] = person.id
            written.persons.append(person.id)
            report.persons_created += 1
        else:
            found = session.get(Person, person_id)
            assert found is not None
            person = found
        exists = session.scalar(
            select(Occupancy.id).where(
                Occupancy.unit_id == unit.id,
                Occupancy.person_id == person.id,
                Occupancy.kind == row.kind,
                Occupancy.starts_on == row.starts_on,
            )
        )
        if exists is not None:
            report.skipped_duplicates += 1
        else:
            occupancy = registry.add_occupancy(session, actor, unit, person, row.kind, row.starts_on, row.ends_on)
            written.occupancies.append(occupancy.id)
            report.occupancies_created += 1
        if row.card:
            before = session.execute(
                select(ResidentCredential.id, ResidentCredential.card_digest).where(
                    ResidentCredential.person_id == person.id
                )
            ).first()
            try:
                credential = registry.set_credentials(session, actor, person, card=row.card)
            except DomainError as exc:
                report.problems.append(RowProblem(row.row, HEADERS["card"][0], exc.zh, exc.en))
            else:
                report.cards_set += 1
                if before is None:
                    written.credentials.append(credential.id)
                else:
                    written.cards.append((before.id, before.card_digest))
        if progress:
            progress(done, len(rows))


def _undo(session: Session, actor: Actor, estate_id: int, filename: str, written: _Written) -> None:
    """Take out what the chunks of a failed import wrote (its audit entries stay, followed by this one)."""
    for credential_id, digest in written.cards:
        session.execute(
            update(ResidentCredential).where(ResidentCredential.id == credential_id).values(card_digest=digest)
        )
    for model, ids in (
        (ResidentCredential, written.credentials),
        (Occupancy, written.occupancies),
        (Person, written.persons),
        (Unit, written.units),
    ):
        if ids:
            session.execute(delete(model).where(model.id.in_(ids)))
    audit.record(
        session,
        actor,
        "registry.import_undone",
        "estate",
        estate_id,
        estate_id=estate_id,
        file=filename,
        persons=len(written.persons),
        occupancies=len(written.occupancies),
    )
