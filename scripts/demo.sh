#!/usr/bin/env bash
# The main job on a built-in default: render the demo song, separate it with lightweight_aspp,
# write the stems and a spectrogram PNG to demo_output/, print per-stem SDR. Extra args go to `sepzoo demo`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup_env.sh
exec .venv/bin/sepzoo demo "$@"
