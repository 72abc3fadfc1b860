"""``sepzoo evaluate``: score models on a stem tree or MUSDB18 the SiSEC 2018 way, beside reference methods."""

from __future__ import annotations

import argparse
import sys


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-m", "--model", metavar="NAME|PRESET",
                        help="zoo name or preset folder to score (omit to score only the reference methods)")
    parser.add_argument("--root", required=True, metavar="DIR",
                        help="split folder of a stem tree (DIR/<track>/mixture.wav + <source>.wav) or of MUSDB18, "
                             "or the folder above it with --split")
    parser.add_argument("--split", metavar="S", help="split sub-folder of --root, e.g. test")
    parser.add_argument("--compare", nargs="+", default=[], metavar="MODEL",
                        help="more zoo names or preset folders to score side by side")
    parser.add_argument("--stems", nargs="+", metavar="NAME=SRC+SRC",
                        help="score groups of sources, e.g. rhythm=drums+bass harmony=keys+other: references and "
                             "estimates are the sums of their members' stems")
    parser.add_argument("--out", metavar="DIR", help="write OUT/<method>/<track>.json, summary.json and table.md")
    parser.add_argument("--plot", metavar="PNG", help="write a box plot of per-track SDR by source and method")
    parser.add_argument("--jobs", type=_positive_int, default=1, metavar="N",
                        help="worker processes scoring tracks in parallel (default 1)")
    parser.add_argument("--max-tracks", type=_positive_int, metavar="N",
                        help="evaluate only the first N tracks, by name")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.evaluation import evaluate, markdown_table, model_estimator, plot_sdr, write_json
    from sepzoo.evaluation.plot import check_plot_path
    from sepzoo.evaluation.report import check_out_dir
    from sepzoo.separator import parse_stem_groups

    # Outputs are checked first and written last, after every track is scored: a failure writes nothing.
    if args.out:
        check_out_dir(args.out)
    if args.plot:
        check_plot_path(args.plot)
    stems = parse_stem_groups(args.stems)
    handles = ([args.model] if args.model else []) + list(args.compare)
    estimators = [model_estimator(handle, stems) for handle in handles]
    result = evaluate(args.root, estimators, split=args.split, stems=stems, jobs=args.jobs,
                      max_tracks=args.max_tracks, progress=sys.stderr.isatty())
    print(markdown_table(result), end="")
    if args.out:
        write_json(result, args.out)
    if args.plot:
        plot_sdr(result, args.plot)
    return 0
