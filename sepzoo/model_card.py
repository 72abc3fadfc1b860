"""Render a preset's ``metadata.json`` as a human-readable ``MODEL_CARD.md``.

Every number in the card comes from the metadata, and the metadata records the command that produced each
number, so the card can be regenerated with ``python -m sepzoo.model_card PRESET_DIR``.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def _section(title: str, rows: dict[str, Any]) -> list[str]:
    lines = [f"## {title}", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {value} |" for key, value in rows.items() if value not in (None, "")]
    return lines + [""]


def render_model_card(metadata: dict[str, Any], name: str) -> str:
    """Markdown model card for the preset called ``name`` from its metadata dict."""
    training = metadata.get("training", {})
    evaluation = metadata.get("evaluation", {})
    lines = [f"# {name}", "", metadata.get("description", ""), ""]
    lines += _section("Model", {
        "class": metadata.get("class"),
        "sources": ", ".join(metadata.get("sources", [])),
        "sample rate": f"{metadata.get('sample_rate')} Hz, {metadata.get('channels')} channel(s)",
        "parameters": f"{metadata.get('params', 0):,}",
        "context window": f"{metadata.get('context_samples')} samples",
        "receptive field": f"{metadata.get('receptive_field')} samples ({metadata.get('receptive_field_seconds')} s)",
        "algorithmic latency": f"{metadata.get('algorithmic_latency_seconds')} s (one context window)",
        "weights sha256": f"`{metadata.get('weights_sha256')}`",
    })
    lines += _section("Training", {key: (f"`{value}`" if key == "command" else value) for key, value in training.items()})
    if evaluation:
        lines += ["## Evaluation", "", evaluation.get("summary", ""), "", evaluation.get("table", ""), ""]
        if evaluation.get("command"):
            lines += ["Produced by:", "", "```bash", evaluation["command"], "```", ""]
    if metadata.get("data_licences"):
        lines += ["## Training data and licences", "", metadata["data_licences"], ""]
    return "\n".join(lines).rstrip() + "\n"


def write_model_card(preset_dir: str | Path, name: str | None = None) -> Path:
    """Write ``MODEL_CARD.md`` beside ``metadata.json`` in ``preset_dir``; returns its path."""
    preset_dir = Path(preset_dir)
    metadata = json.loads((preset_dir / "metadata.json").read_text())
    path = preset_dir / "MODEL_CARD.md"
    path.write_text(render_model_card(metadata, name or metadata.get("name", preset_dir.name)))
    return path


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description="Regenerate MODEL_CARD.md from a preset's metadata.json.")
    parser.add_argument("preset_dir")
    parser.add_argument("--name")
    arguments = parser.parse_args()
    print(write_model_card(arguments.preset_dir, arguments.name))
