"""Render a preset's ``metadata.json`` as a human-readable ``MODEL_CARD.md``.

Every number in the card comes from the metadata, and the metadata records the command that produced each
number. ``sepzoo publish`` and :func:`sepzoo.zoo.save_preset` write the card; nested values are written as
``key: value`` lists and the training recipe as a YAML block, never as a Python repr.
"""

from __future__ import annotations

from typing import Any

import yaml


def _cell(value: Any) -> str:
    """One table cell: scalars as text, mappings as ``key: value, ...``, lists comma-separated."""
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_cell(item)}" for key, item in value.items() if item not in (None, ""))
    if isinstance(value, (list, tuple)):
        return ", ".join(_cell(item) for item in value)
    if isinstance(value, float):
        return f"{value:g}"
    return str(value).replace("|", "\\|").replace("\n", " ")


def _section(title: str, rows: dict[str, Any]) -> list[str]:
    lines = [f"## {title}", "", "| | |", "| --- | --- |"]
    lines += [f"| {key} | {_cell(value)} |" for key, value in rows.items() if value not in (None, "", {}, [])]
    return lines + [""]


def render_model_card(metadata: dict[str, Any], name: str) -> str:
    """Markdown model card for the preset called ``name`` from its metadata dict."""
    training = dict(metadata.get("training", {}))
    recipe = training.pop("config", None)
    command = training.pop("command", None)
    note = training.pop("note", None)
    evaluation = metadata.get("evaluation", {})
    version = f" ({metadata['version']})" if metadata.get("version") else ""
    lines = [f"# {name}{version}", "", metadata.get("description", ""), ""]
    if metadata.get("handle"):
        lines += [f"Load it with `sepzoo.load(\"{name}/{metadata.get('version', '')}\")`"
                  if metadata.get("version") else f"Load it with `sepzoo.load(\"{name}\")`", ""]
    lines += _section("Model", {
        "class": metadata.get("class"),
        "sources": ", ".join(metadata.get("sources", [])),
        "sample rate": f"{metadata.get('sample_rate')} Hz, {metadata.get('channels')} channel(s)",
        "parameters": f"{metadata.get('params', 0):,}",
        "context window": f"{metadata.get('context_samples')} samples",
        "target window": f"{metadata.get('target_samples')} samples",
        "receptive field": f"{metadata.get('receptive_field')} samples ({metadata.get('receptive_field_seconds')} s)",
        "algorithmic latency": f"{metadata.get('algorithmic_latency_seconds')} s (one context window)",
        "weights sha256": f"`{metadata.get('weights_sha256')}`",
        "archive": metadata.get("handle"),
    })
    if training:
        lines += _section("Training", training)
    if note:
        lines += [note, ""]
    if command:
        lines += ["Trained by:", "", "```bash", command, "```", ""]
    if recipe:
        lines += ["Recipe:", "", "```yaml", yaml.safe_dump(recipe, sort_keys=False, allow_unicode=True).rstrip(), "```", ""]
    if evaluation:
        lines += ["## Evaluation", ""]
        if evaluation.get("data"):
            lines += [f"Data: {evaluation['data']}.", ""]
        lines += [evaluation.get("summary", ""), "", evaluation.get("table", ""), ""]
        if evaluation.get("command"):
            lines += ["Produced by:", "", "```bash", evaluation["command"], "```", ""]
    if metadata.get("data_licences"):
        lines += ["## Training data and licences", "", metadata["data_licences"], ""]
    return "\n".join(lines).rstrip() + "\n"
