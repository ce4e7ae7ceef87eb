"""The scans a move-in keeps (R-MOVE), on its page: the desk takes the ID copies, the bank-book copy and the family
members' photos with a tablet's camera or from a file (multipart, up to three at once), sees each as a thumbnail,
opens it, and deletes a wrongly taken one before the move-in is filed. The images are served only to whoever may see
move-ins, never cached."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import UploadFile

from server.console.move_in_pages import _page
from server.console.pages import form_action
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle import move_in_scans as scans
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import MOVE_IN_SCAN_BODY
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.movein_view)]
Desk = Annotated[Console, require(Perm.movein_desk)]


def _again(request: Request, db: DbSession, console: Console, move_in_id: int, status: int, error: str) -> Response:
    db.expire_all()
    return _page(request, db, console, move_in_id, status=status, error=error)


@router.post("/move-in/{move_in_id}/scans", max_body_size=MOVE_IN_SCAN_BODY)
async def add_scans(request: Request, console: Desk, db: DbSession, now: Now, move_in_id: RowId) -> Response:
    """`kind` and one or more files in `scan`: all kept, or none when one is not a JPEG or PNG that opens."""
    record = desk.get(db, console.require_estate(), move_in_id)
    form = await request.form()
    kind = form.get("kind", "")
    uploads = [u for u in form.getlist("scan") if isinstance(u, UploadFile) and u.filename]
    images = [await u.read(scans.MAX_SCAN_BYTES + 1) for u in uploads[: scans.MAX_SCANS_PER_POST + 1]]

    def act() -> Response:
        chosen = scans.kind_of(kind if isinstance(kind, str) else "")
        scans.add(db, console.actor, record, chosen, images, by=console.user, now=now)
        return RedirectResponse(f"/console/move-in/{move_in_id}?done=movein_scans#scans", status_code=303)

    return form_action(request, db, act, lambda status, error: _again(request, db, console, move_in_id, status, error))


@router.get("/move-in/{move_in_id}/scans/{scan_id}")
def scan_image(console: Viewer, db: DbSession, move_in_id: RowId, scan_id: RowId) -> Response:
    found = scans.get(db, console.require_estate(), move_in_id, scan_id)
    return Response(
        found.data,
        media_type=found.media_type,
        headers={"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.post("/move-in/{move_in_id}/scans/{scan_id}/delete")
def delete_scan(
    request: Request, console: Desk, db: DbSession, now: Now, move_in_id: RowId, scan_id: RowId
) -> Response:
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)

    def act() -> Response:
        scans.delete(db, console.actor, estate, record, scan_id, by=console.user, now=now)
        return RedirectResponse(f"/console/move-in/{move_in_id}?done=movein_scan_deleted#scans", status_code=303)

    return form_action(request, db, act, lambda status, error: _again(request, db, console, move_in_id, status, error))
