#!/usr/bin/env bash
# Regenerates the shipped `lightweight_aspp` weights (see sepzoo/weights/lightweight_aspp/MODEL_CARD.md).
# 1. Render the train and validation splits of the Freedoom and OpenMSX MIDI corpora with TimGM6mb (the
#    soundfont inside the pretty_midi wheel), 40 s / 20 s excerpts, 22.05 kHz mono, task midi4.
# 2. Train with the recipe in zoo_configs/lightweight_aspp_midi4.yaml.
# Needs ../shared/data/midi. Takes about 1 s per step on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
for corpus in freedoom openmsx; do
    .venv/bin/sepzoo render "$MIDI/$corpus" -o "renders/timgm_$corpus" --split train --excerpt-seconds 40
    .venv/bin/sepzoo render "$MIDI/$corpus" -o "renders/timgm_$corpus" --split validation --excerpt-seconds 20
done
.venv/bin/sepzoo train zoo_configs/lightweight_aspp_midi4.yaml -o runs/lightweight_aspp_midi4 "$@"
