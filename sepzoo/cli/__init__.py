"""The ``sepzoo`` command. Each verb is a module of this package with ``add_arguments`` and ``run``.

``sepzoo --help`` imports every verb module, so a verb imports what needs Keras, TensorFlow, matplotlib or
museval inside its ``run``, never at the top of its module.

Errors a user can cause (:class:`~sepzoo.errors.SepzooError`) print one line ``sepzoo: error: ...`` and
exit with status 2; nothing else is printed, no traceback.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys

from sepzoo import __version__
from sepzoo.errors import SepzooError

VERBS = {
    "list": ("sepzoo.cli.list_models", "list the zoo's models"),
    "info": ("sepzoo.cli.info", "show one model's card"),
    "separate": ("sepzoo.cli.separate", "separate audio files into stems"),
    "demo": ("sepzoo.cli.demo", "render a demo song, separate it, score and plot it"),
    "render": ("sepzoo.cli.render", "render a MIDI folder into a MUSDB-style stem tree"),
    "evaluate": ("sepzoo.cli.evaluate", "score models on a stem tree the SiSEC 2018 way"),
    "train": ("sepzoo.cli.train", "train a zoo model from a YAML config"),
    "publish": ("sepzoo.cli.publish", "turn a finished training run into a zoo version"),
}


def _quiet_frameworks() -> None:
    """Import the backend with stderr muted: TensorFlow prints start-up notices that ignore its log level."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    if os.environ.setdefault("KERAS_BACKEND", "tensorflow") != "tensorflow":
        return
    saved_stderr, devnull = os.dup(2), os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 2)
    try:
        import tensorflow  # noqa: F401  (a failed import is reported when keras imports it again)
    except ImportError:
        pass
    finally:
        os.dup2(saved_stderr, 2)
        os.close(saved_stderr)
        os.close(devnull)


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with one sub-parser per verb."""
    parser = argparse.ArgumentParser(prog="sepzoo", description="Lightweight audio source separation.")
    parser.add_argument("--version", action="version", version=f"sepzoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(module_name)
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status."""
    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before any framework loads
    _quiet_frameworks()
    try:
        return int(args._run(args) or 0)
    except SepzooError as error:
        print(f"sepzoo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sepzoo: interrupted", file=sys.stderr)
        return 130


def entry_point() -> None:
    """Console-script entry."""
    sys.exit(main())
