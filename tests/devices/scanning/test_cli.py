"""`estate devices qr decode` and `estate devices camera scan`: JSON lines on stdout, messages on stderr."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import pytest
from typer.testing import CliRunner

from devices.cli import app
from devices.qr.synthetic import SyntheticFrame

runner = CliRunner()


def lines(stdout: str) -> list[dict]:
    return [json.loads(line) for line in stdout.splitlines() if line.strip()]


@pytest.fixture
def photos(tmp_path: Path, slip_frames: dict[str, SyntheticFrame], code_free_frames: list[SyntheticFrame]) -> Path:
    folder = tmp_path / "photos"
    folder.mkdir()
    cv2.imwrite(str(folder / "a_clean.jpg"), slip_frames["clean"].image)
    cv2.imwrite(str(folder / "b_inverted.png"), slip_frames["inverted"].image)
    cv2.imwrite(str(folder / "c_nothing.jpg"), code_free_frames[0].image)
    (folder / "notes.txt").write_text("not a photo")
    return folder


def test_qr_decode_folder_prints_one_line_per_photo(photos: Path, slip_frames: dict[str, SyntheticFrame]) -> None:
    result = runner.invoke(app, ["qr", "decode", str(photos)])
    assert result.exit_code == 0, result.stderr
    rows = lines(result.stdout)
    assert [Path(row["file"]).name for row in rows] == ["a_clean.jpg", "b_inverted.png", "c_nothing.jpg"]
    assert [row["text"] for row in rows] == [slip_frames["clean"].text, slip_frames["inverted"].text, None]
    assert all(set(row) == {"file", "text", "ms"} and row["ms"] >= 0 for row in rows)
    assert "2 of 3" in result.stderr


@pytest.mark.parametrize("decoder", ["pyzbar", "opencv"])
def test_qr_decode_with_another_decoder(photos: Path, decoder: str, slip_frames: dict[str, SyntheticFrame]) -> None:
    result = runner.invoke(app, ["qr", "decode", str(photos / "a_clean.jpg"), "--decoder", decoder])
    assert result.exit_code == 0, result.stderr
    assert [row["text"] for row in lines(result.stdout)] == [slip_frames["clean"].text]


def test_qr_decode_unreadable_file_is_a_clear_failure(tmp_path: Path, photos: Path) -> None:
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG but not really")
    result = runner.invoke(app, ["qr", "decode", str(photos / "a_clean.jpg"), str(broken), str(tmp_path / "gone.jpg")])
    assert result.exit_code != 0
    rows = lines(result.stdout)
    assert rows[0]["text"] is not None
    assert rows[1]["text"] is None and "not an image" in rows[1]["error"]
    assert rows[2]["text"] is None and "not found" in rows[2]["error"]
    assert "could not be read" in result.stderr


def test_qr_decode_unknown_decoder_fails(photos: Path) -> None:
    result = runner.invoke(app, ["qr", "decode", str(photos), "--decoder", "quirc"])
    assert result.exit_code != 0
    assert "zxing, pyzbar, opencv" in result.stderr
    assert result.stdout == ""


def test_camera_scan_images_folder(photos: Path, slip_frames: dict[str, SyntheticFrame]) -> None:
    result = runner.invoke(app, ["camera", "scan", "--camera", f"images://{photos}?fps=10", "--frames", "3"])
    assert result.exit_code == 0, result.stderr
    rows = lines(result.stdout)
    assert [row["text"] for row in rows] == [slip_frames["clean"].text, slip_frames["inverted"].text]
    assert all(set(row) == {"frame", "text", "ms"} for row in rows)
    assert [row["frame"] for row in rows] == [1, 2]
    assert "camera streaming" in result.stderr


def test_camera_scan_bad_url_names_accepted_forms() -> None:
    result = runner.invoke(app, ["camera", "scan", "--camera", "/dev/video0"])
    assert result.exit_code != 0
    assert "v4l2://" in result.stderr and "images://" in result.stderr


def test_camera_scan_without_frames_fails(tmp_path: Path) -> None:
    result = runner.invoke(app, ["camera", "scan", "--camera", f"images://{tmp_path}/absent", "--timeout", "0.3"])
    assert result.exit_code != 0
    assert "no frame" in result.stderr
    assert "image folder not found" in result.stderr
