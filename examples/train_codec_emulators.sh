#!/usr/bin/env bash
# Regenerates the shipped codec emulators (docs/research.md, part A): trains zoo_configs/codec_emulator_spectrogram.yaml
# and zoo_configs/codec_emulator_waveform.yaml side by side (one CPU core each, 12 min of wall time each) on
# (lossless, 16 kbps MP3) pairs of real speech and MIDI-rendered music, then scores both against real lameenc
# output on held-back audio beside the identity map. Needs ../shared/data and the fixed4 TimGM6mb train renders
# (examples/seed_c_comparison.py makes them). Publish with
#   .venv/bin/python examples/evaluate_codec_emulators.py --spectrogram runs/codec_emulator_spectrogram/preset \
#       --waveform runs/codec_emulator_waveform/preset --publish VERSION
set -euo pipefail
cd "$(dirname "$0")/.."
export TF_NUM_INTRAOP_THREADS=1 TF_NUM_INTEROP_THREADS=1 OMP_NUM_THREADS=1
.venv/bin/sepzoo train zoo_configs/codec_emulator_spectrogram.yaml -o runs/codec_emulator_spectrogram "$@" &
.venv/bin/sepzoo train zoo_configs/codec_emulator_waveform.yaml -o runs/codec_emulator_waveform "$@" &
wait
.venv/bin/python examples/evaluate_codec_emulators.py --spectrogram runs/codec_emulator_spectrogram/preset \
    --waveform runs/codec_emulator_waveform/preset
