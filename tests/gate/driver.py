"""The window tests' driver inside the running gate app (`tests.gate.run_scripted` attaches it): it taps through a
JSON script of steps, waits for flow states, saves screenshots, and logs each step as a JSON line.

Steps: {"wait": "checklist", "timeout": 60} · {"wait_link": "token_refused"} · {"wait_repeats": 1} ·
{"tap": "release"} · {"where": "pin:1"} (the widget's place in the window) ·
{"texts": true} (every label's text, colour and the colour behind it) ·
{"tap_all": "match:"} · {"screenshot": "var/screenshots/gate-checklist.png"} · {"quit": true}
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Any

from kivy.clock import Clock
from kivy.core.window import Window
from kivy.uix.button import Button
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from gate.ui.app import GateApp
from gate.ui.widgets import Panel


class Driver:
    def __init__(self, app: GateApp, steps: list[dict[str, Any]], log: Path) -> None:
        self.app, self.steps, self.log = app, steps, log
        self.index = 0
        self.started = time.monotonic()
        self.settle = 0
        self.still, self.last_place = 0, None

    def write(self, **entry: object) -> None:
        with self.log.open("a", encoding="utf-8") as out:
            out.write(json.dumps({"state": self.app.flow.state, **entry}, ensure_ascii=False, default=str) + "\n")

    def tick(self, _dt: float) -> bool:
        if self.index >= len(self.steps):
            return False
        if self.settle:  # let the screen draw a frame or two after a change
            self.settle -= 1
            return True
        step = self.steps[self.index]
        flow = self.app.flow
        if "wait" in step or "wait_link" in step or "wait_repeats" in step or "wait_text" in step:
            if "wait" in step:
                reached = flow.state == step["wait"]
            elif "wait_text" in step:  # a label showing this text, e.g. an answer that arrives from a background call
                reached = any(label["text"] == step["wait_text"] for label in labels(self.app.root))
            elif "wait_link" in step:
                reached = self.app.runtime.link.state == step["wait_link"]
            else:  # the slip just finished was seen again and ignored that many times
                reached = flow.repeats_ignored >= step["wait_repeats"]
            if not reached:
                if time.monotonic() - self.started > float(step.get("timeout", 60)):
                    verdict = flow.verdict.code if flow.verdict else None
                    self.write(step=step, ok=False, error="timeout", verdict=verdict, link=self.app.runtime.link.state)
                    self.app.stop()
                    return False
                return True
            self.write(step=step, ok=True, verdict=flow.verdict.code if flow.verdict else None)
        elif "tap" in step:
            self.write(step=step, ok=self.app.taps.tap(step["tap"]))
        elif "tap_all" in step:
            keys = [k for k in list(self.app.taps.widgets) if k.startswith(step["tap_all"])]
            self.write(step=step, ok=all(self.app.taps.tap(k) for k in keys), taps=keys)
        elif "where" in step:
            # A new screen's labels wrap to their width over a few frames: the place is read once it has held still
            # for three frames in a row, so it is where the guard sees the widget, not where it passed on the way.
            widget = self.app.taps.widgets[step["where"]]
            place = (list(widget.to_window(*widget.pos)), list(widget.size))
            self.still = self.still + 1 if place == self.last_place else 0
            self.last_place = place
            if self.still < 3:
                return True
            self.write(step=step, ok=True, pos=place[0], size=place[1])
        elif "texts" in step:
            self.write(step=step, ok=True, texts=labels(self.app.root))
        elif "screenshot" in step:
            target = Path(step["screenshot"])
            target.parent.mkdir(parents=True, exist_ok=True)
            written = Window.screenshot(name=str(target))
            if written:
                os.replace(written, target)
            self.write(step=step, ok=target.exists())
        elif "quit" in step:
            self.write(step=step, ok=True, decision=vars(flow.decision) if flow.decision else None)
            self.app.stop()
            return False
        self.index += 1
        self.still, self.last_place = 0, None
        self.started = time.monotonic()
        self.settle = 3
        return True


def labels(root: Widget) -> list[dict[str, object]]:
    """Every label (not button) with text: its text, colour, and the colour of the panel behind it."""
    found: list[dict[str, object]] = []
    for widget in root.walk():
        if not isinstance(widget, Label) or isinstance(widget, Button) or not widget.text:
            continue
        behind, parent = list(Window.clearcolor), widget.parent
        while parent is not None:
            if isinstance(parent, Panel):
                behind = list(parent.colour)
                break
            parent = getattr(parent, "parent", None)
        found.append({"text": widget.text, "color": list(widget.color), "background": behind})
    return found


def attach(app: GateApp, script: Path, log: Path) -> Driver:
    """Run the steps of `script` once the window is up. Kivy's clock holds callbacks weakly: keep the driver."""
    driver = Driver(app, json.loads(script.read_text(encoding="utf-8")), log)
    Clock.schedule_interval(driver.tick, 0.1)
    return driver
