"""The ``sepzoo`` command. Each verb is a module of this package with ``add_arguments`` and ``run``.

``sepzoo --help`` imports every verb module, so a verb imports what needs Keras, TensorFlow, matplotlib or
museval inside its ``run``, never at the top of its module.

Errors a user can cause (:class:`~sepzoo.errors.SepzooError`) and usage errors print one line
``sepzoo: error: ...`` and exit with status 2; nothing else is printed, no traceback. Ctrl-C (SIGINT) and
SIGTERM unwind the running verb, so its clean-up code removes temporaries and half-made folders, then print
one line and exit with 130 and 143. A closed stdout (``sepzoo info NAME | head -1``) ends the command
quietly with 141, as a shell reports SIGPIPE.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import signal
import sys
import threading
from collections.abc import Iterator

from sepzoo import __version__
from sepzoo.errors import SepzooError

VERBS = {
    "list": ("sepzoo.cli.list_models", "list the zoo's models"),
    "info": ("sepzoo.cli.info", "show one model's card"),
    "separate": ("sepzoo.cli.separate", "separate audio files into stems"),
    "demo": ("sepzoo.cli.demo", "render a demo song, separate it, score and plot it"),
    "render": ("sepzoo.cli.render", "render a MIDI folder, or speech + noise folders, into a stem tree"),
    "evaluate": ("sepzoo.cli.evaluate", "score models on a stem tree the SiSEC 2018 way"),
    "train": ("sepzoo.cli.train", "train a zoo model from a YAML config"),
    "publish": ("sepzoo.cli.publish", "turn a finished training run into a zoo version"),
    "export": ("sepzoo.cli.export", "export a model as LiteRT, ONNX or SavedModel for runtimes without Keras"),
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


class Terminated(BaseException):
    """Raised in the main thread when SIGTERM arrives, so the verb's ``finally`` and ``except BaseException``
    clean-ups run as they do for Ctrl-C; like KeyboardInterrupt it is no :class:`Exception`."""


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose usage errors are one line, like every other sepzoo error."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}; see `{self.prog} --help`\n")


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser with one sub-parser per verb."""
    parser = _Parser(prog="sepzoo", description="Lightweight audio source separation.")
    parser.add_argument("--version", action="version", version=f"sepzoo {__version__}")
    verbs = parser.add_subparsers(dest="verb", required=True, metavar="VERB")
    for verb, (module_name, help_text) in VERBS.items():
        module = importlib.import_module(module_name)
        sub = verbs.add_parser(verb, help=help_text, description=help_text)
        module.add_arguments(sub)
        sub.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (see the module docstring)."""
    args = build_parser().parse_args(argv)  # --help and usage errors exit here, before any framework loads
    try:
        with _signals_raise():
            if getattr(args, "engine", None) not in ("onnx", "litert"):  # these engines run without TensorFlow
                _quiet_frameworks()
            status = int(args._run(args) or 0)
            sys.stdout.flush()  # a closed pipe shows here, inside the handlers below, not at interpreter exit
            return status
    except SepzooError as error:
        print(f"sepzoo: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("sepzoo: interrupted", file=sys.stderr)
        return 130
    except Terminated:
        print("sepzoo: terminated", file=sys.stderr)
        return 143
    except BrokenPipeError:
        _discard_stdout()
        return 141


@contextlib.contextmanager
def _signals_raise() -> Iterator[None]:
    """Turn the first SIGTERM into :class:`Terminated` and SIGINT into KeyboardInterrupt for the ``with`` body
    (main thread only); a second SIGTERM during the clean-up kills the process at once. The previous handlers
    are restored afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def terminate(signum: int, frame: object) -> None:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminate)
    # Ctrl-C raises KeyboardInterrupt even where the embedding process had set another SIGINT handler.
    previous_interrupt = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_interrupt)


def _discard_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush into the closed pipe stays silent (the
    recipe of the Python docs' "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):  # stdout is no file (captured in tests) or already closed
        pass


def entry_point() -> None:
    """Console-script entry."""
    sys.exit(main())
