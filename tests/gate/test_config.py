"""The gate's settings: the command line over ESTATE_GATE_* over the TOML file over the defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from gate.runtime import GateConfig


def test_environment_over_file_over_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gate.toml"
    path.write_text(
        'camera = "file:///door.mp4"\ndata_dir = "/srv/gate"\ngate_name = "西门"\n[timing]\nbackoff_max = 1.5\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("ESTATE_GATE_GATE_NAME", "东门")
    monkeypatch.setenv("ESTATE_GATE_TIMING__HEARTBEAT_EVERY", "5")
    settings = GateConfig.load(path, server="http://cli:8000", camera=None)
    assert settings.camera == "file:///door.mp4" and settings.data_dir == Path("/srv/gate")  # file over default
    assert settings.gate_name == "东门"  # the environment over the file
    assert settings.timing.heartbeat_every == 5.0 and settings.timing.backoff_max == 1.5  # both, field by field
    assert settings.timing.refresh_every == 60.0 and settings.language == "zh"  # the defaults
    assert settings.server == "http://cli:8000"  # the command line over everything


def test_the_file_named_by_the_environment_is_read(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('orientation = "landscape"\n', encoding="utf-8")
    monkeypatch.setenv("ESTATE_GATE_CONFIG", str(path))
    assert GateConfig().orientation == "landscape"


def test_an_unknown_setting_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "gate.toml"
    path.write_text('camra = "v4l2://0"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="camra"):
        GateConfig.load(path)
