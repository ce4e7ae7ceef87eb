"""Window sizes of the touch apps: `--size`/`--scale`/`--position`, and the demo's placement of the kiosk and the
gate side by side on a small screen (a 1280×1024 monitor must show both whole)."""

from __future__ import annotations

import pytest

from terminal.display import screen_size, side_by_side
from terminal.kivy_setup import WindowSpec, parse_pair
from tests.display import NoVirtualDisplay, virtual_display


def test_size_fits_the_panel_layout_inside_and_scale_multiplies_it() -> None:
    assert WindowSpec.from_options("portrait", fullscreen=False, size="540x1000").window_size == (540, 960)
    assert WindowSpec.from_options("landscape", fullscreen=False, scale=0.5).window_size == (960, 540)
    placed = WindowSpec.from_options("portrait", fullscreen=False, scale=0.25, position="16,40")
    assert placed.window_size == (270, 480) and placed.position == (16, 40)
    assert WindowSpec.from_options("portrait", fullscreen=False).window_size == (1080, 1920)


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"size": "540x960", "scale": 0.5}, "not both"),
        ({"size": "big"}, "two numbers"),
        ({"scale": 0.01}, "the scale is"),
        ({"position": "10"}, "two numbers"),
    ],
)
def test_bad_window_options_are_named(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WindowSpec.from_options("portrait", fullscreen=False, **options)  # type: ignore[arg-type]


def test_the_demo_windows_sit_side_by_side_within_a_small_real_screen() -> None:
    try:
        with virtual_display(1280, 1024) as display:
            screen = screen_size(display)
    except NoVirtualDisplay as exc:
        pytest.skip(str(exc))
    assert screen == (1280, 1024)
    windows = []
    for options in side_by_side(screen, 2):
        spec = WindowSpec.from_options("portrait", fullscreen=False, scale=float(options[1]), position=options[3])
        assert spec.position is not None
        (x, y), (w, h) = spec.position, spec.window_size
        windows.append((x, y, x + w, y + h))
    for left, top, right, bottom in windows:
        assert left >= 0 and right <= 1280 and top >= 0 and bottom <= 1024
    (_, _, first_right, _), (second_left, _, _, _) = windows
    assert first_right < second_left  # next to each other, not on top of each other
    assert screen_size(":4242") is None  # no such display
    assert parse_pair("1080×1920", "size") == (1080, 1920)
