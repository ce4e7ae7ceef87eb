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
from tests.conftest import OWNER_CARD, OWNER_PIN, Household

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "var" / "screenshots"
DRIVER = Path(__file__).with_name("window_driver.py")

pytestmark = [pytest.mark.gui, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def keys(letters: str) -> list[list[str]]:
    return [["kb", key] for key in letters]


# The other item typed on the on-screen keyboard: pinyin in Chinese, letters in English.
OTHER_ITEM = {
    "zh": [*keys("jiu"), ["pick", "旧"], *keys("shujia"), ["shot"], ["pick", "书架"]],
    "en": [*keys("old"), ["kb", "space"], *keys("desk")],
}


def steps(language: str) -> list[list[str]]:
    return [
        ["tap", "service.item_release"],
        ["tap", "identify.pin"],
        ["tap", "identify.card"],
        ["card", OWNER_CARD],
        ["tap", "item.SOFA.plus"],
        ["tap", "item.WASH.plus"],
        ["tap", "items.other"],
        *OTHER_ITEM[language],
        ["tap", "other.add"],
        ["tap", "items.review"],
        ["tap", "review.confirm"],
        ["tap", "outcome.home"],
        ["tap", "service.my_requests"],
        ["tap", "identify.pin"],
        ["probe", "key.*"],
        *[["tap", f"key.{k}"] for k in "5-8B"],
        ["tap", "identify.field.pin"],
        *[["tap", f"key.{k}"] for k in OWNER_PIN],
        ["tap", "identify.submit"],
        ["probe", "my.*"],
        ["tap_prefix", "reprint."],
    ]


def run_window(
    display: str, settings: dict[str, object], prefix: str, script_steps: list[list[str]], tmp_path: Path
) -> list[dict]:
    """Run the window driver on a real kiosk window; its JSON lines (a failure shows the driver's output)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    script = tmp_path / f"{prefix}.json"
    body = {"settings": settings, "out": str(SHOTS), "prefix": prefix, "steps": script_steps}
    script.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "KIVY_NO_CONSOLELOG"}  # a failure's log reaches stderr
    env.update(DISPLAY=display, KIVY_WINDOW="sdl2", KIVY_GL_BACKEND="sdl2")
    done = subprocess.run(
        [sys.executable, str(DRIVER), str(script)], env=env, capture_output=True, text=True, timeout=120, cwd=ROOT
    )
    lines = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert done.returncode == 0 and lines and lines[-1] == {"done": True}, done.stdout[-2000:] + done.stderr[-3000:]
    for line in lines:
        if "shot" in line:
            assert Path(line["shot"]).stat().st_size > 10_000
    return lines


def inside(inner: list[int], outer: list[int]) -> bool:
    x, y, w, h = inner
    ox, oy, ow, oh = outer
    return ox <= x and oy <= y and x + w <= ox + ow and y + h <= oy + oh


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
    settings = {
        "server": live_server,
        "printer": printer.url,
        "device_token": kiosk_token,
        "orientation": "portrait",
        "windowed": True,
        "language": language,
    }
    lines = run_window(xvfb_display, settings, f"kiosk-{language}", steps(language), tmp_path)
    screens = [line["screen"] for line in lines if "shot" in line]
    assert screens[:4] == ["home", "identify", "identify", "identify"]
    assert "items" in screens and "other" in screens and "review" in screens
    assert screens.count("done") == 2 and "my_slips" in screens and screens[-1] == "done"
    keypad, listed = [line["probe"] for line in lines if "probe" in line]
    # The unit keypad: digits, "清除"/"Clear" (no second C), and only the letters of this estate's units.
    assert set(keypad) == {f"key.{k}" for k in [*"0123456789", "clear", "back", "-", "B"]}
    assert keypad["key.clear"]["text"] == {"zh": "清除", "en": "Clear"}[language]
    (row,) = listed.values()
    # Catalogue items by their names in the screen's language; the free-text item as it was typed.
    expected = {"zh": "沙发×1、洗衣机×1、旧书架×1", "en": "sofa×1, washing machine×1, old desk×1"}
    assert expected[language] in row["text"], row["text"]
    jobs = printer.wait_for_jobs(2)
    assert all(job.printed for job in jobs) and jobs[0].qr_payloads == jobs[1].qr_payloads  # print, then reprint


def test_keyboard_scrolling_list_idle_reset_and_header_in_a_real_window(
    xvfb_display: str,
    live_server: str,
    kiosk_token: str,
    household: Household,
    printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    """A resident types an other item, the kiosk goes home by itself, the next one taps where "home" was and
    swipes a card: the tap does not switch the language, and the card (real key presses through the X server)
    is read: no text field takes the keyboard from the card reader. The item list shows that it scrolls and
    keeps the added item in view."""
    settings = {
        "server": live_server,
        "printer": printer.url,
        "device_token": kiosk_token,
        "orientation": "portrait",
        "windowed": True,
        "language": "zh",
    }
    script = [
        ["tap", "service.item_release"],
        ["remember", "nav.home"],
        ["reader", OWNER_CARD],
        ["probe", "items.scroll", "items.more", "nav.home", "app.language"],
        ["tap", "items.other"],
        ["touch", "other.text"],  # a finger on the box, as on any text field
        *OTHER_ITEM["zh"],
        ["touch", "other.add"],  # a text field used to give up the keyboard here, and SDL's text input with it
        ["probe", "items.scroll", "items.more", "other.0.plus"],
        ["scroll_end", "items.scroll"],
        ["probe", "items.more"],
        ["idle"],
        ["touch_remembered", "nav.home"],
        ["probe", "app.language"],
        ["tap", "service.item_release"],
        ["reader", OWNER_CARD],
        ["probe", "items.scroll"],
    ]
    lines = run_window(xvfb_display, settings, "kiosk-keyboard", script, tmp_path)
    probes = [line for line in lines if "probe" in line]
    assert [p["screen"] for p in probes] == ["items", "items", "items", "home", "items"]
    first, added, bottom, after_idle, swiped = probes
    # The list runs below the fold and says so; at its end the hint goes.
    scroll, more = first["probe"]["items.scroll"], first["probe"]["items.more"]
    assert more["opacity"] == 1 and more["text"]
    assert bottom["probe"]["items.more"]["opacity"] == 0
    # After adding the free-text item (the 16th line), the list shows it rather than jumping to the top.
    assert inside(added["probe"]["other.0.plus"]["rect"], added["probe"]["items.scroll"]["rect"])
    assert added["probe"]["items.more"]["opacity"] == 0 and scroll["rect"] == added["probe"]["items.scroll"]["rect"]
    # "Home" and the language button sit at opposite ends of the header.
    home, language = first["probe"]["nav.home"]["rect"], first["probe"]["app.language"]["rect"]
    assert home[0] + home[2] < language[0]
    # The tap where "home" was, just after the kiosk went home by itself, leaves the language alone …
    assert after_idle["language"] == "zh"
    # … and the card swiped after the idle reset is read: the resident is identified and picks items.
    assert swiped["screen"] == "items"
    shots = [line for line in lines if "shot" in line]
    assert any(line["screen"] == "other" for line in shots)  # the on-screen keyboard, in var/screenshots
