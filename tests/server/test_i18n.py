"""Both languages of the console's catalogue carry the same keys, so no text is missing in either."""

from __future__ import annotations

from server.console.i18n import catalogue, translate


def test_chinese_and_english_have_the_same_keys() -> None:
    zh, en = catalogue("zh"), catalogue("en")
    assert set(zh) - set(en) == set()
    assert set(en) - set(zh) == set()


def test_values_and_fallbacks() -> None:
    assert translate("zh", "dashboard.welcome", name="王") == "您好，王"
    assert translate("en", "dashboard.welcome", name="Wang") == "Hello, Wang"
    assert translate("fr", "login.submit") == translate("zh", "login.submit")
    assert translate("en", "no.such.key") == "no.such.key"
