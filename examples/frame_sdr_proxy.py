"""Fast A/B score of training-run weights on a rendered test tree: median per-second SDR, model vs equal split.

Usage::

    python examples/frame_sdr_proxy.py runs/lightweight_aspp_freepats                # the run's best.npz
    python examples/frame_sdr_proxy.py runs/X --checkpoint runs/X/checkpoints/step-...  # its weight average
    python examples/frame_sdr_proxy.py runs/X --weights other.npz --root renders/fluidr3_test
    python examples/frame_sdr_proxy.py --preset lightweight_aspp                      # a zoo name or preset

For each source: SDR in dB of every 1 s frame whose reference is not silent, ``10 log10(|s|^2 / |s - ŝ|^2)``,
median over frames, then median over tracks, for the model and for the equal split (mixture / number of
sources), and their difference. This is BSS Eval v4's image SDR on mono renders without museval's
bookkeeping, in about 40 s instead of 2-3 min: for midi4-v2 on the FluidR3 test split it gives `sepzoo
evaluate`'s medians for drums, bass and other to 0.01 dB and keys 0.08 dB higher (0.85 vs 0.77). The
experiment configs in this folder quote it; ship nothing on it alone: `sepzoo evaluate` makes the tables.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import keras
import numpy as np
import yaml

import sepzoo
from sepzoo.config import config_from_dict
from sepzoo.evaluation.tracks import open_test_set
from sepzoo.separator import Separator
from sepzoo.train import build_model, make_optimizer
from sepzoo.training import checkpoint as ckpt


def frame_sdr(reference: np.ndarray, estimate: np.ndarray, frame: int) -> float:
    """Median over ``frame``-sample windows (silent references skipped) of the SDR in dB; NaN if all silent."""
    values = []
    for start in range(0, reference.shape[-1] - frame + 1, frame):
        target = reference[..., start:start + frame]
        if np.sum(target**2) < 1e-8:
            continue
        error = target - estimate[..., start:start + frame]
        values.append(10 * np.log10(np.sum(target**2) / (np.sum(error**2) + 1e-10)))
    return float(np.median(values)) if values else float("nan")


def load_run_model(run: Path, weights: Path | None, checkpoint: Path | None):
    """The run's model with ``weights`` (.npz), a checkpoint's weight average (its running weights when the run
    kept no average), or the run's ``best.npz``."""
    config = config_from_dict(yaml.safe_load((run / "config.yaml").read_text()), str(run / "config.yaml"))
    model = build_model(config)
    if checkpoint is not None:
        model.compile(optimizer=make_optimizer(config.optimiser))
        model.optimizer.build(model.trainable_variables)
        with tempfile.TemporaryDirectory() as folder:
            ckpt.restore_checkpoint(checkpoint, model, Path(folder) / ckpt.BEST_WEIGHTS)
        kept = [keras.ops.convert_to_numpy(value) for value in ckpt.kept_weights(model)]
        for variable, value in zip(model.weights, kept):
            variable.assign(value)
    else:
        ckpt.load_variables(model.weights, weights or run / ckpt.BEST_WEIGHTS)
    with tempfile.TemporaryDirectory() as folder:  # through a preset, as users load models
        sepzoo.save_preset(model, Path(folder) / "preset")
        return sepzoo.load(str(Path(folder) / "preset"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("run", type=Path, nargs="?", help="training run folder (holds config.yaml and best.npz)")
    parser.add_argument("--preset", help="score this zoo name, handle or preset folder instead of a run")
    parser.add_argument("--weights", type=Path, help="model-order .npz instead of the run's best.npz")
    parser.add_argument("--checkpoint", type=Path, help="score this checkpoint's weight average (ema_momentum)")
    parser.add_argument("--root", default="renders/fluidr3_test", help="rendered test tree (default: %(default)s)")
    args = parser.parse_args()
    if (args.run is None) == (args.preset is None):
        parser.error("give a run folder or --preset, not both")
    model = sepzoo.load(args.preset) if args.preset else load_run_model(args.run, args.weights, args.checkpoint)
    separator = Separator(model)
    test_set = open_test_set(args.root)
    scores: dict[str, tuple[list[float], list[float]]] = {source: ([], []) for source in test_set.sources}
    for files in test_set.tracks:
        track = files.load(test_set.sources)
        estimates = separator.separate(track.mixture, track.sample_rate)
        for source in test_set.sources:
            reference = track.stems[source]
            scores[source][0].append(frame_sdr(reference, estimates[source], track.sample_rate))
            scores[source][1].append(frame_sdr(reference, track.mixture / len(test_set.sources), track.sample_rate))
    gains = []
    for source, (model_sdr, equal_sdr) in scores.items():
        model_median, equal_median = np.nanmedian(model_sdr), np.nanmedian(equal_sdr)
        gains.append(model_median - equal_median)
        print(f"{source:8s} model {model_median:6.2f}  equal split {equal_median:6.2f}  gain {gains[-1]:+.2f} dB")
    print(f"mean gain {np.mean(gains):+.2f} dB")


if __name__ == "__main__":
    main()
