#!/usr/bin/env bash
# Idempotent set-up: Debian packages (after apt-get update), a venv in .venv, sepzoo installed editable.
# Fast when already done: apt is skipped when the packages are present, pip when setup.cfg is unchanged.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES="libfluidsynth3 ffmpeg fluid-soundfont-gm csound-soundfont timidity freepats avldrums.lv2-soundfont"
python3 -c "import ensurepip, venv" 2>/dev/null || APT_PACKAGES="$APT_PACKAGES python3-venv"
missing=""
for package in $APT_PACKAGES; do
    dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo="sudo"
    echo "setup: installing Debian packages:$missing" >&2
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq $missing >/dev/null
fi

VENV="${SEPZOO_VENV:-.venv}"
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
STAMP="$VENV/.sepzoo-installed"
WANT="$(cat setup.cfg pyproject.toml | sha256sum | cut -d' ' -f1)"
if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    # The install (TensorFlow, JAX, their wheels unpacked) needs about 2.5 GB; pip's own OSError when the
    # disk fills half-way is unreadable, so check first.
    NEED_KB=$((4 * 1024 * 1024))
    free_kb="$(df -Pk "$VENV" | awk 'NR == 2 {print $4}')"
    if [ "$free_kb" -lt "$NEED_KB" ]; then
        echo "setup: only $((free_kb / 1024)) MB free on the disk holding $VENV; the install needs $((NEED_KB / 1024)) MB, free some space and run again" >&2
        exit 1
    fi
    echo "setup: installing sepzoo and its dependencies into $VENV" >&2
    "$VENV/bin/python" -m pip install -q --upgrade pip
    "$VENV/bin/python" -m pip install -q -e ".[tf-cpu,jax,midi,musdb,codec,speech,tfds,lite,export,dev]"
    echo "$WANT" > "$STAMP"
fi
