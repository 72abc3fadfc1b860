"""``sepzoo export NAME --format litert|onnx|saved_model -o OUT``: a zoo model for runtimes without Keras.

Writes the folder ``OUT`` with ``model.tflite``, ``model.onnx`` or ``saved_model/`` and ``sepzoo.json`` (the
geometry ``sepzoo separate --engine`` needs), checked against the Keras model when the format's runtime is
installed. A model that cannot be exported in a format fails with one line saying why.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

FORMATS = ("litert", "onnx", "saved_model")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="zoo name or name/version (see `sepzoo list`), or a preset folder or archive")
    parser.add_argument("--format", choices=FORMATS, required=True,
                        help="litert: .tflite for ai-edge-litert; onnx: for onnxruntime; saved_model: TensorFlow")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUT",
                        help="export folder (replaced if it holds an earlier export)")
    parser.add_argument("--int8", action="store_true", help="quantize to int8 (litert only; needs --calibration)")
    parser.add_argument("--calibration", type=Path, metavar="DIR",
                        help="stem tree (e.g. a rendered split) whose mixture.wav files calibrate --int8")
    parser.add_argument("--weights", default="pretrained", metavar="pretrained|none|PATH",
                        help="shipped weights (default), none for random initialisation, or a preset handle")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.engines import INFO_FILE
    from sepzoo.export import export_model
    from sepzoo.zoo import load

    model = load(args.name, weights=None if args.weights == "none" else args.weights)
    out = export_model(model, args.output, args.format, name=args.name, int8=args.int8,
                       calibration=args.calibration)
    info = json.loads((out / INFO_FILE).read_text())
    checked = (f"max |diff| vs Keras {info['max_abs_diff']:.2g}" if "max_abs_diff" in info
               else "not checked: runtime not installed")
    print(f"{args.name} -> {out}/ ({args.format}{', int8' if args.int8 else ''}; {checked})")
    return 0
