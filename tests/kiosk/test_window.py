"""Real kiosk windows under Xvfb, clicked through item release and my requests in Chinese and in English; a
screenshot of every screen is kept in var/screenshots/kiosk-*.png."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from server.db.models import ReleaseSlip, SlipAttachment
from server.domain import registry
from server.domain.actors import SYSTEM
from tests.conftest import OWNER_CARD, OWNER_PIN, TENANT_CARD, Household

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
        ["stroke", "sign.pad", [[0.1, 0.3], [0.3, 0.7], [0.5, 0.4], [0.8, 0.6]]],
        ["tap", "sign.confirm"],
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
    display: str,
    settings: dict[str, object],
    prefix: str,
    script_steps: list[list[str]],
    tmp_path: Path,
    out: Path = SHOTS,
    scale: float | None = None,
) -> list[dict]:
    """Run the window driver on a real kiosk window; its JSON lines (a failure shows the driver's output).
    Screenshots go to `out`."""
    out.mkdir(parents=True, exist_ok=True)
    script = tmp_path / f"{prefix}.json"
    body = {"settings": settings, "out": str(out), "prefix": prefix, "steps": script_steps, "scale": scale}
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
    client: TestClient,
    make_user: Callable[..., Any],
    login: Callable[..., Any],
    db: Session,
) -> None:
    """The owner picks items, reviews them, signs on the pad with a finger and prints (R-REL-2: the signature is
    then on the slip page in the console), then finds and reprints the slip under my requests."""
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
    assert "sign" in screens and screens.index("sign") < screens.index("done")
    # R-REL-2: the strokes drawn on the pad are the PNG kept with the slip and shown on its page.
    slip = db.scalars(select(ReleaseSlip)).one()
    signature = db.scalar(
        select(SlipAttachment).where(SlipAttachment.slip_id == slip.id, SlipAttachment.kind == "signature")
    )
    assert signature is not None and signature.media_type == "image/png"
    ink = Image.open(io.BytesIO(signature.data)).convert("L").histogram()[0]
    assert ink > 500  # the stroke across the pad, not an empty box
    staff = make_user("records_admin", password="pw-for-tests-1")
    assert login(client, staff.username, "pw-for-tests-1").status_code == 200
    page = client.get(f"/console/slips/{slip.id}").text
    assert f'src="/console/slips/{slip.id}/attachments/{signature.id}"' in page and 'id="slip-signature"' in page


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


def test_a_tenant_in_arrears_is_refused_on_identifying_in_the_screens_language_alone(
    xvfb_display: str,
    live_server: str,
    kiosk_token: str,
    household: Household,
    printer: VirtualPrinter,
    db: Session,
    tmp_path: Path,
) -> None:
    """R-REL-5 told at once: the tenant of a unit in arrears swipes a card and the next screen is the refusal, with
    the amount and where to settle it, before any item is picked; in the English UI it reads in English alone."""
    registry.set_arrears(db, SYSTEM, household.unit, 120000, "物业费")
    db.commit()
    settings = {
        "server": live_server,
        "printer": printer.url,
        "device_token": kiosk_token,
        "orientation": "portrait",
        "windowed": True,
        "language": "en",
    }
    script = [
        ["tap", "service.item_release"],
        ["card", TENANT_CARD],
        ["probe", "outcome.message", "outcome.advice"],
    ]
    lines = run_window(xvfb_display, settings, "kiosk-arrears", script, tmp_path)
    assert [line["screen"] for line in lines if "shot" in line] == ["home", "identify", "refused"]
    (probe,) = [line["probe"] for line in lines if "probe" in line]
    message, advice = probe["outcome.message"]["text"], probe["outcome.advice"]["text"]
    assert "owes ¥1,200.00" in message and "finance" in advice
    assert not any("\u3000" <= ch <= "\u9fff" or "\uff00" <= ch <= "\uffef" for ch in message + advice)
    assert printer.jobs == []
