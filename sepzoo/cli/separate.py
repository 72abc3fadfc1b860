"""``sepzoo separate INPUT... -o OUTDIR``: split audio files into stems with a zoo model.

Writes ``OUTDIR/<input stem>/<source>.<wav|flac>`` per input (plus ``spectrogram.png`` with ``--plot``).
Every input is checked completely (header and samples) and the output folder is probed before anything
is written, so a bad file in the list fails the command with nothing half-done. Stems are renamed into
place only when complete; an error or interruption (Ctrl-C, SIGTERM) removes the temporaries and the
folders this run created and left empty, and temporaries a killed run left are removed by the next one.

``--engine onnx|litert|saved_model -m EXPORT`` runs a folder written by ``sepzoo export`` (or the model file in
it) through the same Separator; onnx and litert need only ``pip install 'sepzoo[lite]'``, no TensorFlow or
Keras. ``--stream`` pushes each file through a StreamingSeparator in blocks of 4096 frames, as a live input
would arrive (same stems, written at the input's rate).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from sepzoo.errors import ConfigError, OutputError

ENGINES = ("keras", "onnx", "litert", "saved_model")
STREAM_BLOCK = 4096
"""Frames per block pushed with ``--stream``."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", type=Path, metavar="INPUT", help="mono or stereo audio files")
    parser.add_argument("-m", "--model", default="lightweight_aspp", help="zoo model name or preset handle "
                        "(default: lightweight_aspp; `sepzoo list` shows all)")
    parser.add_argument("-o", "--output", required=True, type=Path, metavar="OUTDIR",
                        help="output folder; stems go to OUTDIR/<input name>/<source>.<format>")
    parser.add_argument("--format", choices=("wav", "flac"), default="wav",
                        help="wav: 32-bit float (default); flac: 24-bit")
    parser.add_argument("--sample-rate", type=int, metavar="HZ", help="output rate in Hz (default: the input's)")
    parser.add_argument("--segment", type=float, metavar="SECONDS",
                        help="model input window in s, for models that take any length (default: the model's)")
    parser.add_argument("--overlap", type=float, default=0.25, metavar="FRACTION",
                        help="share of each output window overlapped by the next, in [0, 1) (default: 0.25)")
    parser.add_argument("--plot", action="store_true", help="also write spectrogram.png per input")
    groups = parser.add_mutually_exclusive_group()
    groups.add_argument("--two-stems", metavar="SOURCE",
                        help="write only SOURCE and no_SOURCE, the sum of every other source (e.g. drums: a "
                             "drum track and a drumless one)")
    groups.add_argument("--stems", nargs="+", metavar="NAME=SRC+SRC",
                        help="write sums of sources instead, e.g. rhythm=drums+bass harmony=keys+other")
    parser.add_argument("--weights", default="pretrained", metavar="pretrained|none|PATH",
                        help="shipped weights (default), none for random initialisation, or a preset handle")
    parser.add_argument("--engine", choices=ENGINES, default="keras",
                        help="keras: the zoo model (default); onnx, litert, saved_model: run the export folder "
                             "(or model file) given with -m, written by `sepzoo export`")
    parser.add_argument("--stream", action="store_true",
                        help=f"process each file block by block ({STREAM_BLOCK} frames) through a "
                             "StreamingSeparator, as live input would arrive")


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.audio_io import check_output_rate, remove_empty_folders, validate_audio
    from sepzoo.separator import Separator, StreamingSeparator, parse_stem_groups, two_stems

    if args.sample_rate is not None:
        check_output_rate(args.sample_rate)
    if args.stream and args.sample_rate is not None:
        raise ConfigError("--stream with --sample-rate: streamed stems come at the input's rate; drop one")
    if args.segment is not None and args.segment <= 0:
        raise ConfigError(f"--segment {args.segment}: must be a positive number of seconds")
    infos = [validate_audio(path) for path in args.inputs]
    _refuse_clashing_names(args.inputs)
    model = _load_model(args)
    segment = None if args.segment is None else max(1, round(args.segment * model.sample_rate))
    interactive = sys.stderr.isatty()
    stems = two_stems(model.sources, args.two_stems) if args.two_stems else parse_stem_groups(args.stems)
    separator = Separator(model, segment_samples=segment, overlap=args.overlap, progress=interactive, stems=stems)
    created = _prepare_output(args.output)
    try:
        for info in tqdm(infos, unit="file", disable=not interactive or len(infos) == 1, file=sys.stderr):
            if args.stream:
                streamer = StreamingSeparator(model, info.sample_rate, channels=info.channels, overlap=args.overlap,
                                              stems=stems, segment_samples=segment)
                written = streamer.separate_file(info.path, args.output, format=args.format,
                                                 block_samples=STREAM_BLOCK, plot=args.plot)
            else:
                written = separator.separate_file(info.path, args.output, format=args.format,
                                                  sample_rate=args.sample_rate, plot=args.plot)
            print(f"{info.path} -> {next(iter(written.values())).parent}/ ({', '.join(written)})")
    except BaseException:
        remove_empty_folders(created)
        raise
    return 0


def _load_model(args: argparse.Namespace):
    """The zoo model (``--engine keras``) or the exported model's engine; only the first imports Keras."""
    if args.engine == "keras":
        from sepzoo.zoo import load

        return load(args.model, weights=None if args.weights == "none" else args.weights)
    from sepzoo.engines import open_engine

    if args.weights != "pretrained":
        raise ConfigError(f"--weights with --engine {args.engine}: an export carries its weights; drop --weights")
    return open_engine(args.model, args.engine)


def _refuse_clashing_names(paths: list[Path]) -> None:
    """Two inputs with the same file stem would write the same output folder: refuse before starting."""
    clashes = [stem for stem, count in Counter(path.stem for path in paths).items() if count > 1]
    if clashes:
        raise ConfigError(
            f"inputs named {clashes[0]!r} appear more than once and would overwrite each other's stems; "
            "rename them or separate them in separate runs"
        )


def _prepare_output(folder: Path) -> list[Path]:
    """Create ``folder`` and prove a file can be created in it, or raise OutputError (leaving nothing made).

    Returns:
        The folders created, outermost first.
    """
    created = [path for path in (folder, *folder.parents) if not path.exists()][::-1]
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, probe = tempfile.mkstemp(prefix=".sepzoo-probe-", dir=folder)
    except OSError as error:
        from sepzoo.audio_io import remove_empty_folders

        remove_empty_folders(created)
        raise OutputError(
            f"{folder}: cannot write output there ({error.strerror or error}); choose a writable folder with -o"
        ) from None
    os.close(handle)
    os.unlink(probe)
    return created
