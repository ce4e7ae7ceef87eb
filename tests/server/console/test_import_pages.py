"""Importing the resident sheet from the console: good CSV and XLSX import; a sheet with bad rows imports nothing."""

from __future__ import annotations

import io
from collections.abc import Callable

from fastapi.testclient import TestClient
from httpx import Response
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Occupancy, Person, Unit

HEADER = ["房号", "姓名", "电话", "身份", "起始日期", "结束日期", "证件后四位", "住户卡号"]
GOOD_ROWS = [
    ["5-8B", "赵敏", "13811112222", "业主", "2021-03-01", "", "123X", "C1001"],
    ["5-8B", "赵小敏", "", "家属", "2021-03-01", "", "", ""],
    ["6-12A", "孙丽", "139-0000-1111", "租户", "2024/05/01", "2025-04-30", "", ""],
]
BAD_ROWS = [
    ["5-8B", "赵敏", "13811112222", "业主", "2021-03-01", "", "", ""],
    ["58B", "钱多", "", "业主", "2021-03-01", "", "", ""],
    ["6-1A", "", "12", "房东", "2021-13-01", "", "", ""],
    ["6-2A", "周到", "", "租户", "2022-01-01", "2021-01-01", "12", ""],
]


def csv_bytes(rows: list[list[str]]) -> bytes:
    lines = [",".join(HEADER)] + [",".join(r) for r in rows]
    return ("\n".join(lines) + "\n").encode("utf-8-sig")  # as Excel saves "CSV UTF-8"


def xlsx_bytes(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.append(HEADER)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def upload(client: TestClient, page_csrf: Callable, name: str, content: bytes) -> Response:
    token = page_csrf(client.get("/console/residents/import").text)
    return client.post(
        "/console/residents/import",
        data={"csrf_token": token},
        files={"sheet": (name, content, "application/octet-stream")},
    )


def counts(db: Session) -> tuple[int, int, int]:
    db.expire_all()
    found = tuple(db.scalar(select(func.count()).select_from(m)) or 0 for m in (Person, Occupancy, Unit))
    db.commit()
    return found  # type: ignore[return-value]


def test_a_good_csv_imports(as_role: Callable, estate, db: Session, page_csrf: Callable) -> None:
    records, user = as_role("records_admin")
    response = upload(records, page_csrf, "住户登记.csv", csv_bytes(GOOD_ROWS))
    assert response.status_code == 200, response.text
    assert "“住户登记.csv”已导入" in response.text
    assert "读取 3 行" in response.text and "新建住户 3 人" in response.text and "新建房屋 2 套" in response.text
    assert counts(db) == (3, 3, 2)
    entry = db.scalar(select(AuditEntry).where(AuditEntry.action == "registry.import"))
    assert entry is not None and entry.actor.endswith(user.username)
    db.commit()
    residents = records.get("/console/residents", params={"q": "孙丽"}).text
    assert "6-12A" in residents and "2025-04-30" in residents


def test_a_good_xlsx_imports_and_a_second_upload_skips_what_is_on_record(
    as_role: Callable, estate, db: Session, page_csrf: Callable
) -> None:
    records, _ = as_role("records_admin")
    response = upload(records, page_csrf, "residents.xlsx", xlsx_bytes(GOOD_ROWS))
    assert response.status_code == 200 and "新建入住记录 3 条" in response.text
    assert counts(db) == (3, 3, 2)
    again = upload(records, page_csrf, "residents.xlsx", xlsx_bytes(GOOD_ROWS[1:]))
    assert again.status_code == 200 and "已存在而跳过 2 条" in again.text
    assert counts(db) == (3, 3, 2)


def test_bad_rows_are_reported_by_row_and_column_and_nothing_is_imported(
    as_role: Callable, estate, db: Session, page_csrf: Callable, column: Callable
) -> None:
    records, _ = as_role("records_admin")
    audit_before = db.scalar(select(func.count()).select_from(AuditEntry))
    db.commit()
    for name, content in [("bad.csv", csv_bytes(BAD_ROWS)), ("bad.xlsx", xlsx_bytes(BAD_ROWS))]:
        response = upload(records, page_csrf, name, content)
        assert response.status_code == 422
        assert f"“{name}”有 7 处问题，未导入" in response.text and "没有导入任何数据" in response.text
        problems = list(zip(column(response.text, "problems"), column(response.text, "problems", 1), strict=True))
        assert problems == [
            ("3", "房号"),
            ("4", "姓名"),
            ("4", "电话"),
            ("4", "身份"),
            ("4", "起始日期"),
            ("5", "结束日期"),
            ("5", "证件后四位"),
        ]
        assert "房号 &#39;58B&#39; 格式不对" in response.text and "应如 5-8B" in response.text
    assert counts(db) == (0, 0, 0), "the good first row was not imported either"
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == audit_before
    db.commit()


def test_a_sheet_missing_required_columns_names_them(as_role: Callable, estate, page_csrf: Callable) -> None:
    records, _ = as_role("records_admin")
    response = upload(records, page_csrf, "r.csv", "姓名,电话\n张三,138\n".encode())
    assert response.status_code == 422
    assert "缺少列" in response.text and "房号" in response.text and "整张表" in response.text


def test_a_file_that_is_not_a_sheet_or_no_file_is_explained(
    as_role: Callable, estate, db: Session, page_csrf: Callable
) -> None:
    records, _ = as_role("records_admin")
    wrong = upload(records, page_csrf, "notes.txt", b"hello")
    assert wrong.status_code == 400 and "只支持 .xlsx 和 .csv 文件" in wrong.text
    broken = upload(records, page_csrf, "broken.xlsx", b"PK not really a workbook")
    assert broken.status_code == 400 and "无法读取 Excel 文件" in broken.text
    token = page_csrf(records.get("/console/residents/import").text)
    missing = records.post("/console/residents/import", data={"csrf_token": token})
    assert missing.status_code == 400 and "请选择要上传的 .xlsx 或 .csv 文件" in missing.text
    assert counts(db) == (0, 0, 0)


def test_the_template_sheet_has_the_expected_chinese_headers_and_imports_once_filled(
    as_role: Callable, estate, db: Session, page_csrf: Callable
) -> None:
    records, _ = as_role("records_admin")
    response = records.get("/console/residents/import/template.xlsx")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response.headers["content-disposition"]
    book = load_workbook(io.BytesIO(response.content))
    sheet = book.worksheets[0]
    assert [c.value for c in sheet[1]] == HEADER and sheet.max_row == 1
    assert "5-8B" in str(book.worksheets[1]["B2"].value)

    sheet.append(["1-2A", "吴用", "13500000000", "业主", "2020-02-02", None, None, None])
    filled = io.BytesIO()
    book.save(filled)
    imported = upload(records, page_csrf, "模板.xlsx", filled.getvalue())
    assert imported.status_code == 200 and "新建住户 1 人" in imported.text
    assert counts(db) == (1, 1, 1)


def test_a_problem_found_while_writing_rolls_back_the_rows_already_written(
    as_role: Callable, estate, db: Session, page_csrf: Callable
) -> None:
    records, _ = as_role("records_admin")
    assert upload(records, page_csrf, "first.csv", csv_bytes(GOOD_ROWS[:1])).status_code == 200
    assert counts(db) == (1, 1, 1)
    # Valid on its own, but card C1001 belongs to 赵敏 already: found only after 钱多 and her unit were written.
    clash = [["7-1A", "钱多", "", "业主", "2022-01-01", "", "", "C1001"]]
    response = upload(records, page_csrf, "second.csv", csv_bytes(clash))
    assert response.status_code == 422 and "该卡已登记给其他住户" in response.text
    assert counts(db) == (1, 1, 1)
