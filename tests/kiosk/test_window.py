"""Real kiosk windows under Xvfb, clicked through item release and my requests in Chinese and in English; a
screenshot of every screen is kept in var/screenshots/kiosk-*.png."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from devices.printing.virtual import VirtualPrinter

from .conftest import OWNER_CARD, OWNER_PIN, Household

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
DRIVER = Path(__file__).with_name("window_driver.py")

pytestmark = [pytest.mark.gui, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

STEPS: list[list[str]] = [
    ["tap", "service.item_release"],
    ["tap", "identify.pin"],
    ["tap", "identify.card"],
    ["card", OWNER_CARD],
    ["tap", "item.SOFA.plus"],
    ["tap", "item.WASH.plus"],
    ["tap", "items.other"],
    ["text", "other.text", "旧书架"],
    ["tap", "other.add"],
    ["tap", "items.review"],
    ["tap", "review.confirm"],
    ["tap", "outcome.home"],
    ["tap", "service.my_requests"],
    ["tap", "identify.pin"],
    *[["tap", f"key.{k}"] for k in "5-8B"],
    ["tap", "identify.field.pin"],
    *[["tap", f"key.{k}"] for k in OWNER_PIN],
    ["tap", "identify.submit"],
    ["tap_prefix", "reprint."],
]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_click_through_item_release_and_my_requests(
    xvfb_display: str,
    live_server: str,
    kiosk_token: str,
    household: Household,
    printer: VirtualPrinter,
    tmp_path: Path,
    language: str,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    script = tmp_path / "script.json"
    script.write_text(
        json.dumps(
            {
                "settings": {
                    "server": live_server,
                    "printer": printer.url,
                    "device_token": kiosk_token,
                    "orientation": "portrait",
                    "windowed": True,
                    "language": language,
                },
                "out": str(SHOTS),
                "prefix": f"kiosk-{language}",
                "steps": STEPS,
            },
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    env = {k: v for k, v in os.environ.items() if k != "KIVY_NO_CONSOLELOG"}  # a failure's log reaches stderr
    env.update(DISPLAY=xvfb_display, KIVY_WINDOW="sdl2", KIVY_GL_BACKEND="sdl2")
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines and lines[-1] == {"done": True}, done.stdout[-2000:] + done.stderr[-3000:]
    screens = [line["screen"] for line in lines if "shot" in line]
    assert screens[:4] == ["home", "identify", "identify", "identify"]
    assert "items" in screens and "other" in screens and "review" in screens
    assert screens.count("done") == 2 and "my_slips" in screens and screens[-1] == "done"
    for line in lines:
        if "shot" in line:
            assert Path(line["shot"]).stat().st_size > 10_000
    jobs = printer.wait_for_jobs(2)
    assert all(job.printed for job in jobs) and jobs[0].qr_payloads == jobs[1].qr_payloads  # print, then reprint
