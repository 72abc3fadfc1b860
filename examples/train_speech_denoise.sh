#!/usr/bin/env bash
# Regenerates the shipped `speech_denoise` weights (see sepzoo/weights/speech_denoise/MODEL_CARD.md): trains
# zoo_configs/speech_denoise.yaml (SpectrogramUNet P3 on the real speech and noise in ../shared/data, mixed on
# the fly; stopped after 60 min of wall time on 2 CPU cores). Extra arguments go to `sepzoo train`. Then
# score it (examples/evaluate_speech_denoise.sh runs/speech_denoise/preset) and publish it:
#   .venv/bin/sepzoo publish runs/speech_denoise --name speech_denoise --version VERSION \
#       --evaluation runs/eval_speech_test --evaluation-command examples/evaluate_speech_denoise.sh \
#       --licences zoo_configs/speech_denoise.licences.md
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/sepzoo train zoo_configs/speech_denoise.yaml -o runs/speech_denoise "$@"
