"""A release-slip image like the virtual printer's output: 576 dots wide, Chinese text, a QR code of the token."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import qrcode
from PIL import Image, ImageDraw, ImageFont

from devices.printing.profiles import DEFAULT_PROFILE
from devices.qr.grey import to_grey
from devices.qr.images import load_image

SLIP_WIDTH_DOTS = 576  # 80 mm paper at 203 dpi

# Fonts with Chinese glyphs, in order of preference; the first that exists is used.
CJK_FONT_CANDIDATES: tuple[str, ...] = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
)


@lru_cache(maxsize=1)
def cjk_font_path() -> Path | None:
    for candidate in CJK_FONT_CANDIDATES:
        path = Path(candidate)
        if path.is_file():
            return path
    return None


@lru_cache(maxsize=8)
def _font(size: int) -> tuple[ImageFont.FreeTypeFont | ImageFont.ImageFont, bool]:
    """A font of ``size`` px and whether it has Chinese glyphs."""
    path = cjk_font_path()
    if path is not None:
        return ImageFont.truetype(str(path), size), True
    return ImageFont.load_default(size), False


def slip_token(rng: np.random.Generator) -> str:
    """An ASCII token shaped like a signed release-slip code: fields, then a 64-byte signature in base64url."""
    slip_no = (
        f"S{rng.integers(2024, 2028)}{rng.integers(1, 13):02d}{rng.integers(1, 29):02d}-{rng.integers(0, 10_000):04d}"
    )
    unit = f"{rng.integers(1, 20)}-{rng.integers(1, 5)}-{rng.integers(1, 33)}{rng.integers(1, 5):02d}"
    items = ";".join(f"C{rng.integers(100, 999)}x{rng.integers(1, 5)}" for _ in range(int(rng.integers(1, 6))))
    signature = base64.urlsafe_b64encode(rng.bytes(64)).decode("ascii").rstrip("=")
    valid_until = rng.integers(1, 2**31)
    return f"ES1.k{rng.integers(1, 9)}.{slip_no}.E{rng.integers(1, 99)}.{unit}.{valid_until}.{items}.{signature}"


def qr_modules(text: str | bytes) -> np.ndarray:
    """The QR symbol as a boolean array (True = dark module), with a 4-module quiet zone."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(text)
    code.make(fit=True)
    return np.array(code.get_matrix(), dtype=bool)


def qr_image(text: str | bytes, module_px: int) -> np.ndarray:
    """A grey QR image (0 dark, 255 light) with ``module_px`` pixels per module."""
    modules = qr_modules(text)
    image = np.where(modules, 0, 255).astype(np.uint8)
    return np.kron(image, np.ones((module_px, module_px), dtype=np.uint8))


@dataclass(frozen=True)
class Slip:
    """A grey slip image, the text of its QR code (None for a slip without one), the code's box (x0, y0, x1, y1)
    and its module in dots."""

    image: np.ndarray
    text: str | None
    qr_box: tuple[int, int, int, int]
    module: float = 4.0


def draw_slip(
    token: str | None, *, module_px: int = 4, slip_no: str = "S20261127-0042", unit: str = "3-2-1201"
) -> Slip:
    """A slip 576 dots wide: header, slip number, unit, item lines, the QR code of ``token``, a footer.

    With ``token`` None the code's place holds only printed lines, as a slip with no code would.
    """
    code = qr_image(token, module_px) if token is not None else _printed_block(module_px * 60)
    big, has_cjk = _font(34)
    small, _ = _font(24)
    if has_cjk:
        lines_top = ["物品放行条", f"放行条号 {slip_no}", f"单元 {unit}", "沙发 x1   纸箱 x3"]
        lines_bottom = ["凭此条出门, 当日有效", "门岗核验后收回"]
    else:
        lines_top = ["RELEASE SLIP", f"No. {slip_no}", f"Unit {unit}", "Sofa x1   Boxes x3"]
        lines_bottom = ["Valid today at the gate", "Kept by the guard"]
    height = 40 + 48 + 36 * 3 + 24 + code.shape[0] + 24 + 34 * 2 + 40
    slip = Image.new("L", (SLIP_WIDTH_DOTS, height), 255)
    draw = ImageDraw.Draw(slip)
    y = 40
    for index, line in enumerate(lines_top):
        font = big if index == 0 else small
        width = draw.textlength(line, font=font)
        draw.text(((SLIP_WIDTH_DOTS - width) / 2, y), line, fill=0, font=font)
        y += 48 if index == 0 else 36
    y += 24
    left = (SLIP_WIDTH_DOTS - code.shape[1]) // 2
    slip.paste(Image.fromarray(code), (left, y))
    box = (left, y, left + code.shape[1], y + code.shape[0])
    y += code.shape[0] + 24
    for line in lines_bottom:
        width = draw.textlength(line, font=small)
        draw.text(((SLIP_WIDTH_DOTS - width) / 2, y), line, fill=0, font=small)
        y += 34
    return Slip(np.asarray(slip).copy(), token, box, float(module_px))


def _printed_block(side: int) -> np.ndarray:
    block = Image.new("L", (side, side), 255)
    draw = ImageDraw.Draw(block)
    font, has_cjk = _font(22)
    words = ["签收人", "日期", "备注", "保安", "业主签字"] if has_cjk else ["Signed", "Date", "Notes", "Guard", "Owner"]
    for row in range(side // 40):
        draw.text((8, 8 + row * 40), f"{words[row % len(words)]}: ________", fill=0, font=font)
    return np.asarray(block)


def load_slip(path: str | Path, text: str) -> Slip:
    """A slip image from disk (e.g. the virtual printer's job-N.png) whose QR code holds ``text``.

    The code is located, and its module measured, by reading the clean image; a file whose code does not read
    is refused.
    """
    return _located(to_grey(load_image(path)), text, str(path))


def _located(grey: np.ndarray, text: str, where: str) -> Slip:
    import zxingcpp

    qr_only = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    codes = [b for b in zxingcpp.read_barcodes(grey, formats=qr_only) if b.text == text]
    extra = codes[0].extra if codes else None  # a dict, though the stubs say only object
    version = str(extra.get("Version", "")) if isinstance(extra, dict) else ""
    if not version.isdigit():
        raise ValueError(f"no QR code with the expected text in slip image {where}")
    position = codes[0].position
    corners = [(p.x, p.y) for p in (position.top_left, position.top_right, position.bottom_right, position.bottom_left)]
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    box = (int(min(xs)), int(min(ys)), int(max(xs)) + 1, int(max(ys)) + 1)
    modules = 17 + 4 * int(version)
    return Slip(grey, text, box, (box[2] - box[0]) / modules)


TOKEN_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"  # Base45, as slip tokens are written


def printed_token(rng: np.random.Generator, length: int) -> str:
    """Text shaped like a slip token (``RS2:`` + Base45): the same symbol size and QR mode as a real one."""
    body = "".join(rng.choice(list(TOKEN_ALPHABET), size=length - 5)) + str(rng.integers(0, 10))
    return "RS2:" + body


def printed_slip(token: str, items: int = 4, profile: str = DEFAULT_PROFILE) -> Slip:
    """A release slip as our virtual printer prints it: the real layout, the printer's font and QR module."""
    from datetime import UTC, datetime, timedelta

    from devices.printing import ApplicantKind, ReleaseSlipPrint, SlipItem, get_profile, slip_bytes
    from devices.printing.layout import qr_module_dots
    from devices.printing.virtual import Interpreter, Job, PrinterState

    issued = datetime(2026, 11, 27, 9, 17, tzinfo=UTC)
    names = ("三人布艺沙发", "双门冰箱", "纸箱 Carton boxes", "旧书架", "自行车", "液晶电视 55寸", "餐椅", "床垫")
    slip = ReleaseSlipPrint(
        estate="观海台小区",
        slip_number="GH-20261127-0042",
        unit="5-8B",
        applicant="王建国",
        applicant_kind=ApplicantKind.OWNER,
        issued_at=issued,
        valid_until=issued + timedelta(hours=10),
        items=tuple(SlipItem(names[n % len(names)], n + 1) for n in range(items)),
        qr_token=token,
    )
    prof = get_profile(profile)
    jobs: list[Job] = []
    printer = Interpreter(prof.dots, lambda: PrinterState.OK, jobs.append, lambda: 1)
    printer.feed(slip_bytes(slip, prof))
    printer.close()
    assert jobs and jobs[0].paper is not None and not jobs[0].errors
    grey = np.asarray(jobs[0].paper.image()).copy()
    located = _located(grey, token, "printed by the virtual printer")
    return Slip(located.image, token, located.qr_box, float(qr_module_dots(token, prof)))
