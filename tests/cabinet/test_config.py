"""The cabinet agent's settings: the command line over ESTATE_CABINET_* over the TOML file over the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from cabinet.config import CabinetConfig


def test_environment_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "cabinet.toml"
    path.write_text(
        '[cabinet]\ncabinet = "socket://127.0.0.1:7000"\nprotocol = "xor485"\nboards = [1, 2]\n'
        'device_token = "edt_file"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ESTATE_CABINET_BOARDS", "3,4")
    monkeypatch.setenv("ESTATE_CABINET_POLL_INTERVAL", "0.5")
    settings = CabinetConfig.load(path, protocol="kerong-cu16", device_token=None).check()
    assert settings.cabinet == "socket://127.0.0.1:7000" and settings.device_token == "edt_file"  # the file
    assert [b.address for b in settings.boards] == [3, 4] and settings.poll_interval == 0.5  # the environment
    assert settings.profiles()[3].channels == 16  # each board a profile of the protocol's defaults
    assert settings.data_dir == Path("var/cabinet")  # the default
    assert settings.protocol == "kerong-cu16"  # the command line over everything
    assert [b.address for b in CabinetConfig.load(path, boards="5,6").boards] == [5, 6]  # as --boards gives them


def test_what_the_agent_cannot_run_without_is_named() -> None:
    with pytest.raises(ValueError, match="--cabinet, --protocol, --device-token"):
        CabinetConfig.load(None).check()


def test_the_panel_and_its_timings_are_settings(tmp_path: Path) -> None:
    base = {"cabinet": "loop://", "protocol": "xor485", "device_token": "edt_x"}
    settings = CabinetConfig.load(None, **base, panel="keyboard").check()
    assert (settings.panel, settings.idle_sign_out, settings.sync_interval) == ("keyboard", 120.0, 60.0)
    with pytest.raises(ValueError, match="cannot both read the keyboard"):
        CabinetConfig.load(None, **base, panel="keyboard", tag_reader="keyboard").check()
    with pytest.raises(ValueError, match="positive"):
        CabinetConfig.load(None, **base, idle_sign_out=0).check()
