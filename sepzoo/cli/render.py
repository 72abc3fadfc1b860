"""``sepzoo render``: synthesise a MIDI folder into a MUSDB-HQ-style stem tree for evaluation or training, or, for a
speech task (``--task speech_denoise``), mix noisy-speech examples from ``--speech`` and ``--noise`` folders into
one (``OUTDIR/<split>/<NNNN>/{mixture,speech,noise}.wav`` + ``render.json``)::

    sepzoo render --task speech_denoise --speech ../shared/data/speech --noise ../shared/data/noise \
        --split test --examples 100 --excerpt-seconds 4 --sample-rate 16000 -o renders/speech
"""

from __future__ import annotations

import argparse
import sys

from sepzoo.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sepzoo render``."""
    parser.add_argument("midi_dir", metavar="MIDI_DIR", nargs="?",
                        help="folder of .mid files (searched recursively); not for speech tasks")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="writes OUTDIR/<split>/<song>/*.wav")
    parser.add_argument("--task", default="midi4",
                        help="stem task: midi4, fixed4, speech_denoise or a registered one (default midi4)")
    parser.add_argument("--split", default="test", choices=("train", "validation", "test", "all"),
                        help="songs of this split, by a hash of the file name (default test)")
    parser.add_argument("--soundfont", default=None, metavar="SF2", help="soundfont path or name (default TimGM6mb)")
    parser.add_argument("--drum-soundfont", default=None, metavar="SF2",
                        help="soundfont that plays the drum kits instead, e.g. Black_Pearl_4_LV2.sf2 (Debian "
                             "avldrums.lv2-soundfont); default: --soundfont's kits")
    parser.add_argument("--sample-rate", type=int, default=None, metavar="HZ",
                        help="output rate in Hz (default 22050; 16000 for speech tasks)")
    parser.add_argument("--channels", type=int, default=1, choices=(1, 2), help="1 = mono (default), 2 = stereo")
    parser.add_argument("--excerpt-seconds", "--seconds", type=float, default=None, metavar="S",
                        help="keep the S seconds of each song where most stems play (default: whole songs); "
                             "speech tasks: length of each example (default 4)")
    parser.add_argument("--max-songs", type=int, default=None, metavar="N", help="stop after N songs")
    parser.add_argument("--vary-timbre", type=int, default=None, metavar="SEED",
                        help="re-voice each song with random programs of the same GM families and a random drum "
                             "kit, drawn from SEED (default: the programs the MIDI files name)")
    speech = parser.add_argument_group("speech tasks (--task speech_denoise)")
    speech.add_argument("--speech", nargs="+", metavar="DIR", help="folders of clean speech (searched recursively; "
                        "a speakers.csv there or above assigns speakers to splits)")
    speech.add_argument("--noise", nargs="+", metavar="DIR", help="folders of noise (a sources.csv there or above "
                        "assigns recordings to splits)")
    speech.add_argument("--examples", type=int, default=100, metavar="N", help="examples to write (default 100)")
    speech.add_argument("--seed", type=int, default=0, help="seed of the examples (default 0)")
    speech.add_argument("--snr-db", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="speech-to-noise ratio range, dB, drawn uniformly (default -5 20)")
    speech.add_argument("--level-db", type=float, nargs=2, default=None, metavar=("LOW", "HIGH"),
                        help="mixture RMS level range, dBFS, drawn uniformly (default -30 -10)")
    speech.add_argument("--include-narrowband", action="store_true",
                        help="keep speech recorded below 16 kHz (FSDD) in examples of 16 kHz or more")


def run(args: argparse.Namespace) -> int:
    """Render the tree and print one summary line; returns 0."""
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.data.speech_noise import speech_task_sources

    if speech_task_sources(args.task) is not None:
        return _run_speech(args)
    from sepzoo.data.midi.render_cache import render_corpus

    if args.midi_dir is None:
        raise ConfigError("MIDI_DIR: missing; pass a folder of .mid files (or --task speech_denoise with --speech "
                          "and --noise folders)")
    speech_only = [flag for flag, value in (("--speech", args.speech), ("--noise", args.noise)) if value]
    if speech_only:
        raise ConfigError(f"{speech_only[0]}: only for speech tasks; add --task speech_denoise or leave it out")
    if args.sample_rate is None:
        args.sample_rate = 22050
    if args.excerpt_seconds is not None and args.excerpt_seconds <= 0:
        raise ConfigError(f"--excerpt-seconds {args.excerpt_seconds}: must be positive; omit it for whole songs")
    if args.max_songs is not None and args.max_songs < 1:
        raise ConfigError(f"--max-songs {args.max_songs}: must be at least 1")
    counts = render_corpus(
        args.midi_dir,
        args.output,
        task=args.task,
        split=None if args.split == "all" else args.split,
        sample_rate=args.sample_rate,
        soundfont=args.soundfont,
        drum_soundfont=args.drum_soundfont,
        channels=args.channels,
        excerpt_seconds=args.excerpt_seconds,
        max_songs=args.max_songs,
        timbre_seed=args.vary_timbre,
        progress=sys.stderr.isatty(),
    )
    print(f"wrote {counts['written']} songs to {args.output}/{args.split} "
          f"(skipped: {counts['unreadable']} unreadable, {counts['too_few_targets']} with too few targets)")
    return 0


def _run_speech(args: argparse.Namespace) -> int:
    """Mix the noisy-speech examples of one split into a stem tree; print one summary line; returns 0."""
    from sepzoo.data.speech_noise import DEFAULT_LEVEL_DB, DEFAULT_SNR_DB, render_speech_noise

    if args.midi_dir is not None:
        raise ConfigError(f"{args.midi_dir}: a MIDI folder is not used by --task {args.task}; pass --speech and "
                          "--noise folders instead")
    for flag, value in (("--speech", args.speech), ("--noise", args.noise)):
        if not value:
            raise ConfigError(f"{flag}: missing; --task {args.task} needs --speech DIR and --noise DIR")
    if args.split == "all":
        raise ConfigError("--split all: a speech tree is rendered one split at a time; pick train, validation or test")
    midi_only = [flag for flag, value in (("--soundfont", args.soundfont), ("--drum-soundfont", args.drum_soundfont),
                                          ("--max-songs", args.max_songs), ("--vary-timbre", args.vary_timbre))
                 if value is not None]
    if midi_only:
        raise ConfigError(f"{midi_only[0]}: only for MIDI tasks; leave it out for --task {args.task}")
    sample_rate = 16000 if args.sample_rate is None else args.sample_rate
    split_dir = render_speech_noise(
        args.speech, args.noise, args.output, split=args.split, examples=args.examples,
        seconds=4.0 if args.excerpt_seconds is None else args.excerpt_seconds, sample_rate=sample_rate,
        channels=args.channels, seed=args.seed, snr_db=args.snr_db or DEFAULT_SNR_DB,
        level_db=args.level_db or DEFAULT_LEVEL_DB, include_narrowband=args.include_narrowband, task=args.task,
        progress=sys.stderr.isatty())
    print(f"wrote {args.examples} {args.task} examples to {split_dir}")
    return 0
