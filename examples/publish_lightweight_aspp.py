"""Turn a finished training run and its evaluation into the shipped `lightweight_aspp` preset.

Usage::

    python examples/publish_lightweight_aspp.py runs/lightweight_aspp_midi4 runs/eval_midi4_test \
        --version midi4-v2 --note "..."

Adds the evaluation table (from ``sepzoo evaluate --out``), the command that produced it, the SDR margins
over the equal-split floor and the data licences to the run's ``preset/metadata.json``; renders
``MODEL_CARD.md``; packs the preset into ``sepzoo/weights/lightweight_aspp/<version>.tar.gz`` (deterministic
tar.gz) and copies the card beside it. Prints the archive's sha256 for ``lightweight_aspp_presets.py``.
"""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

from sepzoo.hub import archive_preset
from sepzoo.model_card import write_model_card

REPO = Path(__file__).resolve().parents[1]
LICENCES = (
    "Trained on renders of `../shared/data/midi/freedoom` and `../shared/data/midi/freedoom_history` "
    "(Freedoom project, BSD-3-Clause) and `../shared/data/midi/openmsx` (openMSX music, GPL-2.0; see its "
    "LICENSE and redfarn_music_grant.txt), synthesised with TimGM6mb.sf2 (GPL-2.0, shipped in the pretty_midi "
    "wheel), sf_GMbank.sf2 (public domain, Debian csound-soundfont) and, for runs that list freepats trees, "
    "FreePats through TiMidity++ (GPL-2.0-or-later with an exception for compositions, Debian freepats). "
    "Validation renders made with OPL-3_FM_128M.sf2 (CC-BY-SA-4.0, Debian opl3-soundfont) where the config "
    "says so. Evaluated on renders made with FluidR3_GM.sf2 (MIT, Debian fluid-soundfont-gm)."
)


def margins(summary: dict, model: str) -> dict[str, float]:
    """Median SDR of ``model`` minus the equal split's, per source, in dB."""
    methods = summary["methods"]
    return {
        source: round(scores["median"]["SDR"] - methods["equal split"][source]["median"]["SDR"], 2)
        for source, scores in methods[model].items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_dir", type=Path)
    parser.add_argument("eval_dir", type=Path)
    parser.add_argument("--version", default="midi4-v2")
    parser.add_argument("--note", default="", help="how the run went (resumes, edits), for the card")
    args = parser.parse_args()

    preset = args.run_dir / "preset"
    metadata = json.loads((preset / "metadata.json").read_text())
    summary = json.loads((args.eval_dir / "summary.json").read_text())
    model_method = next(m for m in summary["methods"] if m not in ("mixture", "equal split", "oracle IRM"))
    gains = margins(summary, model_method)
    metadata["evaluation"] = {
        "data": f"midi4 test split, {len(summary['tracks'])} songs (30 s excerpts), FluidR3_GM soundfont",
        "summary": "Median SDR above the equal-split floor (dB): "
        + ", ".join(f"{source} {gain:+.2f}" for source, gain in gains.items()),
        "sdr_over_equal_split_db": gains,
        "table": (args.eval_dir / "table.md").read_text(),
        "command": f"examples/evaluate_lightweight_aspp_midi4.sh {args.run_dir}/preset",
    }
    metadata["data_licences"] = LICENCES
    if args.note:
        metadata["training"]["note"] = args.note
    (preset / "metadata.json").write_text(json.dumps(metadata, indent=2) + "\n")
    card = write_model_card(preset, "lightweight_aspp")

    folder = REPO / "sepzoo" / "weights" / "lightweight_aspp"
    folder.mkdir(parents=True, exist_ok=True)
    digest = archive_preset(preset, folder / f"{args.version}.tar.gz")
    shutil.copyfile(card, folder / "MODEL_CARD.md")
    print(f"handle: lightweight_aspp/{args.version}.tar.gz\nsha256: {digest}")


if __name__ == "__main__":
    main()
