"""Every text of the gate exists in Chinese and English, and every rejection code and refusal reason has one."""

from __future__ import annotations

from pathlib import Path

from gate.flows.gate_flow import REFUSE_REASONS
from gate.flows.verdict import Rejection
from terminal.i18n import Catalogue

LOCALES = Path(__file__).resolve().parents[2] / "gate/locales"


def test_both_languages_have_the_same_keys_and_cover_every_code() -> None:
    catalogue = Catalogue(LOCALES)
    assert catalogue.missing_keys() == {}
    needed = {f"code_{c}" for c in Rejection} | set(REFUSE_REASONS)
    for language in ("zh", "en"):
        assert needed <= set(catalogue.texts[language]), language
        assert all(text.strip() for text in catalogue.texts[language].values())
