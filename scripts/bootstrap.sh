#!/usr/bin/env bash
# Prepare this checkout to run: Debian packages (when root), a virtual environment, the project and its tools.
# Idempotent and quick when nothing changed; called by `make demo` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-python3}
VENV=.venv
# Xvfb and xauth: real Kivy windows on a machine with no display; a CJK font for slips and screens;
# libzbar0 for the pyzbar decoder; libmtdev1/SDL2 for Kivy; chromium for the console's browser tests; wrk for
# bench/slips.py; libusb-1.0-0 for usb:// printers (pyusb); systemd for `systemd-analyze verify` of the installed units.
DEB_PACKAGES=(xvfb xauth xdotool fonts-wqy-microhei libzbar0 libmtdev1 libsdl2-2.0-0 libgl1 chromium wrk libusb-1.0-0 systemd)

missing=()
for p in "${DEB_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ]; then
        echo "bootstrap: installing Debian packages: ${missing[*]}" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "bootstrap: these Debian packages are missing. Run, then try again:" >&2
        echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
        exit 1
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "bootstrap: creating $VENV" >&2
    "$PY" -m venv "$VENV"
fi
stamp="$VENV/.installed-$(sha256sum pyproject.toml | cut -c1-16)"
if [ ! -f "$stamp" ]; then
    echo "bootstrap: installing estate-desk and its dependencies into $VENV" >&2
    "$VENV/bin/python" -m pip install -q -U pip
    "$VENV/bin/python" -m pip install -q -e '.[dev]'
    rm -f "$VENV"/.installed-*
    touch "$stamp"
fi
