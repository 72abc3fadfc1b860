#!/usr/bin/env bash
# Diagnostic: how well does a preset (default: the shipped lightweight_aspp) separate songs it trained on?
# Scores it with examples/frame_sdr_proxy.py on the first 8 train-split songs of Freedoom and of OpenMSX,
# as rendered with TimGM6mb (a sample set midi4-v3 trained on; renders/full/timgm_*, from
# examples/render_midi4_trees.sh) and with FluidR3_GM (the test soundfont; renders/indomain/fluidr3_*, from
# examples/train_lightweight_aspp_fluidr3_in_domain.sh). If the gains over the equal split stay short of the
# targets even here, neither the unseen songs nor the unseen sounds of the test split are what holds the
# model back. Usage: examples/score_on_training_songs.sh [what to score, as frame_sdr_proxy.py takes it]
# (default: --preset lightweight_aspp), e.g. examples/score_on_training_songs.sh runs/X --checkpoint runs/X/checkpoints/step-...
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$#" -gt 0 ] || set -- --preset lightweight_aspp
FONTS="timgm:renders/full/timgm fluidr3:renders/indomain/fluidr3"
for font in $FONTS; do  # every tree is checked before any scoring starts
    for corpus in freedoom openmsx; do
        if [ ! -d "${font#*:}_$corpus/train" ]; then
            echo "score_on_training_songs: ${font#*:}_$corpus/train is missing; render it first (see the header of $0)" >&2
            exit 1
        fi
    done
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
for font in $FONTS; do
    tag="${font%%:*}"
    mkdir "$work/$tag"
    for corpus in freedoom openmsx; do
        songs="${font#*:}_$corpus/train"
        for song in $(find "$songs" -mindepth 1 -maxdepth 1 -type d -printf '%f\n' | sort | head -8); do
            ln -s "$PWD/$songs/$song" "$work/$tag/$song"
        done
    done
    echo "== $tag: songs of the train split"
    .venv/bin/python examples/frame_sdr_proxy.py "$@" --root "$work/$tag"
done
