#!/usr/bin/env bash
# Renders midi4 train trees whose drum stem is played by a real, multi-sampled acoustic kit from Debian
# avldrums.lv2-soundfont (Black Pearl, Red Zeppelin; `sepzoo render --drum-soundfont`) while the other stems
# keep a GM soundfont, re-voiced with seed 2 (`--vary-timbre 2`, programs of other GM family members):
# renders/full/<tag>_<kit>_vary2_<corpus>, 90 s excerpts of the train split.
# COMBOS lists tag:soundfont:kit-tag:kit-soundfont (default TimGM6mb with Black Pearl and sf_GMbank with Red
# Zeppelin); CORPORA defaults to freedoom and openmsx (about 4 GB per combo; freedoom_history adds 5.6 GB).
# Trees that already have a render.json are kept. Needs ../shared/data/midi (or MIDI=folder).
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
dpkg -s avldrums.lv2-soundfont >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq avldrums.lv2-soundfont; }
COMBOS="${COMBOS:-timgm:TimGM6mb.sf2:bp:Black_Pearl_4_LV2.sf2 gmbank:sf_GMbank.sf2:rz:Red_Zeppelin_4_LV2.sf2}"
for corpus in ${CORPORA:-freedoom openmsx}; do
    for combo in $COMBOS; do
        IFS=: read -r tag font kit kit_font <<< "$combo"
        out="renders/full/${tag}_${kit}_vary2_$corpus"
        [ -f "$out/train/render.json" ] && continue
        .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "$font" --drum-soundfont "$kit_font" \
            --split train --excerpt-seconds 90 --vary-timbre 2
    done
done
