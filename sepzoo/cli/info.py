"""``sepzoo info NAME``: one model's numbers (including its FLOPs per second of audio, counted by
:mod:`sepzoo.models.flops`) and, when it has weights, its model card metadata."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

from sepzoo import hub
from sepzoo.errors import ModelNotFoundError
from sepzoo.zoo import CONFIG_FILE, build_model, fetch_weights, read_metadata, resolve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="zoo name or name/version (see `sepzoo list`), or a preset folder or archive")


def run(args: argparse.Namespace) -> int:
    if "://" in args.name or os.path.exists(args.name):
        print(json.dumps(_preset_metadata(args.name, hub.fetch(args.name)), indent=2))
        return 0
    from sepzoo.models.flops import flops_per_second  # imports Keras: only when a model is described

    spec, version = resolve(args.name)
    model = build_model(spec.class_name, spec.config)
    info = {"name": spec.name, "description": spec.description, **model.describe(),
            # Arithmetic per second of one channel at the model's rate as the Separator runs it (overlap 0.25).
            "gflop_per_second_of_audio": round(flops_per_second(model, overlap=0.25) / 1e9, 3),
            "versions": sorted(spec.versions), "default_version": spec.default_version}
    if version is None:
        info["weights"] = "none published yet"
    else:
        info["weights"] = spec.versions[version].handle
        info["metadata"] = read_metadata(fetch_weights(f"{spec.name}/{version}"))
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0


def _preset_metadata(name: str, folder: Path) -> dict:
    """The metadata of the preset ``name`` unpacked at ``folder``; ModelNotFoundError if it is none."""
    if not (folder / CONFIG_FILE).is_file():
        raise ModelNotFoundError(f"{name}: not a sepzoo preset (no {CONFIG_FILE}); pass a preset folder or "
                                 "archive, or a zoo name from `sepzoo list`")
    try:
        return read_metadata(folder)
    except (OSError, ValueError) as error:
        raise ModelNotFoundError(f"{name}: its metadata.json is unreadable ({error}); re-publish or re-download "
                                 "the preset") from None
