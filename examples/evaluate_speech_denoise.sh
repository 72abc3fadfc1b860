#!/usr/bin/env bash
# Regenerates the evaluation table in the speech_denoise model card: 100 mixtures of 4 s from the test split
# of ../shared/data (speakers and noise recordings no training run saw; SNR -5..20 dB, level -30..-10 dBFS,
# seed 0), scored with SI-SDR, wideband PESQ and STOI beside the noisy input and the oracle IRM (and museval
# SDR, the SiSEC way).
# Usage: examples/evaluate_speech_denoise.sh [MODEL_OR_PRESET]  (default: speech_denoise)
set -euo pipefail
cd "$(dirname "$0")/.."
DATA="${DATA:-../shared/data}"
MODEL="${1:-speech_denoise}"
[ -f renders/speech_test/test/render.json ] || \
    .venv/bin/sepzoo render --task speech_denoise --speech "$DATA/speech" --noise "$DATA/noise/esc10" \
        "$DATA/noise/blanket" "$DATA/noise/blanket_extra" "$DATA/noise/speech_commands_background" \
        "$DATA/noise/librosa" "$DATA/noise/music_asterisk_moh" --split test --examples 100 --seconds 4 \
        --sample-rate 16000 --seed 0 -o renders/speech_test
.venv/bin/sepzoo evaluate -m "$MODEL" --root renders/speech_test --split test --out runs/eval_speech_test --jobs 2
