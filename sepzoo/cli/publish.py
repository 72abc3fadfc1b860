"""``sepzoo publish RUN_DIR --name NAME --version VERSION``: a finished run becomes a zoo version.

Writes ``<hub>/<NAME>/<VERSION>.tar.gz`` with portable metadata and a model card, ``<hub>/<NAME>/MODEL_CARD.md``
and the version's handle and sha256 in ``<hub>/<NAME>/index.json`` (see :func:`sepzoo.zoo.publish`); then
``sepzoo.load("NAME/VERSION")`` loads it.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from sepzoo.errors import ConfigError
from sepzoo.zoo import publish


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", help="run folder written by `sepzoo train` (or a preset folder)")
    parser.add_argument("--name", required=True, help="zoo entry name, e.g. lightweight_aspp")
    parser.add_argument("--version", required=True, help="version name, e.g. midi4-v3")
    parser.add_argument("--hub-dir", help="folder of published entries (default: the package's sepzoo/weights)")
    parser.add_argument("--description", help="one line for listings (default: the run's)")
    parser.add_argument("--note", help="how the run went, for the model card")
    parser.add_argument("--evaluation", metavar="DIR", help="folder written by `sepzoo evaluate --out DIR`: its "
                        "table and the SDR margins over the equal split go into the card")
    parser.add_argument("--evaluation-command", default="", help="the command that produced --evaluation")
    parser.add_argument("--evaluation-data", default="", help="what --evaluation scored, in words")
    parser.add_argument("--licences", metavar="FILE", help="text file: training data sources and their licences")
    parser.add_argument("--not-default", action="store_true", help="keep the entry's current default version")


def evaluation_section(eval_dir: Path, command: str, data: str) -> dict:
    """The ``evaluation`` metadata of a ``sepzoo evaluate --out`` folder: table, SDR margins, command."""
    try:
        summary = json.loads((eval_dir / "summary.json").read_text())
        table = (eval_dir / "table.md").read_text()
        methods = summary["methods"]
        if not isinstance(methods, dict):
            raise ValueError("its methods are not a mapping")
    except (OSError, ValueError, KeyError, TypeError) as error:
        reason = f"summary.json has no {error}" if isinstance(error, KeyError) else str(error)
        raise ConfigError(f"{eval_dir}: not an evaluation folder ({reason}); pass the folder of "
                          "`sepzoo evaluate --out DIR`") from None
    section = {"data": data or f"{len(summary.get('tracks', []))} tracks", "table": table, "command": command}
    models = [m for m in methods if m not in ("mixture", "equal split", "oracle IRM")]
    if models and "equal split" in methods:
        floor = methods["equal split"]
        gains = {source: round(scores["median"]["SDR"] - floor[source]["median"]["SDR"], 2)
                 for source, scores in methods[models[0]].items()}
        section["sdr_over_equal_split_db"] = gains
        section["summary"] = "Median SDR above the equal-split floor (dB): " + ", ".join(
            f"{source} {gain:+.2f}" for source, gain in gains.items())
    return section


def run(args: argparse.Namespace) -> int:
    evaluation = (evaluation_section(Path(args.evaluation), args.evaluation_command, args.evaluation_data)
                  if args.evaluation else None)
    licences = None
    if args.licences:
        try:
            licences = Path(args.licences).read_text().strip()
        except OSError as error:
            raise ConfigError(f"{args.licences}: cannot read the licences file ({error.strerror})") from None
    index = publish(args.run_dir, args.name, args.version, hub_dir=args.hub_dir, description=args.description,
                    note=args.note, evaluation=evaluation, licences=licences, make_default=not args.not_default)
    published = index["versions"][args.version]
    print(f"published {args.name}/{args.version}: {published['handle']} sha256 {published['sha256']}")
    return 0
