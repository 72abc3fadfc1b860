#!/usr/bin/env bash
# The on-device numbers of the README and docs/on_device.md, in one run on a quiet machine (about 30 min on
# 2 cores): FLOPs, the fp32 floor and every engine's real-time factor at 1 and 2 threads (benchmarks/speed.py),
# streaming latency and underruns on one core (benchmarks/stream_realtime.py), Open-Unmix and HTDemucs beside
# sepzoo (benchmarks/peers.py, which installs them in their own venv on first use), and peak memory at 30 s and
# 10 min (benchmarks/memory.py). Everything lands in OUT (default runs/on_device).
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-runs/on_device}
PYTHON=.venv/bin/python
mkdir -p "$OUT"
export TF_CPP_MIN_LOG_LEVEL=2
$PYTHON benchmarks/speed.py --out "$OUT" | tee "$OUT/speed.txt"
$PYTHON benchmarks/stream_realtime.py --seconds 20 | tee "$OUT/stream.txt"
$PYTHON benchmarks/stream_realtime.py --engine onnx --export "$OUT/exports/lightweight_aspp_onnx" --seconds 20 \
    | tee -a "$OUT/stream.txt"
$PYTHON benchmarks/peers.py --threads 1 2 --engines onnx litert --out "$OUT" | tee "$OUT/peers.txt"
$PYTHON benchmarks/memory.py --out "$OUT" | tee "$OUT/memory.txt"
