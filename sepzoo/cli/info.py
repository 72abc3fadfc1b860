"""``sepzoo info NAME``: one model's numbers and, when it has weights, its model card metadata."""

from __future__ import annotations

import argparse
import json
import os

from sepzoo import hub
from sepzoo.zoo import build_model, fetch_weights, read_metadata, resolve


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("name", help="zoo name or name/version (see `sepzoo list`), or a preset folder or archive")


def run(args: argparse.Namespace) -> int:
    if "://" in args.name or os.path.exists(args.name):
        print(json.dumps(read_metadata(hub.fetch(args.name)), indent=2))
        return 0
    spec, version = resolve(args.name)
    info = {"name": spec.name, "description": spec.description, **build_model(spec.class_name, spec.config).describe(),
            "versions": sorted(spec.versions), "default_version": spec.default_version}
    if version is None:
        info["weights"] = "none published yet"
    else:
        info["weights"] = spec.versions[version].handle
        info["metadata"] = read_metadata(fetch_weights(f"{spec.name}/{version}"))
    print(json.dumps(info, indent=2, ensure_ascii=False))
    return 0
