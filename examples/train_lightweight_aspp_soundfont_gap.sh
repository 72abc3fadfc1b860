#!/usr/bin/env bash
# Runs the soundfont-gap experiment of examples/lightweight_aspp_soundfont_gap.yaml from the midi4-v2 weights
# (examples/train_lightweight_aspp_midi4_v2.sh makes them): renders its trees
# (examples/render_midi4_trees.sh), then trains. Needs ../shared/data/midi and about 0.9 s per step on 2 CPU
# cores. Extra arguments go to `sepzoo train` (e.g. --set optimiser.learning_rate=3e-4).
set -euo pipefail
cd "$(dirname "$0")/.."
bash examples/render_midi4_trees.sh
.venv/bin/sepzoo train examples/lightweight_aspp_soundfont_gap.yaml -o runs/lightweight_aspp_soundfont_gap "$@"
