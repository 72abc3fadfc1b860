"""``sepzoo list``: the zoo's models as a table."""

from __future__ import annotations

import argparse
import json

from sepzoo.zoo import list_models


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def format_table(rows: list[dict]) -> str:
    """Markdown table: name, sources, rate (Hz), params, receptive field (samples / s), latency (s), weights."""
    lines = [
        "| name | sources | rate (Hz) | params | receptive field | latency | weights |",
        "| --- | --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['name']} | {', '.join(row['sources'])} | {row['sample_rate']} | {row['params']:,} "
            f"| {row['receptive_field']} ({row['receptive_field_seconds']:.3f} s) "
            f"| {row['algorithmic_latency_seconds']:.3f} s | {'yes' if row['weights'] else 'no'} |"
        )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    rows = list_models()
    print(json.dumps(rows, indent=2) if args.json else format_table(rows))
    return 0
