"""``sepzoo info NAME``: one model's numbers and, when it has weights, its model card metadata."""

from __future__ import annotations

import argparse
import json


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="zoo name (see `sepzoo list`) or preset folder")


def run(args: argparse.Namespace) -> int:
    from sepzoo import hub
    from sepzoo.preset import read_metadata
    from sepzoo.zoo import build_model, fetch_weights, get_preset, presets

    if args.name in presets() or "/" not in args.name:
        spec = get_preset(args.name)
        info = {"name": spec.name, "description": spec.description, **build_model(spec.class_name, spec.config).describe()}
        info["weights"] = spec.handle or "none published yet"
        if spec.handle is not None:
            info["metadata"] = read_metadata(fetch_weights(spec.name))
    else:
        info = read_metadata(hub.fetch(args.name))
    print(json.dumps(info, indent=2))
    return 0
