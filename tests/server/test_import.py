"""Importing the resident registry from an office sheet: validated row by row, all or nothing."""

from __future__ import annotations

import io
import subprocess
import sys
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, Occupancy, Person, ResidentCredential
from server.domain import importing
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError

GOOD = (
    "房号,姓名,电话,身份,起始日期,结束日期,证件后四位,住户卡号\n"
    "5-8B,张伟,13812345678,业主,2021-03-01,,123X,C5001\n"
    "5-8B,李娜,13912345678,租户,2025-01-01,2026-12-31,,\n"
    "5-8B,张小伟,,家属,2021-03-01,,,\n"
    "1-2A,王芳,021-5555666,owner,2020/6/1,,,\n"
)
BAD = (
    "房号,姓名,电话,身份,起始日期,结束日期\n"
    "5-8B,张伟,13812345678,业主,2021-03-01,\n"
    "58B,李娜,13912345678,租户,2025-01-01,\n"
    "5-9C,,abc,房东,2025-13-01,\n"
    "5-9C,赵六,13700000000,业主,2025-02-01,2025-01-01\n"
)


def _count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_good_csv_imports_everything(db: Session, estate: Estate) -> None:
    report = importing.import_residents(db, SYSTEM, estate, "住户.csv", GOOD.encode("utf-8-sig"))
    db.commit()
    assert report.ok, report.problems
    assert (report.rows, report.persons_created, report.occupancies_created, report.units_created) == (4, 4, 4, 2)
    assert report.cards_set == 1  # the import says how many resident cards it set
    assert _count(db, ResidentCredential) == 1


def test_reimport_does_not_duplicate(db: Session, estate: Estate) -> None:
    importing.import_residents(db, SYSTEM, estate, "a.csv", GOOD.encode())
    db.commit()
    again = importing.import_residents(db, SYSTEM, estate, "a.csv", GOOD.encode())
    db.commit()
    assert again.ok and again.skipped_duplicates == 4 and again.persons_created == 0
    assert _count(db, Occupancy) == 4


def test_gb18030_csv_as_excel_saves_it(db: Session, estate: Estate) -> None:
    report = importing.import_residents(db, SYSTEM, estate, "a.csv", GOOD.encode("gb18030"))
    assert report.ok and report.rows == 4


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(db: Session, estate: Estate) -> None:
    report = importing.import_residents(db, SYSTEM, estate, "bad.csv", BAD.encode())
    db.rollback()
    found = {(p.row, p.column) for p in report.problems}
    assert found == {(3, "房号"), (4, "姓名"), (4, "电话"), (4, "身份"), (4, "起始日期"), (5, "结束日期")}
    assert _count(db, Person) == 0 and _count(db, Occupancy) == 0


def test_xlsx_with_real_dates(db: Session, estate: Estate) -> None:
    from datetime import datetime

    book = Workbook()
    sheet = book.active
    sheet.append(["unit", "name", "phone", "kind", "from"])
    sheet.append(["3-3B", "Chen Jie", 13800001111, "tenant", datetime(2024, 9, 1)])
    buf = io.BytesIO()
    book.save(buf)
    report = importing.import_residents(db, SYSTEM, estate, "r.xlsx", buf.getvalue())
    assert report.ok, report.problems
    person = db.scalar(select(Person))
    assert person is not None and person.phone == "13800001111"


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [("r.txt", b"x", "xlsx"), ("r.xlsx", b"not a zip", "Excel"), ("r.csv", b"\xff\xfe\x00bad\x81", "")],
)
def test_unreadable_files_are_refused_plainly(
    db: Session, estate: Estate, name: str, content: bytes, message: str
) -> None:
    try:
        report = importing.import_residents(db, SYSTEM, estate, name, content)
    except DomainError as exc:
        assert message in exc.en
    else:
        assert not report.ok


def test_missing_columns_named(db: Session, estate: Estate) -> None:
    report = importing.import_residents(db, SYSTEM, estate, "a.csv", "姓名,电话\n张三,1\n".encode())
    problem = report.problems[0]
    assert not report.ok and "房号" in problem.zh and "身份" in problem.zh
    assert "房号" in problem.en and "身份" in problem.en  # the sheet's own column names, in the English text too


def test_cli_import_reports_rows_and_imports_nothing(
    db: Session, estate: Estate, database_url: str, tmp_path: Path
) -> None:
    import os

    sheet = tmp_path / "bad.csv"
    sheet.write_text(BAD, encoding="utf-8")
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path), "COLUMNS": "200"}
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "residents", "import", str(sheet)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1
    assert "nothing imported" in run.stderr and "58B" in run.stderr
    db.expire_all()
    assert _count(db, Person) == 0
    db.rollback()  # end the read so the CLI can write (SQLite has one writer)

    sheet.write_text(GOOD, encoding="utf-8")
    ok = subprocess.run(
        [sys.executable, "-m", "estate_cli", "residents", "import", str(sheet), "--estate", "GH"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert ok.returncode == 0, ok.stderr
    assert '"occupancies": 4' in ok.stdout and '"cards": 1' in ok.stdout


def test_a_csv_cell_over_the_field_limit_is_a_plain_refusal(
    db: Session, estate: Estate, database_url: str, tmp_path: Path
) -> None:
    """A cell over 128 KiB (the csv module's field limit) is a clear error, in the console and the CLI alike."""
    import os

    content = GOOD.replace("张伟", '"' + "张" * (130 * 1024) + '"', 1)
    with pytest.raises(importing.SheetError, match="CSV"):
        importing.import_residents(db, SYSTEM, estate, "big.csv", content.encode())
    sheet = tmp_path / "big.csv"
    sheet.write_text(content, encoding="utf-8")
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    db.rollback()  # end the read so the CLI can write (SQLite has one writer)
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "residents", "import", str(sheet), "--estate", "GH"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 1 and "Traceback" not in run.stderr and "CSV" in run.stderr


def test_cells_with_control_characters_are_reported_by_row_and_column(db: Session, estate: Estate) -> None:
    report = importing.import_residents(db, SYSTEM, estate, "c.csv", GOOD.replace("李娜", "李\x07娜").encode())
    assert not report.ok
    assert [(p.row, p.column) for p in report.problems] == [(3, "姓名")]
    assert _count(db, Person) == 0
