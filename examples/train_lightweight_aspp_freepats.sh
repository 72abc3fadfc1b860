#!/usr/bin/env bash
# Runs the experiment of examples/lightweight_aspp_freepats.yaml from the midi4-v2 weights
# (examples/train_lightweight_aspp_midi4_v2.sh makes them): renders its trees (examples/render_midi4_trees.sh
# with TimGM6mb, sf_GMbank and TiMidity++/FreePats, each train split also re-voiced with seed 1), then trains.
# Needs ../shared/data/midi, timidity and freepats (scripts/setup_env.sh installs them) and about 1 s per step
# on 2 CPU cores. Extra arguments go to `sepzoo train`.
set -euo pipefail
cd "$(dirname "$0")/.."
FONTS="timgm:TimGM6mb.sf2 gmbank:sf_GMbank.sf2 freepats:freepats.cfg" VARY_SEEDS="1" bash examples/render_midi4_trees.sh
.venv/bin/sepzoo train examples/lightweight_aspp_freepats.yaml -o runs/lightweight_aspp_freepats "$@"
