"""`estate devices camera …`."""

from __future__ import annotations

import threading
import time
from typing import Annotated

import typer

from devices.backoff import Backoff
from devices.camera import CameraState, CameraUrlError, ScanEvent, Scanner, StateChange
from devices.cli._output import PlainHelpCommand, PlainHelpGroup, emit, fail, say
from devices.qr import DECODER_NAMES, DEFAULT_DECODER, DecoderUnavailable
from devices.qr.pipeline import ScanPipeline

app = typer.Typer(no_args_is_help=True, cls=PlainHelpGroup, help="camera diagnostics")


@app.command(cls=PlainHelpCommand)
def scan(
    camera: Annotated[str, typer.Option(help="Camera URL: v4l2://0, rtsp://…, file:///video.mp4, images:///folder.")],
    frames: Annotated[int, typer.Option(help="Stop after this many frames (0: until interrupted).", min=0)] = 0,
    decoder: Annotated[str, typer.Option(help=f"One of: {', '.join(DECODER_NAMES)}.")] = DEFAULT_DECODER,
    debounce: Annotated[float, typer.Option(help="Report the same code once per this many seconds.", min=0)] = 3.0,
    timeout: Annotated[float, typer.Option(help="Fail if no frame arrives for this many seconds.", min=0.1)] = 10.0,
) -> None:
    """Read codes from a camera: one JSON line per decoded code, {"frame":n,"text":..,"ms":..}."""
    if decoder not in DECODER_NAMES:
        fail(f"unknown decoder {decoder!r}; expected one of: {', '.join(DECODER_NAMES)}")
    try:
        pipeline = ScanPipeline.for_decoder(decoder)
    except DecoderUnavailable as exc:
        fail(str(exc))
    progress = threading.Event()
    opened = threading.Event()
    never_opened: list[str] = []  # why the camera could not be opened at all: one clear error, not a retry loop

    def on_state(change: StateChange) -> None:
        if change.state is CameraState.STREAMING:
            opened.set()
        elif not opened.is_set() and change.state in (CameraState.LOST, CameraState.STOPPED):
            never_opened.append(change.detail)
            return
        retry = f", retrying in {change.retry_in_s:.1f} s" if change.retry_in_s is not None else ""
        say(f"camera {change.state.value}: {change.detail}{retry}")

    def on_event(event: ScanEvent) -> None:
        emit({"frame": event.frame_no, "text": event.text, "ms": round(event.decode_ms, 2)})

    try:
        scanner = Scanner(
            camera,
            on_event=on_event,
            on_state=on_state,
            on_frame=lambda *_: progress.set(),
            pipeline=pipeline,
            debounce_s=debounce,
            backoff=Backoff(initial=0.5, maximum=5.0),
            frame_limit=frames or None,
        )
    except CameraUrlError as exc:
        fail(str(exc))
    scanner.start()
    try:
        last_progress = time.monotonic()
        while not scanner.wait(timeout=0.1):
            if never_opened:
                fail(never_opened[0])
            if progress.is_set():
                progress.clear()
                last_progress = time.monotonic()
            elif time.monotonic() - last_progress > timeout:
                fail(f"no frame from {camera} for {timeout:g} s (camera {scanner.state.value})")
    except KeyboardInterrupt:
        say("interrupted")
    finally:
        scanner.stop()
    if scanner.frames_scanned == 0:
        fail(f"no frame from {camera}")
    say(f"{scanner.frames_scanned} frame(s) scanned at {scanner.fps:.1f} fps ({pipeline.decoder_name})")
    if scanner.state is not CameraState.STOPPED:
        say(f"camera state at exit: {scanner.state.value}")
