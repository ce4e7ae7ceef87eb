"""Printing a slip from the console (R-REL-4): on the workstation's ESC/POS printer, or on office paper as a print
view or a PDF with the stub 存根联 and the customer copy 客户联. Every print is logged with who printed it where; the
workstation remembers its printer in a cookie."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from devices.printing import ReleaseSlipPrint
from server.api.slip_views import slip_out
from server.console.pages import form_action, language
from server.console.registry_pages import view
from server.console.slip_pages import PRINTER_COOKIE, Issuer, detail_page
from server.console.slip_print import copies, png_data_url, slip_pdf
from server.contract.fields import Text
from server.contract.printing import printable
from server.db.models import ReleaseSlip
from server.domain.errors import DomainError
from server.domain.slips import catalogue, issuing, printing
from server.web.deps import Console, DbSession, Now
from server.web.params import ROW_ID, RowId

router = APIRouter()

OFFICE = {"page": ("A4 打印页", "A4 print page"), "pdf": ("A4 PDF", "A4 PDF")}
COOKIE_AGE = 365 * 24 * 3600


def _printed(db: DbSession, console: Console, slip: ReleaseSlip) -> ReleaseSlipPrint:
    """The slip as the kiosk prints it: the same print data, token and layout."""
    estate = console.require_estate()
    return printable(slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True), estate.timezone)


@router.post("/slips/{slip_id}/print")
def print_slip(
    request: Request,
    console: Issuer,
    db: DbSession,
    now: Now,
    slip_id: RowId,
    printer: Annotated[Text, Form(max_length=12)] = "",
) -> Response:
    """Print on the chosen printer: a desk printer's id, `page` (the print view) or `pdf`."""
    estate = console.require_estate()
    slip = issuing.get_slip(db, estate, slip_id)

    def act() -> Response:
        response: Response
        if printer in OFFICE:
            printing.check_printable(slip)
            printed = _printed(db, console, slip)
            where = OFFICE[printer][0 if language(request) == "zh" else 1]
            printing.record_print(db, console.actor, slip, where, now=now)
            if printer == "pdf":
                response = Response(
                    slip_pdf(printed),
                    media_type="application/pdf",
                    headers={"Content-Disposition": f"attachment; filename*=UTF-8''slip-{slip.number}.pdf"},
                )
            else:
                images = [(kind, png_data_url(image)) for kind, image in copies(printed)]
                response = view(request, console, "slips/print.html", slip=slip, images=images)
        else:
            if not ROW_ID.fullmatch(printer):
                raise DomainError("请选择打印机", "pick a printer", code="pick_printer")
            device = printing.get_printer(db, estate, int(printer))
            reprint = printing.print_at_desk(db, console.actor, slip, _printed(db, console, slip), device, now=now)
            done = "slip_reprinted" if reprint else "slip_printed"
            response = RedirectResponse(f"/console/slips/{slip.id}?done={done}", status_code=303)
        response.set_cookie(
            PRINTER_COOKIE, printer, max_age=COOKIE_AGE, httponly=True, samesite="strict", path="/console"
        )
        response.headers["Cache-Control"] = "no-store"
        return response

    def again(status: int, error: str) -> Response:
        db.expire_all()
        return detail_page(request, db, console, slip_id, status=status, error=error)

    return form_action(request, db, act, again)
