#!/usr/bin/env bash
# Regenerates the shipped `lightweight_aspp` weights (see sepzoo/weights/lightweight_aspp/MODEL_CARD.md):
# 1. renders the train split (90 s excerpts) of the Freedoom, freedoom_history and OpenMSX MIDI corpora with
#    TimGM6mb, sf_GMbank and TiMidity++/FreePats, each also re-voiced with seed 1, plus the validation split
#    with OPL-3_FM_128M (examples/render_midi4_trees.sh);
# 2. trains zoo_configs/lightweight_aspp_midi4.yaml from scratch (2500 steps, about 45 min on 2 CPU cores).
# Needs ../shared/data/midi; scripts/setup_env.sh installs timidity and freepats. Extra arguments go to
# `sepzoo train`. Then score it (examples/evaluate_lightweight_aspp_midi4.sh runs/lightweight_aspp_midi4/preset)
# and publish it as a new version:
#   .venv/bin/sepzoo publish runs/lightweight_aspp_midi4 --name lightweight_aspp --version VERSION \
#       --evaluation runs/eval_midi4_test --evaluation-command examples/evaluate_lightweight_aspp_midi4.sh \
#       --licences zoo_configs/lightweight_aspp_midi4.licences.md
set -euo pipefail
cd "$(dirname "$0")/.."
FONTS="timgm:TimGM6mb.sf2 gmbank:sf_GMbank.sf2 freepats:freepats.cfg" VARY_SEEDS="1" bash examples/render_midi4_trees.sh
.venv/bin/sepzoo train zoo_configs/lightweight_aspp_midi4.yaml -o runs/lightweight_aspp_midi4 "$@"
