"""``sepzoo render``: synthesise a MIDI folder into a MUSDB-HQ-style stem tree for evaluation or training."""

from __future__ import annotations

import argparse
import sys

from sepzoo.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Arguments of ``sepzoo render``."""
    parser.add_argument("midi_dir", metavar="MIDI_DIR", help="folder of .mid files (searched recursively)")
    parser.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="writes OUTDIR/<split>/<song>/*.wav")
    parser.add_argument("--task", default="midi4", help="stem task: midi4, fixed4 or a registered one (default midi4)")
    parser.add_argument("--split", default="test", choices=("train", "validation", "test", "all"),
                        help="songs of this split, by a hash of the file name (default test)")
    parser.add_argument("--soundfont", default=None, metavar="SF2", help="soundfont path or name (default TimGM6mb)")
    parser.add_argument("--drum-soundfont", default=None, metavar="SF2",
                        help="soundfont that plays the drum kits instead, e.g. Black_Pearl_4_LV2.sf2 (Debian "
                             "avldrums.lv2-soundfont); default: --soundfont's kits")
    parser.add_argument("--sample-rate", type=int, default=22050, metavar="HZ", help="output rate in Hz (default 22050)")
    parser.add_argument("--channels", type=int, default=1, choices=(1, 2), help="1 = mono (default), 2 = stereo")
    parser.add_argument("--excerpt-seconds", type=float, default=None, metavar="S",
                        help="keep the S seconds of each song where most stems play (default: whole songs)")
    parser.add_argument("--max-songs", type=int, default=None, metavar="N", help="stop after N songs")
    parser.add_argument("--vary-timbre", type=int, default=None, metavar="SEED",
                        help="re-voice each song with random programs of the same GM families and a random drum "
                             "kit, drawn from SEED (default: the programs the MIDI files name)")


def run(args: argparse.Namespace) -> int:
    """Render the tree and print one summary line; returns 0."""
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.data.midi.render_cache import render_corpus

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
