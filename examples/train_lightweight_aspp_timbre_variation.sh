#!/usr/bin/env bash
# Runs the timbre-variation experiment of examples/lightweight_aspp_timbre_variation.yaml from the midi4-v2
# weights (examples/train_lightweight_aspp_midi4_v2.sh makes them): renders its trees
# (examples/render_midi4_trees.sh with the train split re-voiced twice per soundfont, seeds 1 and 2), then
# trains. Needs ../shared/data/midi and about 1 s per step on 2 CPU cores. Extra arguments go to `sepzoo
# train`.
set -euo pipefail
cd "$(dirname "$0")/.."
VARY_SEEDS="1 2" bash examples/render_midi4_trees.sh
.venv/bin/sepzoo train examples/lightweight_aspp_timbre_variation.yaml -o runs/lightweight_aspp_timbre_variation "$@"
