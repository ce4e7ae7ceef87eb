"""Drives a real kiosk window by a scripted sequence of touches (run as a subprocess under Xvfb).

Usage: python window_driver.py SCRIPT.json — the script names the settings and the steps. After each step the
driver waits until the flow is idle and the screen redrawn, then exports a screenshot of the window. It prints
one JSON line per screenshot, with the milliseconds from the touch to the next frame drawn, then {"done": true}.
"""

from __future__ import annotations

import json
import sys
import time
import traceback
from pathlib import Path
from typing import Any

from kiosk.config import KioskConfig
from kiosk.ui.launch import make_app


def main(script_path: str) -> None:
    script = json.loads(Path(script_path).read_text(encoding="utf-8"))
    settings = KioskConfig(**script["settings"]).check()
    app = make_app(settings)
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
        step = steps[state["n"] - 1] if state["n"] else ["start"]
        if step[0] != "text":
            latency = None
            if state["touched"] is not None:
                latency = round((min(f for f in flips if f > state["touched"]) - state["touched"]) * 1000, 2)
            screen = app.flow.state.screen.value
            path = out / f"{prefix}-{state['n']:02d}-{screen}.png"
            app.root.export_to_png(str(path))
            emit({"shot": str(path), "screen": screen, "step": step, "touch_to_frame_ms": latency})
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
