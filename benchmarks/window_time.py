"""Model-only time per window against batch size, per engine, pinned to N threads: what sets the Separator's
batch default.

    python benchmarks/window_time.py --engine keras-tf --batches 1 2 8 16
    python benchmarks/window_time.py --engine onnx --export runs/on_device/exports/lightweight_aspp_onnx
    python benchmarks/window_time.py --engine keras-tf --jit --batches 2      # XLA-compiled TensorFlow
    python benchmarks/window_time.py --engine onnx --export EXPORT --profile  # ONNX Runtime time per op type

One process per call (run it once per engine). The model (or export) gets float32 ``(batch, context_samples,
channels)`` windows of noise; after two warm-up calls, the fastest of several calls is divided by the batch.
Printed per batch: ms per window and the model-only real-time factor for a 30 s stereo 44.1 kHz track at the
Separator's 25 % overlap (windows needed x ms per window / 30 s; resampling, overlap-add and file I/O come on
top, see ``benchmarks/speed.py``). Numbers only; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_runner import ENGINES, EXPORTED, limit_threads, open_model  # noqa: E402


def profile_onnx(args) -> None:
    """ONNX Runtime's own profile of six batch-1 calls: share of kernel time per op type."""
    import collections

    import numpy as np
    import onnxruntime

    from sepzoo.engines import read_export_info

    if args.engine != "onnx":
        raise SystemExit("--profile: needs --engine onnx")
    path, info = read_export_info(args.export)
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = args.threads
    options.enable_profiling = True
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    x = (0.1 * np.random.default_rng(0).standard_normal((1, info["context_samples"], info["channels"])))
    feed = {session.get_inputs()[0].name: x.astype(np.float32)}
    for _ in range(6):
        session.run(None, feed)
    trace = Path(session.end_profiling())  # ONNX Runtime writes it to the working folder
    events = json.loads(trace.read_text())
    trace.unlink()
    per_op = collections.Counter()
    for event in events:
        if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
            per_op[event["args"]["op_name"]] += event["dur"]
    total = sum(per_op.values())
    for op, microseconds in per_op.most_common():
        print(f"{op:20s} {100 * microseconds / total:5.1f} %  {microseconds / 6000:7.2f} ms per call")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=ENGINES, default="keras-tf")
    parser.add_argument("--model", default="lightweight_aspp", help="zoo name (keras-* engines)")
    parser.add_argument("--export", help="folder written by `sepzoo export` (exported engines)")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--batches", nargs="+", type=int, default=[1, 2, 4, 8, 16], help="items per call")
    parser.add_argument("--jit", action="store_true", help="keras-tf: compile with XLA (model.jit_compile)")
    parser.add_argument("--profile", action="store_true", help="onnx: share of model time per op type, batch 1")
    args = parser.parse_args()
    if args.engine in EXPORTED and not args.export:
        parser.error(f"--engine {args.engine} needs --export FOLDER")
    limit_threads(args.threads, args.engine)

    import numpy as np

    if args.profile:
        profile_onnx(args)
        return
    model = open_model(args)
    if args.jit:
        model.jit_compile = True
    call = getattr(model, "predict_on_batch", None) or model.predict
    hop = model.target_samples - round(0.25 * model.target_samples)
    runs = 2 if model.channels == 1 else 1  # a mono model runs each channel of the stereo track
    windows = runs * math.ceil(30 * model.sample_rate / hop)
    for batch in args.batches:
        x = (0.1 * np.random.default_rng(0).standard_normal((batch, model.context_samples, model.channels)))
        x = x.astype(np.float32)
        for _ in range(2):
            call(x)
        times = []
        for _ in range(max(3, 24 // batch)):
            start = time.perf_counter()
            call(x)
            times.append(time.perf_counter() - start)
        per_window = min(times) / batch
        print(json.dumps({"engine": args.engine + ("-xla" if args.jit else ""), "threads": args.threads,
                          "batch": batch, "ms_per_window": round(per_window * 1000, 2),
                          "model_only_rtf_30s_stereo": round(windows * per_window / 30, 4)}), flush=True)


if __name__ == "__main__":
    main()
