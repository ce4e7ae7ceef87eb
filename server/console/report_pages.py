"""The manager's monthly report pack (server.domain.monthly_report) in the console: a page listing the months, and
one month as a PDF — a cover page, then a section per area in tables — built by the registers' pack builder."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.console.i18n import translate
from server.console.key_pages import pdf_file
from server.console.pages import language
from server.console.registers import Section, Table, pack_pdf
from server.console.registry_pages import view
from server.contract.fields import Text
from server.domain import clock
from server.domain import monthly_report as monthly
from server.domain.monthly_report import MonthlyReport
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require

router = APIRouter()

Reader = Annotated[Console, require(Perm.reports_view)]
MonthQ = Annotated[Text, Query(max_length=7)]
Translate = Callable[..., str]


@router.get("/reports")
def index(request: Request, console: Reader, now: Now) -> Response:
    months = monthly.months(console.require_estate(), now)
    return view(request, console, "reports/index.html", months=[f"{m:%Y-%m}" for m in months])


@router.get("/reports/monthly.pdf")
def monthly_pdf(request: Request, console: Reader, db: DbSession, now: Now, month: MonthQ = "") -> Response:
    """One month's pack; no month: the running one."""
    estate = console.require_estate()
    first = monthly.parse_month(month) if month else clock.today(estate, now).replace(day=1)
    report = monthly.monthly_report(db, estate, first, now, request.app.state.settings.vacant_fee_percent)
    lang = language(request)
    return pdf_file(pack(report, lang, now_text=clock.local_text(estate, now)), f"monthly-report-{first:%Y-%m}.pdf")


def pack(report: MonthlyReport, lang: str, *, now_text: str) -> bytes:
    def t(key: str, **values: object) -> str:
        return translate(lang, key, **values)

    estate = report.estate
    name = estate.name if lang == "zh" else (estate.name_en or estate.name)
    month = f"{report.first:%Y-%m}"
    cover = [
        t("reports.cover.estate", name=name),
        t("reports.cover.month", month=month),
        t("reports.cover.cutoff", at=clock.local_text(estate, report.cutoff)),
        t("reports.cover.made", at=now_text),
    ]
    return pack_pdf(
        t("reports.title"),
        cover,
        sections(report, t),
        lang=lang,
        foot=f"{name} · {t('reports.title')} · {month}",
        signatures=(
            ("编制", t("reports.sig.prepared")),
            ("客户服务经理", t("reports.sig.manager")),
            ("总经理", t("reports.sig.gm")),
        ),
        contents=t("reports.contents"),
    )


def _figures(t: Translate, figures: dict[str, int]) -> Table:
    return Table(
        (t("reports.col.figure"), t("reports.col.count")),
        tuple((t(f"reports.f.{k}"), v) for k, v in figures.items()),
        (70, 30),
    )


def _counts(t: Translate, head: str, counts: Iterable[tuple[str, int]], label: Callable[[str], str]) -> Table:
    return Table((t(head), t("reports.col.count")), tuple((label(k), n) for k, n in counts), (70, 30))


def sections(report: MonthlyReport, t: Translate) -> list[Section]:
    """Every section of the pack, in the manual's order of the areas."""
    summary, vacancy = report.feedback, report.vacancy
    assert summary is not None and vacancy is not None
    gates = Table(
        (t("reports.col.gate"), t("reports.col.released"), t("reports.col.refused")),
        tuple((gate, c["released"], c["refused"]) for gate, c in sorted(report.by_gate.items())),
        (50, 25, 25),
    )
    feedback = {"total": summary.total, "on_time": summary.on_time, "late": summary.late, "open": summary.open}
    people = Table(
        tuple(t(f"reports.col.{k}") for k in ("person", "shifts", "late", "absent")), tuple(report.duty_people)
    )
    vacant = {"at_start": vacancy.at_start, "taken_over": vacancy.taken_over, "moved_in": vacancy.moved_in,
              "at_end": vacancy.at_end}  # fmt: skip
    columns = ("unit", "vacant_since", "moved_in", "days", "fee_days", "patrols", "cleanings", "viewings")
    units = Table(
        tuple(t(f"life.{k}") for k in columns),
        tuple((x.unit, x.starts_on, x.ends_on or "", x.days, x.fee_days, x.patrols, x.cleanings, x.viewings)
              for x in vacancy.lines),
    )  # fmt: skip
    categories = sorted(summary.by_category.items())
    return [
        Section(t("reports.s.releases"), (_figures(t, report.releases), gates)),
        Section(t("reports.s.refusals"), (_counts(t, "reports.col.reason", report.refusals.most_common(), str),)),
        Section(t("reports.s.repairs"), (
            _figures(t, report.repairs),
            _counts(t, "reports.col.bucket", _buckets(report), lambda k: t(f"reports.bucket.{k}")),
        )),
        Section(t("reports.s.cleaning"), (_figures(t, report.cleaning),)),
        Section(t("reports.s.feedback"), (
            _figures(t, feedback),
            _counts(t, "reports.col.category", categories, lambda k: t(f"feedback.category.{k}")),
            _counts(t, "reports.col.outcome", sorted(report.callbacks.items()), lambda k: _outcome(t, k)),
        )),
        Section(t("reports.s.keys"), (
            _figures(t, report.keys),
            _counts(t, "reports.col.kind", sorted(report.alarms.items()), lambda k: t(f"keys.alarm.{k}")),
        )),
        Section(t("reports.s.duty"), (_figures(t, report.duty), people)),
        Section(t("reports.s.move_ins"), (_figures(t, report.move_ins),)),
        Section(t("reports.s.renovations"), (_figures(t, report.renovations),)),
        Section(t("reports.s.vacancy"), (_figures(t, vacant), units)),
    ]  # fmt: skip


def _buckets(report: MonthlyReport) -> list[tuple[str, int]]:
    return [(k, report.repair_lead[k]) for k in ("within_1_day", "within_3_days", "over_3_days")]


def _outcome(t: Translate, key: str) -> str:
    return t("reports.outcome.late") if key == "late" else t(f"calls.outcome.{key}")
