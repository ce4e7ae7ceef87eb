"""Reading image files from disk, with errors a technician can act on."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, UnidentifiedImageError

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".gif", ".pgm", ".ppm"})


class ImageReadError(OSError):
    """An image file that is missing, unreadable or not an image."""


def load_image(path: str | Path) -> np.ndarray:
    """Load an image file as a BGR (or grey) uint8 array.

    OpenCV reads the common formats; Pillow is the fallback for the ones it does not (e.g. GIF).
    """
    path = Path(path)
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except FileNotFoundError:
        raise ImageReadError(f"image file not found: {path}") from None
    except IsADirectoryError:
        raise ImageReadError(f"expected an image file, got a folder: {path}") from None
    except OSError as exc:
        raise ImageReadError(f"cannot read image file {path}: {exc.strerror or exc}") from None
    if data.size == 0:
        raise ImageReadError(f"image file is empty: {path}")
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        image = _load_with_pillow(path)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(float(image.max()), 1.0))
    return image


def _load_with_pillow(path: Path) -> np.ndarray:
    try:
        with Image.open(path) as picture:
            rgb = np.asarray(picture.convert("RGB"))
    except (UnidentifiedImageError, OSError, ValueError):
        raise ImageReadError(
            f"not an image or an unsupported format: {path} (expected one of {', '.join(sorted(IMAGE_SUFFIXES))})"
        ) from None
    return cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)


def is_image_file(path: Path) -> bool:
    return path.is_file() and path.suffix.lower() in IMAGE_SUFFIXES and not path.name.startswith(".")


def image_files_in(folder: Path) -> list[Path]:
    """The image files directly inside ``folder``, in name order."""
    return sorted(p for p in folder.iterdir() if is_image_file(p))


def expand_image_paths(paths: Iterable[str | Path]) -> Iterator[Path]:
    """Files as given, and for each folder the image files inside it, in name order."""
    for item in paths:
        path = Path(item)
        if path.is_dir():
            yield from image_files_in(path)
        else:
            yield path
