"""The virtual printer's ESC/POS interpreter: bytes in, paper and status replies out.

It understands what a slip printer needs (text in and out of Chinese mode, alignment, bold and sizes, positions
and feeds, GS ( k QR, GS v 0 raster, cut, DLE EOT) and refuses anything else with an error instead of guessing.
Bytes may arrive split anywhere: an incomplete command waits for the rest.

As a real printer does, it answers DLE EOT n wherever the three bytes appear, image data included: a raster
job whose dots happen to spell 10 04 n gets a status byte back nobody asked for.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from devices.printing.render import render_qr
from devices.printing.virtual.paper import Paper, Style
from devices.printing.virtual.status import PrinterState, status_reply

log = logging.getLogger(__name__)


class Incomplete(Exception):
    """The buffer ends inside a command."""


class Refused(Exception):
    """Bytes the printer does not understand."""


@dataclass
class Job:
    """Everything between an initialise (or the previous cut) and a cut, or the end of the connection."""

    number: int
    data: bytearray = field(default_factory=bytearray)
    paper: Paper | None = None
    qr_payloads: list[bytes] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    cut: bool = False


class Interpreter:
    """One connection's byte stream. `on_job` receives each finished job; `state` answers DLE EOT."""

    def __init__(
        self,
        width: int,
        state: Callable[[], PrinterState],
        on_job: Callable[[Job], None],
        next_number: Callable[[], int],
    ) -> None:
        self.width = width
        self.state = state
        self.on_job = on_job
        self.next_number = next_number
        self.buffer = bytearray()
        self.refused = False
        self.chinese = False
        self.style = Style()
        self.qr_module = 3
        self.qr_ec = "L"  # GS ( k function 169: L until the host chooses
        self.qr_data = b""
        self.job: Job | None = None
        self.image_rows = 0  # rows of raster image put on paper, for the server's print-speed pacing
        self._data_replies = bytearray()  # answers to DLE EOT n met inside a command's data

    # --- stream ---------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> bytes:
        """Take bytes from the line; return the real-time replies to send back."""
        replies = bytearray()
        if self.refused:
            self._current().data += data
            return bytes(replies)
        self.buffer += data
        pos = 0
        while pos < len(self.buffer):
            try:
                end, reply = self._step(pos)
            except Incomplete:
                break
            except Refused as exc:
                self._refuse(str(exc), pos)
                return bytes(replies)
            if reply is not None:
                replies += reply
            pos = end
        del self.buffer[:pos]
        return bytes(replies)

    def close(self) -> None:
        """The connection ended: a job without a cut is still delivered, with what arrived."""
        if self.buffer and not self.refused:
            self._current().data += self.buffer
            self._current().errors.append(f"connection closed inside a command: {bytes(self.buffer[:8]).hex(' ')}")
        self.buffer.clear()
        job = self.job
        if job is not None and job.paper is not None:
            job.paper.flush_line(self.style)
            if job.paper.blank and not job.errors:
                self.job = None  # an initialise with nothing printed is not a job
                return
            self._finish(cut=False)

    def _refuse(self, reason: str, pos: int) -> None:
        job = self._current()
        message = f"refused at byte {len(job.data)} of job {job.number}: {reason}"
        log.error("virtual printer %s", message)
        job.errors.append(message)
        job.data += self.buffer[pos:]
        self.buffer.clear()
        self.refused = True

    def _current(self) -> Job:
        if self.job is None:
            self.job = Job(self.next_number(), paper=Paper(self.width))
        return self.job

    def _finish(self, cut: bool) -> None:
        job = self._current()
        assert job.paper is not None
        job.paper.flush_line(self.style)
        job.cut = cut
        self.job = None
        self.on_job(job)

    # --- commands -------------------------------------------------------------------------------------

    def _need(self, pos: int, count: int) -> bytes:
        if pos + count > len(self.buffer):
            raise Incomplete
        return bytes(self.buffer[pos : pos + count])

    def _step(self, pos: int) -> tuple[int, bytes | None]:
        b = self.buffer[pos]
        if b == 0x10:  # DLE EOT n: real-time status, answered at once and not part of the job
            _, eot, n = self._need(pos, 3)
            if eot != 0x04 or n not in (1, 2, 3, 4):
                raise Refused(f"DLE {eot:02x} {n:02x} is not a supported real-time command")
            return pos + 3, status_reply(self.state(), n)
        job = self._current()
        assert job.paper is not None
        end = self._command(pos, job, job.paper)
        job.data += self.buffer[pos:end]
        if job.cut:
            job.cut = False
            self._finish(cut=True)
        stray = bytes(self._data_replies)
        self._data_replies.clear()
        return end, stray or None

    def _command(self, pos: int, job: Job, paper: Paper) -> int:
        b = self.buffer[pos]
        if b == 0x0A:
            paper.print_line(self.style)
            return pos + 1
        if b == 0x0D:
            return pos + 1  # carriage return: the LF that follows prints
        if 0x20 <= b <= 0x7E:
            paper.put_char(chr(b), self.style)
            return pos + 1
        if b >= 0x80:
            return self._multibyte(pos, paper)
        if b == 0x1B:
            return self._esc(pos, paper)
        if b == 0x1D:
            return self._gs(pos, job, paper)
        if b == 0x1C:
            (_, op) = self._need(pos, 2)
            if op == 0x26:
                self.chinese = True
            elif op == 0x2E:
                self.chinese = False
            else:
                raise Refused(f"FS {op:02x} is not supported")
            return pos + 2
        raise Refused(f"control byte {b:02x}")

    def _multibyte(self, pos: int, paper: Paper) -> int:
        if not self.chinese:
            raise Refused(f"byte {self.buffer[pos]:02x} outside Chinese mode (code-page text is not emulated)")
        pair = self._need(pos, 2)
        if not (0x81 <= pair[0] <= 0xFE and 0x40 <= pair[1] <= 0xFE and pair[1] != 0x7F):
            raise Refused(f"{pair.hex(' ')} is not a 2-byte GB18030 code")
        paper.put_char(pair.decode("gb18030"), self.style)
        return pos + 2

    def _esc(self, pos: int, paper: Paper) -> int:
        op = self._need(pos, 2)[1]
        if op == 0x40:  # ESC @
            paper.flush_line(self.style)
            self.style, self.chinese = Style(), False
            return pos + 2
        if op == 0x32:  # ESC 2: default line spacing (ours is fixed)
            return pos + 2
        arg = self._need(pos, 3)[2]
        if op == 0x61:  # ESC a
            self.style.align = {0: "left", 1: "center", 2: "right", 48: "left", 49: "center", 50: "right"}.get(
                arg, "left"
            )
        elif op == 0x45:  # ESC E
            self.style.bold = bool(arg & 1)
        elif op == 0x21:  # ESC !: emphasis, and double size for Latin characters only
            self.style.bold = bool(arg & 0x08)
            self.style.latin_size = (2 if arg & 0x20 else 1, 2 if arg & 0x10 else 1)
        elif op == 0x4A:  # ESC J n: print and feed n dots
            paper.flush_line(self.style)
            paper.feed(arg)
        elif op == 0x64:  # ESC d n: print and feed n lines
            paper.print_line(self.style)
            for _ in range(max(arg - 1, 0)):
                paper.print_line(self.style)
        elif op == 0x74:  # ESC t: code page (text outside Chinese mode is refused anyway)
            pass
        elif op == 0x24:  # ESC $ nL nH
            high = self._need(pos, 4)[3]
            paper.move_to(arg | (high << 8), self.style)
            return pos + 4
        else:
            raise Refused(f"ESC {op:02x} is not supported")
        return pos + 3

    def _gs(self, pos: int, job: Job, paper: Paper) -> int:
        op = self._need(pos, 2)[1]
        if op == 0x21:  # GS ! n
            n = self._need(pos, 3)[2]
            self.style.width_mult, self.style.height_mult = (n >> 4) + 1, (n & 0x0F) + 1
            self.style.latin_size = None  # the later size command decides for Latin too
            return pos + 3
        if op == 0x56:  # GS V m [n]
            m = self._need(pos, 3)[2]
            length = 3
            if m in (65, 66, 97, 98):
                paper.flush_line(self.style)
                paper.feed(self._need(pos, 4)[3])
                length = 4
            elif m not in (0, 1, 48, 49):
                raise Refused(f"GS V {m} is not a known cut")
            job.cut = True
            return pos + length
        if op == 0x28:
            return self._qr(pos, job, paper)
        if op == 0x76:
            return self._raster(pos, paper)
        raise Refused(f"GS {op:02x} is not supported")

    def _qr(self, pos: int, job: Job, paper: Paper) -> int:
        head = self._need(pos, 7)
        if head[2] != 0x6B:
            raise Refused(f"GS ( {head[2]:02x} is not supported")
        size = head[3] | (head[4] << 8)
        body = self._need(pos, 5 + size)[5:]
        cn, fn, args = body[0], body[1], body[2:]
        if cn != 0x31:
            raise Refused(f"GS ( k symbol type {cn:02x} (only QR, 31) is supported")
        if fn == 0x41:
            if args[:1] != b"\x32":
                raise Refused("QR model other than 2")
        elif fn == 0x43:
            if not 1 <= args[0] <= 16:
                raise Refused(f"QR module size {args[0]}")
            self.qr_module = args[0]
        elif fn == 0x45:
            if args[0] not in (0x30, 0x31, 0x32, 0x33):
                raise Refused(f"QR error correction {args[0]:02x}")
            self.qr_ec = "LMQH"[args[0] - 0x30]
        elif fn == 0x50:
            self.qr_data = bytes(args[1:])
        elif fn == 0x51:
            paper.flush_line(self.style)
            job.qr_payloads.append(self.qr_data)
            qr = render_qr(self.qr_data.decode("latin-1"), self.qr_module, self.width, self.style.align, self.qr_ec)
            paper.put_block(qr, "left")
        else:
            raise Refused(f"QR function {fn:02x} is not supported")
        return pos + 5 + size

    def _answer_realtime_in(self, data: bytes) -> None:
        """The printer's receive handler sees DLE EOT n in image data too, and answers it."""
        at = data.find(b"\x10\x04")
        while 0 <= at <= len(data) - 3:
            n = data[at + 2]
            if n in (1, 2, 3, 4):
                self._data_replies += status_reply(self.state(), n) or b""
            at = data.find(b"\x10\x04", at + 1)

    def _raster(self, pos: int, paper: Paper) -> int:
        head = self._need(pos, 8)
        if head[2] not in (0x30, 0x00):
            raise Refused(f"GS v {head[2]:02x} is not supported")
        mode, xbytes, rows = head[3], head[4] | (head[5] << 8), head[6] | (head[7] << 8)
        if mode not in (0, 1, 2, 3, 48, 49, 50, 51):
            raise Refused(f"GS v 0 mode {mode}")
        if xbytes * 8 > self.width:
            raise Refused(f"raster image {xbytes * 8} dots wide on {self.width}-dot paper")
        data = self._need(pos, 8 + xbytes * rows)[8:]
        self._answer_realtime_in(data)
        self.image_rows += rows
        bits = np.unpackbits(np.frombuffer(data, dtype=np.uint8)).reshape(rows, xbytes * 8)
        image = Image.fromarray(np.where(bits == 1, 0, 255).astype(np.uint8), mode="L")
        if mode & 1:
            image = image.resize((image.width * 2, image.height), Image.Resampling.NEAREST)
        if mode & 2:
            image = image.resize((image.width, image.height * 2), Image.Resampling.NEAREST)
        paper.flush_line(self.style)
        paper.put_block(image.crop((0, 0, min(image.width, self.width), image.height)), self.style.align)
        return pos + 8 + xbytes * rows
