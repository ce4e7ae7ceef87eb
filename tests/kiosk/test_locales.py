"""Every kiosk text is in both languages, and every key the flow and the screens use is in the catalogue."""

from __future__ import annotations

import re
from pathlib import Path

from kiosk.flows.faults import REFUSAL_ADVICE
from kiosk.flows.state import Screen, Service
from terminal.i18n import Catalogue

KIOSK = Path(__file__).resolve().parents[2] / "kiosk"


def test_both_languages_have_the_same_keys_and_every_used_key() -> None:
    texts = Catalogue(KIOSK / "locales")
    assert texts.missing_keys() == {}
    source = "".join(p.read_text(encoding="utf-8") for p in (KIOSK / "flows").glob("*.py"))
    source += (KIOSK / "ui" / "screens.py").read_text(encoding="utf-8") + (KIOSK / "ui" / "app.py").read_text()
    source += (KIOSK / "ui" / "desk_screens.py").read_text(encoding="utf-8")
    used = set(re.findall(r'(?:Message|\.t)\(\s*"([a-z_.]+)"', source))
    used |= {f"refusal.{code}" for code in REFUSAL_ADVICE} | set(REFUSAL_ADVICE.values()) | {"refusal.other"}
    used |= {f"service.{s.value}" for s in Service} | {f"service.{s.value}.hint" for s in Service}
    used |= {f"state.{s}" for s in ("issued", "released", "refused", "expired", "cancelled")}
    used |= {f"printer.{p}" for p in ("paper_out", "cover_open", "offline")} | {f"day.{n}" for n in range(3)}
    used |= {f"{screen}.title" for screen in (Screen.DONE, Screen.REFUSED, Screen.FAULT)}  # chosen by the screen
    # The search found keys in each file it read: the flows, the screens and the app.
    assert {"fault.server_down", "home.welcome", "nav.home"} <= used
    for language in ("zh", "en"):
        assert used - set(texts.texts[language]) == set(), language
