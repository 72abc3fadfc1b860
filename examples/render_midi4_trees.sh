#!/usr/bin/env bash
# Renders the midi4 stem trees zoo_configs/lightweight_aspp_midi4.yaml trains and validates on
# (examples/train_lightweight_aspp_midi4.sh calls it with FONTS and VARY_SEEDS set):
# - train split (90 s excerpts) and validation split (20 s) of Freedoom, OpenMSX and freedoom_history with
#   each sample set of FONTS (default TimGM6mb and sf_GMbank; add freepats:freepats.cfg for TiMidity++ with
#   FreePats): renders/full/<tag>_<corpus>;
# - the validation split with OPL-3_FM_128M (Debian opl3-soundfont, CC-BY-SA-4.0, installed here; used for
#   validation only): renders/full/opl3_<corpus>;
# - for each seed in VARY_SEEDS (default none), the train split re-voiced (`sepzoo render --vary-timbre`):
#   renders/full/<tag>_vary<seed>_<corpus>.
# Trees that already have a render.json are kept. Needs ../shared/data/midi (or MIDI=folder).
set -euo pipefail
cd "$(dirname "$0")/.."
MIDI="${MIDI:-../shared/data/midi}"
dpkg -s opl3-soundfont >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq opl3-soundfont; }
render() {  # render CORPUS OUT SOUNDFONT SPLIT SECONDS [extra sepzoo render arguments]
    local corpus=$1 out=$2 font=$3 split=$4 seconds=$5
    shift 5
    [ -f "$out/$split/render.json" ] && return 0
    .venv/bin/sepzoo render "$MIDI/$corpus" -o "$out" --soundfont "$font" --split "$split" \
        --excerpt-seconds "$seconds" "$@"
}
for corpus in freedoom openmsx freedoom_history; do
    for font in ${FONTS:-timgm:TimGM6mb.sf2 gmbank:sf_GMbank.sf2}; do
        render "$corpus" "renders/full/${font%%:*}_$corpus" "${font#*:}" train 90
        render "$corpus" "renders/full/${font%%:*}_$corpus" "${font#*:}" validation 20
        for seed in ${VARY_SEEDS:-}; do
            render "$corpus" "renders/full/${font%%:*}_vary${seed}_$corpus" "${font#*:}" train 90 --vary-timbre "$seed"
        done
    done
    render "$corpus" "renders/full/opl3_$corpus" OPL-3_FM_128M.sf2 validation 20
done
