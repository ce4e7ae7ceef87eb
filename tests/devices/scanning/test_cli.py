"""`estate devices qr decode` and `estate devices camera scan`: JSON lines on stdout, messages on stderr."""

from __future__ import annotations

import base64
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest
import typer
from typer.testing import CliRunner

from devices.cli import app
from devices.qr.synthetic import SyntheticFrame, qr_image

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
    assert result.exit_code == 1, result.stderr  # one photo has no code
    rows = lines(result.stdout)
    assert [Path(row["file"]).name for row in rows] == ["a_clean.jpg", "b_inverted.png", "c_nothing.jpg"]
    assert [row["text"] for row in rows] == [slip_frames["clean"].text, slip_frames["inverted"].text, None]
    assert all(set(row) == {"file", "text", "ms"} and row["ms"] >= 0 for row in rows)
    assert "2 of 3" in result.stderr and "no QR code found in 1 file(s)" in result.stderr


def test_qr_decode_exits_1_when_no_code_was_found(photos: Path) -> None:
    result = runner.invoke(app, ["qr", "decode", str(photos / "c_nothing.jpg")])
    assert result.exit_code == 1
    assert lines(result.stdout)[0]["text"] is None and "no QR code found" in result.stderr


def code_photo(tmp_path: Path, data: bytes) -> Path:
    path = tmp_path / f"code-{len(data)}.png"
    cv2.imwrite(str(path), np.pad(qr_image(data, 6), 24, constant_values=255))
    return path


@pytest.mark.parametrize(
    "text", ["阿里巴巴 物品放行条", "阿", "旧书架 x2 (GB2312)"], ids=["words", "one-character", "mixed"]
)
def test_qr_decode_prints_gb2312_codes_as_chinese(tmp_path: Path, text: str) -> None:
    result = runner.invoke(app, ["qr", "decode", str(code_photo(tmp_path, text.encode("gb2312")))])
    assert result.exit_code == 0, result.stderr
    assert lines(result.stdout)[0]["text"] == text and "\\x" not in result.stdout


def test_qr_decode_gives_bytes_that_are_not_text_as_base64(tmp_path: Path) -> None:
    data = bytes([0xFF, 0xFE, 0x00, 0x01, 0x80]) + b"abc"
    result = runner.invoke(app, ["qr", "decode", str(code_photo(tmp_path, data))])
    assert result.exit_code == 0, result.stderr
    [row] = lines(result.stdout)
    assert row["text"] is None and base64.b64decode(row["base64"]) == data


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
    assert "image folder not found" in result.stderr and result.stderr.count("error:") == 1


def test_camera_scan_of_a_missing_usb_camera_is_one_clear_error() -> None:
    result = runner.invoke(app, ["camera", "scan", "--camera", "v4l2://57", "--timeout", "5"])
    assert result.exit_code == 1
    assert "no camera at /dev/video57" in result.stderr and result.stderr.count("error:") == 1
    assert "retrying" not in result.stderr


@pytest.mark.parametrize("kind", ["v4l2", "rtsp", "file"])
def test_opencv_and_ffmpeg_keep_their_own_log_lines_to_themselves(tmp_path: Path, kind: str) -> None:
    """Their lines go to the process's stderr below Python, so the command runs as a technician runs it."""
    expected = None
    if kind == "v4l2":  # a USB camera that is not plugged in
        camera, expected = "v4l2://57", "no camera at /dev/video57"
    elif kind == "rtsp":
        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            camera = f"rtsp://127.0.0.1:{probe.getsockname()[1]}/stream"
    else:
        fake = tmp_path / "not-a-video.mp4"
        fake.write_bytes(b"garbage, not a video")
        camera = f"file://{fake}"
    code = "import sys; from devices.cli import app; sys.argv[0] = 'estate devices'; app()"
    done = subprocess.run(
        [sys.executable, "-c", code, "camera", "scan", "--camera", camera, "--timeout", "5"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[3])},
    )
    assert done.returncode == 1
    assert "[ WARN" not in done.stderr and " @ 0x" not in done.stderr, done.stderr
    assert done.stderr.count("error:") == 1 and (expected or f"cannot open {camera}") in done.stderr


def _commands(group: typer.Typer, path: list[str]) -> list[list[str]]:
    found = [path]
    for info in group.registered_commands:
        found.append([*path, info.name or info.callback.__name__])  # type: ignore[union-attr]
    for sub in group.registered_groups:
        assert sub.typer_instance is not None and sub.name is not None
        found += _commands(sub.typer_instance, [*path, sub.name])
    return found


def test_help_texts_name_values_plainly_without_type_tags() -> None:
    commands = _commands(app, [])
    assert len(commands) >= 12
    for command in commands:
        result = runner.invoke(app, [*command, "--help"], terminal_width=200)
        assert result.exit_code == 0, command
        for tag in ("<bool>", "<str>", "<int", "<float>", "<list", "<Path", "<path"):
            assert tag not in result.stdout, (command, tag, result.stdout)
    camera = runner.invoke(app, ["camera", "scan", "--help"], terminal_width=200).stdout
    assert "--camera" in camera and "URL" in camera
