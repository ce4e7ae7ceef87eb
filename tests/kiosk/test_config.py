"""The kiosk's settings: the command line over ESTATE_KIOSK_* over the TOML file over the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import config as kiosk_config


def test_environment_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('[kiosk]\nserver = "http://file:8000"\nprinter = "tcp://file:9100"\n', encoding="utf-8")
    monkeypatch.setenv("ESTATE_KIOSK_PRINTER", "tcp://env:9100")
    monkeypatch.setenv("ESTATE_KIOSK_IDLE_SECONDS", "90")
    settings = kiosk_config.load(path, device_token="edt_cli", idle_seconds=None)
    assert settings.server == "http://file:8000"  # the file over the default
    assert settings.printer == "tcp://env:9100"  # the environment over the file
    assert settings.idle_seconds == 90.0  # the environment over the default
    assert settings.language == "zh"  # the default
    assert kiosk_config.load(path, device_token="t", printer="tcp://cli:9100").printer == "tcp://cli:9100"


def test_the_file_may_hold_the_settings_at_its_top_level(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text('device_token = "edt_file"\nlanguage = "en"\n', encoding="utf-8")
    settings = kiosk_config.load(path)
    assert (settings.device_token, settings.language) == ("edt_file", "en")


def test_an_unknown_setting_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "kiosk.toml"
    path.write_text("[kiosk]\nidle_second = 30\n", encoding="utf-8")
    with pytest.raises(ValueError, match="idle_second"):
        kiosk_config.load(path, device_token="t")
