#!/usr/bin/env bash
# gaitmon developer entry point. On a fresh Debian machine:
#   ./dev.sh demo   -> installs what is needed, then runs the demo (no hardware, no database)
#   ./dev.sh test   -> installs what is needed (incl. influxd, dbus, ...), then runs the test suite
# Anything after the sub-command is passed on (e.g. ./dev.sh test -k core).
set -euo pipefail
cd "$(dirname "$0")"
HERE=$(pwd)
VENV=${GAITMON_VENV:-$HERE/.venv}

log() { printf '\033[1;34m[gaitmon]\033[0m %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root for: $*  (install sudo or run as root)"; return 1; fi
}

apt_install() {
    # install only the Debian packages that are missing
    local missing=()
    for p in "$@"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
    if [ ${#missing[@]} -gt 0 ]; then
        log "installing Debian packages: ${missing[*]}"
        as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq || true
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    fi
}

find_python() {
    for py in python3.13 python3.12 python3.11 python3; do
        if command -v "$py" >/dev/null && "$py" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
            echo "$py"; return 0; fi
    done
    return 1
}

setup_venv() {
    local extra=${1:-}
    if ! PY=$(find_python); then apt_install python3 python3-venv; PY=python3; fi
    if [ ! -x "$VENV/bin/python" ]; then
        if ! "$PY" -m venv "$VENV" 2>/dev/null; then apt_install python3-venv; "$PY" -m venv "$VENV"; fi
    fi
    local stamp="$VENV/.gaitmon-installed$extra"
    if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ] || [ constraints.txt -nt "$stamp" ]; then
        log "installing Python packages into $VENV (versions from constraints.txt)"
        "$VENV/bin/python" -m pip install -q --upgrade pip >/dev/null
        "$VENV/bin/python" -m pip install -q -c constraints.txt -e ".$extra"
        # an environment from before gaitmon dropped grafana-client: its niquests dependency
        # installed urllib3-future, which overwrites urllib3 at every interpreter start
        if "$VENV/bin/python" -m pip show -q urllib3-future >/dev/null 2>&1; then
            log "removing grafana-client/niquests/urllib3-future (they replace urllib3)"
            "$VENV/bin/python" -m pip uninstall -q -y grafana-client niquests urllib3-future
            "$VENV/bin/python" -m pip install -q --force-reinstall --no-deps "urllib3>=2,<3"
        fi
        touch "$stamp"
    fi
}

setup_test_system() {
    # real servers and the simulated BlueZ used by the tests
    apt_install influxdb victoria-metrics dbus python3-dbus python3-gi python3-dbusmock chromium
}

cmd=${1:-help}; shift || true
case "$cmd" in
    setup)  setup_venv ;;
    demo)   setup_venv; exec "$VENV/bin/gaitmon" demo "$@" ;;
    test)   setup_test_system; setup_venv "[test]"
            exec "$VENV/bin/python" -m pytest "$@" ;;
    bench)  setup_venv "[bench]"; exec "$VENV/bin/python" -m benchmarks "$@" ;;
    lock)   # resolve the newest allowed versions in a scratch venv and write constraints.txt
            tmp=$(mktemp -d); "$(find_python)" -m venv "$tmp/venv"
            "$tmp/venv/bin/python" -m pip install -q --upgrade pip >/dev/null
            "$tmp/venv/bin/python" -m pip install -q ".[test,bench]"
            { sed -n '1,3p' constraints.txt; "$tmp/venv/bin/python" -m pip freeze | grep -v '^gaitmon'; } > "$tmp/c.txt"
            mv "$tmp/c.txt" constraints.txt; rm -rf "$tmp"; log "constraints.txt rewritten: now run ./dev.sh test" ;;
    *) echo "usage: ./dev.sh demo|test|setup|bench|lock [args...]"; exit 2 ;;
esac
