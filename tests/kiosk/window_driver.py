"""Drives a real kiosk window by a scripted sequence of touches (run as a subprocess under Xvfb).

Usage: python window_driver.py SCRIPT.json — the script names the settings and the steps. After each step the
driver waits until the flow is idle and the screen redrawn, then exports a screenshot of the window. It prints
one JSON line per screenshot, with the milliseconds from the touch to the next frame drawn, then {"done": true}.

Steps: ["tap", id] presses a registered widget; ["touch", id] puts a finger (a real touch event through
Kivy's input) on its centre, ["remember", id] notes where that centre is and ["touch_remembered", id] puts a
finger there later, whatever is there then; ["card", number] is the card reader typing (its key events given
to the window) and ["reader", number] the same as real key presses through the X server (xdotool); ["kb", key]
taps a key of the on-screen keyboard and ["pick", text] the candidate showing `text` (no screenshot for these);
["idle"] lets the idle time pass (the kiosk's own timer then goes home); ["scroll_end", id] scrolls a list to
its end; ["keep_receipt"] keeps the QR text of the confirmation just printed and ["scan_receipt"] types it as
the code reader does; ["stroke", id, [[fx, fy], …]] draws one stroke with a finger (real touch down, moves and up
through Kivy's input) across that widget, at those fractions of its width and height; ["shot"] takes a screenshot as
things are; ["probe", id…] prints where those widgets are
({"probe": {id: {"rect", "text", "opacity"}}}; an id ending in * names every widget whose id starts so).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig
from kiosk.ui.launch import make_app
from terminal.kivy_setup import WindowSpec

QUIET = ("kb", "pick", "remember", "probe", "scroll_end", "keep_receipt")  # steps that need no screenshot of their own


def main(script_path: str) -> None:
    script = json.loads(Path(script_path).read_text(encoding="utf-8"))
    settings = KioskConfig(**script["settings"]).check()
    # "scale" (optional): a smaller window showing the same layout, quicker to draw and to save.
    scale = script.get("scale")
    spec = WindowSpec.from_options(settings.orientation, fullscreen=False, scale=scale) if scale else None
    app = make_app(settings, spec)
    from kivy.base import EventLoop
    from kivy.clock import Clock
    from kivy.core.window import Window

    steps: list[list[Any]] = list(script["steps"])
    out = Path(script["out"])
    prefix = script["prefix"]
    state: dict[str, Any] = {"n": 0, "touched": None, "drawn_at_touch": -1, "deadline": time.monotonic() + 60}
    flips: list[float] = []
    Window.bind(on_flip=lambda *_: flips.append(time.perf_counter()))

    def emit(line: dict[str, Any]) -> None:
        print(json.dumps(line, ensure_ascii=False), flush=True)

    def settled() -> bool:
        return not app.flow.state.busy and not getattr(app, "_pending", False) and app.drawn > state["drawn_at_touch"]

    remembered: dict[str, Any] = {}  # centres by widget id, and the receipt kept

    def centre(wid: str) -> tuple[float, float]:
        widget = app.widgets[wid]
        x, y = widget.to_window(*widget.center)
        return float(x), float(y)

    def touch_at(x: float, y: float) -> None:
        from kivy.tests.common import UnitTestTouch

        finger = UnitTestTouch(x, y)
        finger.touch_down()
        finger.touch_up()

    def describe(wid: str) -> dict[str, Any]:
        widget = app.widgets[wid]
        x, y = widget.to_window(*widget.pos)
        return {
            "rect": [round(x), round(y), round(widget.width), round(widget.height)],
            "text": getattr(widget, "text", None),
            "opacity": widget.opacity,
        }

    def no_redraw() -> None:
        """The step changed nothing on screen: do not wait for a new frame."""
        state["touched"] = None
        state["drawn_at_touch"] = app.drawn - 1

    def act(step: list[Any]) -> None:
        kind = step[0]
        state["touched"] = time.perf_counter()
        state["drawn_at_touch"] = app.drawn
        if kind == "tap":
            app.widgets[step[1]].dispatch("on_release")
        elif kind == "tap_prefix":
            wid = next(w for w in app.widgets if w.startswith(step[1]))
            app.widgets[wid].dispatch("on_release")
        elif kind == "text":
            app.widgets[step[1]].text = step[2]
            state["drawn_at_touch"] = app.drawn - 1  # typing does not redraw the screen
        elif kind == "card":
            for char in step[1]:
                Window.dispatch("on_textinput", char)
            Window.dispatch("on_key_down", 13, 36, "\r", [])
        elif kind == "keep_receipt":  # the code printed on the confirmation just confirmed, for a later scan
            order = app.flow.desk.order
            remembered["receipt"] = order.receipt_code if order else ""
            no_redraw()
        elif kind == "scan_receipt":  # the code reader (a keyboard) reading that confirmation on the home screen
            for char in remembered["receipt"]:
                Window.dispatch("on_textinput", char)
            Window.dispatch("on_key_down", 13, 36, "\r", [])
        elif kind == "reader":
            # The card reader is a keyboard: its keys go through the X server, SDL and Kivy's text input.
            subprocess.run(["xdotool", "type", "--delay", "10", step[1]], check=True, timeout=30)
            subprocess.run(["xdotool", "key", "Return"], check=True, timeout=30)
        elif kind in ("touch", "touch_remembered"):
            touch_at(*(centre(step[1]) if kind == "touch" else remembered[step[1]]))
            if not getattr(app, "_pending", False):
                no_redraw()
        elif kind == "stroke":
            from kivy.tests.common import UnitTestTouch

            widget = app.widgets[step[1]]
            x0, y0 = widget.to_window(*widget.pos)
            points = [(x0 + fx * widget.width, y0 + fy * widget.height) for fx, fy in step[2]]
            finger = UnitTestTouch(*points[0])
            finger.touch_down()
            for x, y in points[1:]:
                finger.touch_move(x, y)
            finger.touch_up()
        elif kind == "kb":
            app.widgets[f"kb.{step[1]}"].dispatch("on_release")
        elif kind == "pick":
            wid = next(w for w in app.widgets if w.startswith("kb.pick.") and app.widgets[w].text == step[1])
            app.widgets[wid].dispatch("on_release")
        elif kind == "shot":
            no_redraw()
        elif kind == "remember":
            remembered[step[1]] = centre(step[1])
            no_redraw()
        elif kind == "idle":
            app.flow.last_touch -= app.flow.idle_seconds + 1
        elif kind == "scroll_end":
            app.widgets[step[1]].scroll_y = 0
            no_redraw()
        elif kind == "probe":
            wids = [
                w
                for asked in step[1:]
                for w in app.widgets
                if w == asked or (asked.endswith("*") and w.startswith(asked[:-1]))
            ]
            screen, language = app.flow.state.screen.value, app.flow.state.language
            emit({"probe": {wid: describe(wid) for wid in wids}, "screen": screen, "language": language})
            no_redraw()
        else:
            raise ValueError(f"unknown step {step!r}")

    def poll(_dt: float) -> None:
        if time.monotonic() > state["deadline"]:
            emit({"error": f"step {state['n']} did not settle", "screen": app.flow.state.screen.value})
            app.stop()
            return
        if not settled():
            return
        if state["touched"] is not None and not [f for f in flips if f > state["touched"]]:
            return  # wait for the frame that shows the new screen
        coming = steps[state["n"]] if state["n"] < len(steps) else None
        if coming and coming[0] == "tap" and coming[1] not in app.widgets:
            return  # the screen that holds the next widget is still being built: look again at the next poll
        step = steps[state["n"] - 1] if state["n"] else ["start"]
        if step[0] != "text" and step[0] not in QUIET:
            latency = None
            if state["touched"] is not None:
                latency = round((min(f for f in flips if f > state["touched"]) - state["touched"]) * 1000, 2)
            screen = app.flow.state.screen.value
            path = out / f"{prefix}-{state['n']:02d}-{screen}.png"
            app.root.export_to_png(str(path))
            line = {"shot": str(path), "screen": screen, "step": step, "touch_to_frame_ms": latency}
            emit(line | {"language": app.flow.state.language})
        if state["n"] >= len(steps):
            emit({"done": True})
            app.stop()
            return
        try:
            act(steps[state["n"]])
        except Exception:
            emit({"error": traceback.format_exc(), "step": steps[state["n"]]})
            app.stop()
            return
        state["n"] += 1
        state["deadline"] = time.monotonic() + 30

    Clock.schedule_interval(poll, 0.05)
    app.run()
    EventLoop.close()


if __name__ == "__main__":
    main(sys.argv[1])
