#!/usr/bin/env bash
# Regenerates the shipped `lightweight_aspp` weights (see sepzoo/weights/lightweight_aspp/MODEL_CARD.md).
# 1. Render the MIDI corpora (22.05 kHz mono, task midi4, train and validation splits):
#    - for stages a-d, Freedoom and OpenMSX with TimGM6mb (the soundfont inside the pretty_midi wheel) and
#      with sf_GMbank (Debian csound-soundfont, public domain), 40 s / 20 s excerpts, under renders/;
#    - for stage e, Freedoom, OpenMSX and freedoom_history (65 more train songs) with the same two
#      soundfonts, 90 s / 20 s excerpts, under renders/full/, and the validation split once more with
#      OPL-3_FM_128M (Debian opl3-soundfont, CC-BY-SA-4.0), a soundfont never trained on, which picks the
#      best weights.
# 2. Train in stages, each starting from the previous stage's preset (zoo_configs/
#    lightweight_aspp_midi4.yaml is the last stage; the others override it):
#    a. 750 steps at Adam 1e-3 on the TimGM renders, silent sources counted in the SNR loss (weight 1);
#    b. 1000 steps at 1e-3, silent sources not counted (with weight 1 the model had learnt to answer
#       silence for bass and keys);
#    c. 500 steps at 3e-4 (the shipped run went on to 750 and kept the best validation weights, at 500);
#    d. both soundfonts, 2000 steps at 3e-4, then fine-tuning at 3e-5, best validation weights kept
#       (this was midi4-v2);
#    e. the YAML: the bigger corpus, half the examples remixed across songs, random per-stem EQ.
#    The shipped run did a -> b as one run resumed with the loss changed (so Adam's moments carried over)
#    and started c from b's last weights; this script reruns the same schedule as separate runs.
# Needs ../shared/data/midi. Takes about 0.9 s per step on 2 CPU cores.
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
CONFIG=zoo_configs/lightweight_aspp_midi4.yaml
EARLIER=(--set data.remix=0 --set data.eq_db=0 --set "data.validation_paths=[]")  # stages a-d: none of e's data changes
STAGE="--set schedule.fine_tune=false --set schedule.patience=100 --set optimiser.learning_rate=1e-3"
TIMGM=(--set "data.paths=[../renders/timgm_freedoom,../renders/timgm_openmsx]")
for corpus in freedoom openmsx; do
    for font in timgm:TimGM6mb.sf2 gmbank:sf_GMbank.sf2; do
        out="renders/${font%%:*}_$corpus"
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "${font#*:}" --split train --excerpt-seconds 40
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "${font#*:}" --split validation --excerpt-seconds 20
    done
done
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
.venv/bin/sepzoo train "$CONFIG" -o runs/lightweight_aspp_midi4_a $STAGE "${EARLIER[@]}" \
    --set schedule.max_epochs=3 --set loss.snr_silent_weight=1 --set data.validation_examples=96 \
    --set model.init_weights=none "${TIMGM[@]}"
.venv/bin/sepzoo train "$CONFIG" -o runs/lightweight_aspp_midi4_b $STAGE "${EARLIER[@]}" \
    --set schedule.max_epochs=4 --set data.validation_examples=96 \
    --set model.init_weights=runs/lightweight_aspp_midi4_a/preset "${TIMGM[@]}"
.venv/bin/sepzoo train "$CONFIG" -o runs/lightweight_aspp_midi4_c --set schedule.fine_tune=false "${EARLIER[@]}" \
    --set schedule.max_epochs=2 --set data.validation_examples=192 \
    --set model.init_weights=runs/lightweight_aspp_midi4_b/preset "${TIMGM[@]}"
.venv/bin/sepzoo train "$CONFIG" -o runs/lightweight_aspp_midi4_d --set schedule.max_epochs=8 \
    --set schedule.patience=10 "${EARLIER[@]}" --set data.validation_examples=192 \
    --set model.init_weights=runs/lightweight_aspp_midi4_c/preset \
    --set "data.paths=[../renders/timgm_freedoom,../renders/timgm_openmsx,../renders/gmbank_freedoom,../renders/gmbank_openmsx]"
.venv/bin/sepzoo train "$CONFIG" -o runs/lightweight_aspp_midi4 "$@"
