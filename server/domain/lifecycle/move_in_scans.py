"""The copies a move-in keeps, as scans (R-MOVE): the owner's ID copied twice, the bank book once, and a photo of
each family member. Each scan is a JPEG or PNG of at most 5 MB that decodes whole (checked with Pillow, its media
type taken from what it is, never from what the browser said), stored with its SHA-256, who took it and when. The
desk adds scans while the move-in is open and deletes a wrongly taken one, but never below what a step already
passed needed: the right scan is added first, then the wrong one deleted."""

from __future__ import annotations

import hashlib
import io
import warnings
from datetime import datetime

from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.lifecycle import MoveIn, MoveInScan, MoveInState, ScanKind
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed

MAX_SCAN_BYTES = 5 * 1024 * 1024
MAX_SCANS_PER_POST = 3  # the desk's form takes a few at once (the two ID copies)
MAX_SIDE = 10_000  # pixels: a phone's or a flatbed's scan, never more
MAX_PIXELS = 40_000_000
MEDIA_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png"}
NAMES: dict[ScanKind, tuple[str, str]] = {
    ScanKind.id_copy: ("身份证复印件", "ID copy"),
    ScanKind.bank_book: ("银行存折复印件", "Bank-book copy"),
    ScanKind.family_photo: ("家庭成员照片", "Family photo"),
}
ID_COPIES, BANK_COPIES = 2, 1
# The state from which each kind is needed: the papers check (ID, bank book) and the signing (photos).
NEEDED_FROM: dict[ScanKind, frozenset[MoveInState]] = {
    ScanKind.id_copy: frozenset(MoveInState) - {MoveInState.queued},
    ScanKind.bank_book: frozenset(MoveInState) - {MoveInState.queued},
    ScanKind.family_photo: frozenset(MoveInState) - {MoveInState.queued, MoveInState.checked},
}
CLOSED = (MoveInState.filed, MoveInState.cancelled)


def kind_of(text: str) -> ScanKind:
    if text not in ScanKind.__members__:
        raise DomainError(
            "请选择复印件种类（身份证、银行存折、家庭成员照片）",
            "choose what the scan is of (ID copy, bank book, family photo)",
            code="bad_scan_kind",
        )
    return ScanKind(text)


def checked_image(data: bytes) -> tuple[str, int, int]:
    """The media type and size in pixels of `data` if it is a JPEG or PNG of at most 5 MB that decodes whole;
    `scan_too_large` or `bad_scan` (422) otherwise."""
    if len(data) > MAX_SCAN_BYTES:
        raise DomainError(
            f"扫描件超过 {MAX_SCAN_BYTES // (1024 * 1024)} MB，请降低分辨率后重新拍摄",
            f"the scan is over {MAX_SCAN_BYTES // (1024 * 1024)} MB: take it again at a lower resolution",
            code="scan_too_large",
            status=422,
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                media_type = MEDIA_TYPES.get(image.format or "")
                width, height = image.size
                if media_type is None or max(width, height) > MAX_SIDE or width * height > MAX_PIXELS:
                    raise ValueError
                image.load()
    except (ValueError, OSError, SyntaxError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise DomainError(
            "扫描件须为能打开的 JPEG 或 PNG 图片",
            "a scan is a JPEG or PNG image that opens",
            code="bad_scan",
            status=422,
        ) from None
    return media_type, width, height


def _desk(by: StaffUser) -> None:
    if not allowed(by.role, Perm.movein_desk):
        raise Forbidden(f"复印件需要权限 {Perm.movein_desk.value}", f"scans need permission {Perm.movein_desk.value}")


def _open(move_in: MoveIn) -> None:
    if move_in.state in CLOSED:
        raise Conflict(
            f"入伙 {move_in.number} 已归档或取消，复印件不能再改",
            f"move-in {move_in.number} is filed or cancelled: its scans are final",
            code="scans_closed",
        )


def scans_of(session: Session, move_in: MoveIn) -> list[MoveInScan]:
    """The move-in's scans by kind (ID copies, bank book, photos) and time, without their images."""
    found = session.scalars(select(MoveInScan).where(MoveInScan.move_in_id == move_in.id).order_by(MoveInScan.id))
    order = list(ScanKind)
    return sorted(found, key=lambda scan: order.index(scan.kind))


def counts(session: Session, move_in: MoveIn) -> dict[ScanKind, int]:
    found = session.execute(
        select(MoveInScan.kind, func.count()).where(MoveInScan.move_in_id == move_in.id).group_by(MoveInScan.kind)
    )
    return {ScanKind.id_copy: 0, ScanKind.bank_book: 0, ScanKind.family_photo: 0} | {kind: n for kind, n in found}


def get(session: Session, estate: Estate, move_in_id: int, scan_id: int) -> MoveInScan:
    found = session.get(MoveInScan, scan_id)
    move_in = session.get(MoveIn, move_in_id)
    if found is None or move_in is None or move_in.estate_id != estate.id or found.move_in_id != move_in.id:
        raise NotFound("没有这份复印件", "no such scan", code="unknown_scan")
    return found


def add(
    session: Session,
    actor: Actor,
    move_in: MoveIn,
    kind: ScanKind,
    images: list[bytes],
    *,
    by: StaffUser,
    now: datetime,
) -> list[MoveInScan]:
    """Keep `images` as scans of `kind`: all of them, or none when one is not a JPEG or PNG that opens or is too
    large."""
    _desk(by)
    _open(move_in)
    if not images:
        raise DomainError("请选择或拍摄扫描件", "choose or take a scan", code="missing_fields", fields=["scan"])
    if len(images) > MAX_SCANS_PER_POST:
        raise DomainError(
            f"一次最多上传 {MAX_SCANS_PER_POST} 份扫描件",
            f"at most {MAX_SCANS_PER_POST} scans at a time",
            code="too_many_scans",
            status=422,
        )
    checked = [(data, checked_image(data)) for data in images]
    added = []
    for data, (media_type, width, height) in checked:
        scan = MoveInScan(
            move_in_id=move_in.id,
            kind=kind,
            media_type=media_type,
            data=data,
            size=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
            width=width,
            height=height,
            uploaded_by_id=by.id,
            uploaded_at=now,
        )
        session.add(scan)
        session.flush()
        audit.record(
            session, actor, "move_in.scan_added", "move_in", move_in.id, estate_id=move_in.estate_id,
            scan_id=scan.id, kind=kind.value, sha256=scan.sha256, size=scan.size, media_type=media_type,
        )  # fmt: skip
        added.append(scan)
    return added


def minimum(move_in: MoveIn, kind: ScanKind) -> int:
    """How many scans of `kind` the steps the move-in has passed needed."""
    if move_in.state not in NEEDED_FROM[kind]:
        return 0
    if kind is ScanKind.id_copy:
        return ID_COPIES
    if kind is ScanKind.bank_book:
        return BANK_COPIES
    return max(move_in.family_members, 1)


def delete(
    session: Session, actor: Actor, estate: Estate, move_in: MoveIn, scan_id: int, *, by: StaffUser, now: datetime
) -> None:
    """A wrongly taken scan removed while the move-in is open, never below what a passed step needed."""
    _desk(by)
    scan = get(session, estate, move_in.id, scan_id)
    _open(move_in)
    if counts(session, move_in)[scan.kind] - 1 < minimum(move_in, scan.kind):
        zh, en = NAMES[scan.kind]
        raise Conflict(
            f"已办步骤需要这些{zh}：请先补扫正确的一份，再删除错误的",
            f"a step already taken needs these: add the right {en.lower()} first, then delete the wrong one",
            code="scan_needed",
        )
    audit.record(
        session, actor, "move_in.scan_deleted", "move_in", move_in.id, estate_id=estate.id, scan_id=scan.id,
        kind=scan.kind.value, sha256=scan.sha256, at=now.isoformat(),
    )  # fmt: skip
    session.delete(scan)
    session.flush()
