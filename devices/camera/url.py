"""Camera addresses are URLs: one string in config picks a USB camera, an RTSP stream, a video file or a folder."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, unquote, urlsplit

ACCEPTED_FORMS = (
    "v4l2://N or v4l2:///dev/estate-camera (a USB camera by number or device path; options "
    "?format=MJPG|YUYV&width=1280&height=720&fps=30)",
    "rtsp://user:pass@host:554/path (network camera)",
    "file:///path/video.mp4 (a video file, played at its own frame rate; ?fps=N to change, ?fps=0 as fast as read)",
    "images:///path/folder (the image files of a folder in name order; ?fps=N, default 5)",
)
_SCHEMES = ("v4l2", "rtsp", "rtsps", "file", "images")
PIXEL_FORMATS = ("MJPG", "YUYV")  # compressed (high resolutions at full frame rate over USB 2) or raw


class CameraUrlError(ValueError):
    """A camera address that is not one of the accepted forms."""

    def __init__(self, url: str, problem: str) -> None:
        forms = "\n  ".join(ACCEPTED_FORMS)
        super().__init__(f"bad camera URL {url!r}: {problem}. Accepted forms:\n  {forms}")


@dataclass(frozen=True)
class CameraUrl:
    """A parsed camera URL: the scheme, what it points at (a device number, a path or the URL itself), options."""

    url: str
    scheme: str
    target: str
    options: dict[str, str] = field(default_factory=dict)

    def number(self, key: str, default: float | None = None) -> float | None:
        """A numeric option (``?fps=10``) or ``default``; a non-numeric value is a CameraUrlError."""
        value = self.options.get(key)
        if value is None:
            return default
        try:
            number = float(value)
        except ValueError:
            raise CameraUrlError(self.url, f"option {key}={value!r} is not a number") from None
        if number < 0:
            raise CameraUrlError(self.url, f"option {key}={value!r} must not be negative")
        return number


def parse_camera_url(url: str) -> CameraUrl:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in _SCHEMES or "://" not in url:
        raise CameraUrlError(url, f"unknown scheme {parts.scheme + '://' if parts.scheme else '(none)'}")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    if scheme == "v4l2":
        device = (parts.netloc + parts.path).strip("/")
        fmt = options.get("format")
        if fmt is not None and fmt.upper() not in PIXEL_FORMATS:
            raise CameraUrlError(url, f"format={fmt!r}: the pixel format is {' or '.join(PIXEL_FORMATS)}")
        parsed = CameraUrl(url, scheme, device, options)
        for key in ("width", "height", "fps"):
            parsed.number(key)
        if device.isdigit():
            return parsed
        if device.startswith("dev/video") and device[len("dev/video") :].isdigit():
            return CameraUrl(url, scheme, device[len("dev/video") :], options)
        if device.startswith("dev/"):  # a udev name such as /dev/estate-camera or /dev/v4l/by-id/…
            return CameraUrl(url, scheme, "/" + device, options)
        raise CameraUrlError(url, "expected a camera number or device path, as in v4l2://0 or v4l2:///dev/video0")
    if scheme in ("rtsp", "rtsps"):
        if not parts.netloc:
            raise CameraUrlError(url, "expected a host, as in rtsp://10.0.0.7:554/stream1")
        return CameraUrl(url, scheme, url.strip(), options)
    path = unquote(parts.netloc + parts.path)
    if not path:
        raise CameraUrlError(url, f"expected a path, as in {scheme}:///path")
    return CameraUrl(url, scheme, str(Path(path)), options)
