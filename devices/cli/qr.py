"""`estate devices qr …`."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import Annotated

import typer

from devices.cli._output import PlainHelpCommand, PlainHelpGroup, emit, fail, say
from devices.qr import DECODER_NAMES, DEFAULT_DECODER, DecoderUnavailable, ImageReadError, load_image
from devices.qr.images import expand_image_paths
from devices.qr.pipeline import ScanPipeline

app = typer.Typer(no_args_is_help=True, cls=PlainHelpGroup, help="qr diagnostics")


@app.command(cls=PlainHelpCommand)
def decode(
    files: Annotated[list[Path], typer.Argument(help="Image files, or folders of them (read in name order).")],
    decoder: Annotated[str, typer.Option(help=f"One of: {', '.join(DECODER_NAMES)}.")] = DEFAULT_DECODER,
) -> None:
    """Decode the QR code in each image: one JSON line per file, {"file":..,"text":..|null,"ms":..}.

    The text is as the code says it (UTF-8, or GB2312/GBK); a code holding bytes that are not text has "text":
    null and "base64" with its bytes. Exits 1 when any file has no readable code.
    """
    if decoder not in DECODER_NAMES:
        fail(f"unknown decoder {decoder!r}; expected one of: {', '.join(DECODER_NAMES)}")
    try:
        # Still photos have no frame budget: every fallback pass may run.
        pipeline = ScanPipeline.for_decoder(decoder, budget_ms=None)
    except DecoderUnavailable as exc:
        fail(str(exc))
    paths = list(expand_image_paths(files))
    if not paths:
        fail("no image files given (folders are searched for .png, .jpg, .jpeg, .bmp, .tif, .webp, .gif)")
    unreadable = 0
    read = 0
    for path in paths:
        started = time.perf_counter()
        try:
            image = load_image(path)
        except ImageReadError as exc:
            unreadable += 1
            say(str(exc))
            ms = round((time.perf_counter() - started) * 1000, 2)
            emit({"file": str(path), "text": None, "ms": ms, "error": str(exc)})
            continue
        result = pipeline.scan(image)
        ms = round((time.perf_counter() - started) * 1000, 2)
        row: dict[str, object] = {"file": str(path), "text": None, "ms": ms}
        if result.codes:
            code = result.codes[0]
            read += 1
            row["text"] = code.text
            if code.text is None:
                row["base64"] = base64.b64encode(code.raw).decode("ascii")
        emit(row)
    say(f"{read} of {len(paths)} file(s) had a readable QR code ({pipeline.decoder_name})")
    if unreadable:
        fail(f"{unreadable} file(s) could not be read as images")
    if read < len(paths):
        fail(f"no QR code found in {len(paths) - read} file(s) / 未识别到二维码")
