#!/usr/bin/env bash
# Regenerates the evaluation table in the lightweight_aspp model card: the midi4 test split of the
# Freedoom and OpenMSX corpora rendered with FluidR3_GM (a soundfont the model never trained on), 30 s
# excerpts, scored with museval the SiSEC 2018 way next to the mixture, equal-split and oracle-IRM columns;
# then the same model as a 2-stem separator (rhythm = drums + bass, harmony = keys + other), for the README.
# Usage: examples/evaluate_lightweight_aspp_midi4.sh [MODEL_OR_PRESET]  (default: lightweight_aspp)
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
MODEL="${1:-lightweight_aspp}"
SF2=/usr/share/sounds/sf2/FluidR3_GM.sf2
for corpus in freedoom openmsx; do
    [ -f "renders/fluidr3_$corpus/test/render.json" ] || \
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "renders/fluidr3_$corpus" --split test --soundfont "$SF2" --excerpt-seconds 30
done
mkdir -p renders/fluidr3_test
for corpus in freedoom openmsx; do
    for song in renders/fluidr3_$corpus/test/*/; do ln -sfn "$(realpath "$song")" "renders/fluidr3_test/$(basename "$song")"; done
done
.venv/bin/sepzoo evaluate -m "$MODEL" --root renders/fluidr3_test --out runs/eval_midi4_test --plot runs/eval_midi4_test/sdr.png --jobs 2
.venv/bin/sepzoo evaluate -m "$MODEL" --root renders/fluidr3_test --stems rhythm=drums+bass harmony=keys+other \
    --out runs/eval_midi2_test --jobs 2
