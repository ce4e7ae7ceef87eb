"""The console's home page — the dashboard of the signed-in role (server.domain.dashboard) — and the charts: a page
holding every chart the role may see, and one JSON endpoint per chart (`/console/charts/NAME.json?days=30`) that the
page's script (static/charts.js) draws with the vendored Apache ECharts."""

# No `from __future__ import annotations`: each chart's endpoint is made in `_endpoint` with its own permission in a
# local annotation, which FastAPI must see as an object, not as a string to resolve in the module.
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response

from server.console import reconciliation_pages
from server.console.i18n import catalogue
from server.console.pages import language
from server.console.registry_pages import view
from server.domain import charts, dashboard
from server.web.deps import Console, CurrentConsole, DbSession, Now, require

router = APIRouter()

Days = Annotated[int | None, Query(ge=1, le=charts.MAX_DAYS)]
Months = Annotated[int | None, Query(ge=1, le=charts.MAX_MONTHS)]


def chart_names(console: Console) -> list[str]:
    """The charts this member of staff may see, in the order the charts page shows them."""
    return [name for name, spec in charts.CHARTS.items() if console.can(spec.perm)]


@router.get("/")
def home(request: Request, console: CurrentConsole, db: DbSession, now: Now) -> Response:
    """The dashboard: what is due today, late or unusual in each area the role works in; every figure links to the
    filtered list it counts."""
    board = dashboard.dashboard(db, console.estate, console.user.role, now) if console.estate is not None else None
    allowed, placed = set(chart_names(console)), set[str]()
    shown: dict[str, list[str]] = {}
    for section in board.sections if board is not None else []:  # each chart once, beside the first area it serves
        shown[section.key] = [c for c in section.charts if c in allowed and c not in placed]
        placed.update(shown[section.key])
    return view(
        request,
        console,
        "dashboard.html",
        board=board,
        charts_of=shown,
        any_chart=bool(allowed),
        slip_overdue=reconciliation_pages.dashboard_flag(db, console),
        slip_stale=reconciliation_pages.dashboard_stale(db, console),
    )


@router.get("/charts")
def charts_page(request: Request, console: CurrentConsole) -> Response:
    """Every chart the role may see, each drawn from its JSON endpoint."""
    console.require_estate()
    return view(request, console, "charts.html", names=chart_names(console))


def _translated(lang: str, prefix: str, code: str) -> str:
    """A code's name in the reader's language; free text (a guard's reason, a gate's name) as it is."""
    return catalogue(lang).get(f"{prefix}.{code}", code)


def chart_json(chart: charts.Chart, lang: str) -> dict[str, Any]:
    body = chart.as_json()
    body["title"] = catalogue(lang).get(f"charts.title.{chart.name}", chart.name)
    if chart.label_codes:
        body["labels"] = [_translated(lang, "charts.label", code) for code in chart.labels]
    for series in body["series"]:
        series["code"] = series["name"]
        series["name"] = _translated(lang, "charts.series", series["name"])
    return body


def _endpoint(name: str, spec: charts.Spec) -> Callable[..., Response]:
    Viewer = Annotated[Console, require(spec.perm)]

    def chart(
        request: Request, console: Viewer, db: DbSession, now: Now, days: Days = None, months: Months = None
    ) -> Response:
        estate = console.require_estate()
        found = spec.read(db, estate, now, charts.span(spec, months if spec.span == "months" else days))
        return JSONResponse(chart_json(found, language(request)), headers={"Cache-Control": "no-store"})

    chart.__name__ = f"chart_{name}"
    chart.__doc__ = f"The chart `{name}` as JSON: labels and series (`days`, or `months` for vacancy: how far back)."
    return chart


for _name, _spec in charts.CHARTS.items():
    router.add_api_route(f"/charts/{_name}.json", _endpoint(_name, _spec), methods=["GET"])
