#!/usr/bin/env bash
# Runs the soundfont-gap experiment of examples/lightweight_aspp_soundfont_gap.yaml from the shipped
# midi4-v2 weights: renders the train split (90 s excerpts) of Freedoom, OpenMSX and freedoom_history with
# TimGM6mb and sf_GMbank, the validation split (20 s) with those and with OPL-3_FM_128M (Debian
# opl3-soundfont, CC-BY-SA-4.0, used for validation only), then trains. Needs ../shared/data/midi and about
# 0.9 s per step on 2 CPU cores. Extra arguments go to `sepzoo train` (e.g. --set optimiser.learning_rate=3e-4).
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
dpkg -s opl3-soundfont >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq opl3-soundfont; }
for corpus in freedoom openmsx freedoom_history; do
    for font in timgm:TimGM6mb.sf2 gmbank:sf_GMbank.sf2; do
        out="renders/full/${font%%:*}_$corpus"
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "${font#*:}" --split train --excerpt-seconds 90
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "${font#*:}" --split validation --excerpt-seconds 20
    done
    .venv/bin/sepzoo render "$MIDI/$corpus" -o "renders/full/opl3_$corpus" --soundfont OPL-3_FM_128M.sf2 \
        --split validation --excerpt-seconds 20
done
.venv/bin/sepzoo train examples/lightweight_aspp_soundfont_gap.yaml -o runs/lightweight_aspp_soundfont_gap "$@"
