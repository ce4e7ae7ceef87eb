#!/usr/bin/env bash
# First install of a field machine from this checkout: the program's virtual environment, then `estate install`.
#   sudo scripts/install-device.sh kiosk|gate|cabinet|server [estate install options…]
# Updates, from the new checkout: sudo scripts/install-device.sh ROLE --upgrade
set -euo pipefail
cd "$(dirname "$0")/.."
role=${1:?"usage: $0 kiosk|gate|cabinet|server [options]"}
VENV=/opt/estate-desk/venv
if [ "$(id -u)" != 0 ]; then
    echo "install-device: run as root (sudo $0 $*)" >&2
    exit 1
fi
extra=$role
[ "$role" = cabinet ] && extra=kiosk
if [ ! -x "$VENV/bin/estate" ]; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q -U pip
    "$VENV/bin/pip" install -q ".[$extra]"
fi
exec "$VENV/bin/estate" install "$@" --source "$PWD"
