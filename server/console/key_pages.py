"""Key pages of the console (R-KEY-1…14): the cabinet's live slot map with its printable label map and labels, and
the cabinet's events with its open alarms; and what every key page shares (the loan register is in key_loan_pages,
intakes and duplication requests in key_intake_pages)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any
from urllib.parse import parse_qsl, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.audit_view import Reader
from server.console.i18n import translate
from server.console.key_exports import Translate, block_name, label_map_pdf, labels_pdf
from server.console.pages import form_action, language
from server.console.registry_pages import flash_key, page_size, view, wants_fragment
from server.contract.fields import Text, check_day, to_utc
from server.db.models import DeviceKind, Estate
from server.domain import cabinet as cabinet_domain
from server.domain import clock, devices
from server.domain.errors import DomainError
from server.domain.keys import events, layout, register, views
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.params import MAX_PAGE, ROW_ID, PageNo, RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.keys_view)]
Keeper = Annotated[Console, require(Perm.keys_manage)]

SLOT_MAP = "slot-map"  # the element the slot map's polling swaps
DONE = frozenset(
    {
        "board_added",
        "layout_applied",
        "loan_registered",
        "loan_cancelled",
        "overdue_acknowledged",
        "intake_recorded",
        "set_registered",
        "acceptance_recorded",
        "spot_drawn",
        "spot_recorded",
        "intake_retested",
        "set_stored",
        "duplication_requested",
        "duplication_decided",
    }
)


def translator(request: Request) -> Translate:
    lang = language(request)
    return lambda key, **values: translate(lang, key, **values)


def key_view(request: Request, console: Console, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A key page with the helpers its templates share: building names and alarm texts in the reader's language."""
    lang, t = language(request), translator(request)
    return view(
        request,
        console,
        template,
        status=status,
        block_name=lambda block: block_name(block, t),
        alarm_text=lambda alarm, key: events.alarm_text(alarm, key, lang),
        **context,
    )


def local_time(estate: Estate, text: str, zh: str, en: str) -> datetime | None:
    """A time typed into a datetime-local field, in the estate's zone, as UTC; None when left empty."""
    if not text.strip():
        return None
    try:
        typed = datetime.fromisoformat(text.strip())
        moment = to_utc(typed if typed.tzinfo else typed.replace(tzinfo=clock.zone(estate)))
        check_day(moment.date())
    except (ValueError, OverflowError):
        raise DomainError(f"{zh}不对：{text}", f"{en} is not a time: {text}", code="bad_time") from None
    return moment


def local_input(estate: Estate, at: datetime) -> str:
    """`at` as a datetime-local field's value in the estate's zone."""
    return at.astimezone(clock.zone(estate)).strftime("%Y-%m-%dT%H:%M")


def row_id(text: str, zh: str, en: str) -> int:
    """An id chosen in a form (a select's value); a clear error when none or no id was given."""
    if not ROW_ID.fullmatch(text.strip()):
        raise DomainError(f"请选择{zh}", f"choose the {en}", code="missing_fields")
    return int(text.strip())


# --- the slot map (R-KEY-7) -----------------------------------------------------------------------------------------


def _slots_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    boards = views.slot_map(db, estate, now)
    template = "keys/slot_map.html" if wants_fragment(request, SLOT_MAP) else "keys/slots.html"
    return key_view(
        request,
        console,
        template,
        status=status,
        boards=boards,
        counts=views.state_counts(boards),
        states=list(views.SlotState),
        alarms=views.open_alarms(db, estate),
        can_manage=console.can(Perm.keys_manage),
        can_lend=console.can(Perm.keys_lend),
        **context,
    )


@router.get("/keys")
def slot_map(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    """The cabinet as it hangs now; the grid polls itself every few seconds (HTMX swaps only the grid)."""
    return _slots_page(request, db, console, now, flash=flash_key(done, DONE))


def _number(text: str, zh: str, en: str) -> int:
    value = text.strip()
    if not (value.isascii() and value.isdigit()) or len(value) > 6:
        raise DomainError(f"{zh}应为数字：{text}", f"{en} is not a number: {text}", code="bad_number")
    return int(value)


@router.post("/keys/boards")
def add_board(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    address: Annotated[Text, Form(max_length=6)] = "",
    channels: Annotated[Text, Form(max_length=6)] = "",
    label: Annotated[Text, Form(max_length=40)] = "",
) -> Response:
    estate = console.require_estate()

    def add() -> Response:
        at = _number(address, "锁控板地址", "the board address")
        count = _number(channels, "通道数", "the channel count")
        register.add_board(db, console.actor, estate, at, count, label.strip())
        return RedirectResponse("/console/keys?done=board_added", status_code=303)

    def form_again(status: int, error: str) -> Response:
        board = {"address": address, "channels": channels, "label": label}
        return _slots_page(request, db, console, now, status=status, error=error, board=board)

    return form_action(request, db, add, form_again)


@router.post("/keys/layout")
def apply_layout(request: Request, console: Keeper, db: DbSession, now: Now) -> Response:
    """R-KEY-7: every key's home slot in the manual's order."""

    def lay_out() -> Response:
        layout.apply_layout(db, console.actor, console.require_estate(), now)
        return RedirectResponse("/console/keys?done=layout_applied", status_code=303)

    return form_action(
        request, db, lay_out, lambda status, error: _slots_page(request, db, console, now, status=status, error=error)
    )


def pdf_file(body: bytes, name: str) -> Response:
    return Response(
        body, media_type="application/pdf", headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"}
    )


@router.get("/keys/label-map.pdf")
def label_map(request: Request, console: Viewer, db: DbSession, now: Now) -> Response:
    estate = console.require_estate()
    return pdf_file(label_map_pdf(views.slot_map(db, estate, now), estate, translator(request)), "key-label-map.pdf")


@router.get("/keys/labels.pdf")
def labels(request: Request, console: Viewer, db: DbSession, now: Now) -> Response:
    estate = console.require_estate()
    return pdf_file(labels_pdf(views.slot_map(db, estate, now), estate, translator(request)), "key-labels.pdf")


# --- the cabinet's events -------------------------------------------------------------------------------------------


SLOT_TEXT = re.compile(r"^(\d{1,3})-(\d{1,3})$")
MAX_HOURS = 24 * 31
# The event page's filters, kept in its URL and carried through the acknowledgement form back to the page.
EVENT_QUERY = ("kind", "cabinet", "slot", "alerts", "ack", "hours", "page")
EVENT_DONE = frozenset({"alert_acknowledged"})


def _digits(text: str, most: int) -> bool:
    return text.isascii() and text.isdigit() and len(text) <= most


def _events_page(
    request: Request,
    console: Console,
    db: Session,
    now: datetime,
    query: dict[str, str],
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    """The cabinet's events as filtered by `query` (each value as typed; those that are no filter are ignored)."""
    estate = console.require_estate()
    slot, cabinet, hours = query["slot"], query["cabinet"], query["hours"]
    place = SLOT_TEXT.match(slot.strip())
    hours_n = int(hours) if _digits(hours, 6) and 1 <= int(hours) <= MAX_HOURS else None
    page = int(query["page"]) if _digits(query["page"], 7) and 1 <= int(query["page"]) <= MAX_PAGE else 1
    cabinets = [d for d in devices.list_for_estate(db, estate) if d.kind == DeviceKind.cabinet]
    shown = {
        "kind": query["kind"] if query["kind"] in views.EVENT_PREFIXES else "",
        "cabinet": cabinet,
        "slot": slot,
        "alerts": query["alerts"],
        "ack": query["ack"] if query["ack"] in ("0", "1") else "",
        "hours": str(hours_n or ""),
    }
    only = views.EventFilter(
        prefix=shown["kind"],
        device_id=int(cabinet) if _digits(cabinet, 9) else None,
        board=int(place[1]) if place else None,
        slot=int(place[2]) if place else None,
        alerts={"1": True, "0": False}.get(query["alerts"]),
        since=now - timedelta(hours=hours_n) if hours_n else None,
        acknowledged={"1": True, "0": False}.get(shown["ack"]),
    )
    found = views.cabinet_events(db, estate, page, page_size(request), only)
    kept = {k: v for k, v in shown.items() if v}
    context = {
        "page": found,
        "query": shown,
        "back": urlencode(kept | ({"page": str(found.page)} if found.page > 1 else {})),
        "kinds": views.EVENT_PREFIXES,
        "cabinets": cabinets,
        "reader": Reader(language(request), estate, devices={d.id: d.name for d in cabinets}),
        "acks": cabinet_domain.acknowledgements(db, [e.seq for e in found.items]),
        "is_alert": cabinet_domain.is_alert,
        "can_acknowledge": console.can(Perm.keys_manage),
        "error": "" if place or not slot.strip() else translate(language(request), "keys.events.bad_slot"),
    } | context
    if wants_fragment(request):
        return key_view(request, console, "keys/events_table.html", status=status, **context)
    return key_view(
        request, console, "keys/events.html", status=status, alarms=views.open_alarms(db, estate), **context
    )


@router.get("/keys/events")
def cabinet_events(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    kind: Annotated[Text, Query(max_length=20)] = "",
    cabinet: Annotated[Text, Query(max_length=12)] = "",
    slot: Annotated[Text, Query(max_length=8)] = "",
    alerts: Annotated[Text, Query(max_length=3)] = "",
    ack: Annotated[Text, Query(max_length=3)] = "",
    hours: Annotated[int | None, Query(ge=1, le=MAX_HOURS)] = None,
    page: PageNo = 1,
    done: Text = "",
) -> Response:
    """What the cabinet reported and what keys did in their slots, newest first, with the alarms still open: for
    the records admin who keeps the keys, and every role that may see them. Shown as words, in the estate's zone,
    filtered by kind, cabinet, slot (`board-slot`, as the labels read), whether a person must look, whether an alert
    was acknowledged (`ack`: 0 the alerts still open, 1 those acknowledged), and the last `hours` (the dashboard's
    cabinet alerts of the last day). Each alert shows its acknowledgement, or to the keeper of the keys the form."""
    query = {"kind": kind, "cabinet": cabinet, "slot": slot, "alerts": alerts, "ack": ack,
             "hours": str(hours or ""), "page": str(page)}  # fmt: skip
    return _events_page(request, console, db, now, query, flash=flash_key(done, EVENT_DONE))


@router.post("/keys/events/{alert_seq}/acknowledge")
def acknowledge_alert(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    alert_seq: RowId,
    note: Annotated[Text, Form(max_length=cabinet_domain.NOTE_LIMIT)] = "",
    back: Annotated[Text, Form(max_length=400)] = "",
) -> Response:
    """The keeper of the keys has looked at a cabinet alert and writes what they found or did (issue 21); back to
    the event page as it was filtered (`back`: its query, only its own filters kept)."""
    estate = console.require_estate()
    typed = dict(parse_qsl(back))
    query = {k: typed.get(k, "")[:20] for k in EVENT_QUERY}
    kept = {k: v for k, v in query.items() if v}

    def acknowledge() -> Response:
        cabinet_domain.acknowledge_alert(db, console.actor, estate, alert_seq, by=console.user, note=note, now=now)
        target = urlencode(kept | {"done": "alert_acknowledged"})
        return RedirectResponse(f"/console/keys/events?{target}", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _events_page(request, console, db, now, query, status=status, error=error, failed=alert_seq, note=note)

    return form_action(request, db, acknowledge, form_again)
