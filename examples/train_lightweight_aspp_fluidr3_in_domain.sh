#!/usr/bin/env bash
# Diagnostic, never shipped: how far can the midi4 recipe go when the test timbres are NOT unseen? Renders
# the train split of Freedoom and OpenMSX with FluidR3_GM (the test soundfont; 40 s excerpts, about 2.5 GB)
# and trains zoo_configs/lightweight_aspp_midi4.yaml on those two trees only, 1000 steps, OPL3 validation as
# in midi4-v3. Scoring it on the FluidR3 test split (songs it never saw, sounds it did) with
#   .venv/bin/python examples/frame_sdr_proxy.py runs/lightweight_aspp_fluidr3_in_domain
# bounds what better timbre generalisation alone could give at this model size and step budget.
# Result (2026-11-21, 1000 steps, best OPL3 validation -1.157): gains over the equal split drums +1.67,
# bass +1.04, keys -0.76, other +2.52 (mean +1.12), where midi4-v3's recipe, which never hears FluidR3,
# had +1.17 at the same step. Hearing the test timbres does not help: at this size and budget the unseen
# sample set is not what holds the scores back.
# Needs ../shared/data/midi and Debian fluid-soundfont-gm; about 20 min on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
for corpus in freedoom openmsx; do
    out="renders/indomain/fluidr3_$corpus"
    [ -f "$out/train/render.json" ] || .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" \
        --soundfont FluidR3_GM.sf2 --split train --excerpt-seconds 40
done
.venv/bin/sepzoo train zoo_configs/lightweight_aspp_midi4.yaml -o runs/lightweight_aspp_fluidr3_in_domain \
    --set 'data.paths=[../renders/indomain/fluidr3_freedoom, ../renders/indomain/fluidr3_openmsx]' \
    --set schedule.max_epochs=4 "$@"
