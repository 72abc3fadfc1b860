"""``sepzoo demo``: the main job on a built-in example.

Composes a short song in code (drums, bass, piano, strings), renders each stem with FluidSynth and the
soundfont inside the pretty_midi wheel, separates the mixture with a zoo model, writes
``OUTDIR/demo_song.wav`` (the input), ``OUTDIR/demo_song/<source>.wav`` (the estimates),
``OUTDIR/demo_song/spectrogram.png`` and ``OUTDIR/reference/<source>.wav`` (the true stems), and prints the
SDR of every estimate next to the equal-split floor (mixture / number of sources).
"""

from __future__ import annotations

import argparse
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-o", "--output", default="demo_output", help="output folder (default: demo_output)")
    parser.add_argument("-m", "--model", default="lightweight_aspp", help="zoo model (default: lightweight_aspp)")
    parser.add_argument("--seconds", type=float, default=12.0, help="length of the demo song in s (default: 12)")
    parser.add_argument("--seed", type=int, default=0, help="composition seed (key, velocities)")


def _load_model(name: str):
    """The model with its published weights, or random weights with a plain notice when none exist yet."""
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    from sepzoo.zoo import fetch_weights, get_preset, has_weights, load, load_preset, read_metadata

    if not has_weights(name):
        return load(name, weights=None), "RANDOM weights: no trained weights are published for this model yet"
    folder = fetch_weights(name)
    trained = read_metadata(folder).get("training", {})
    return load_preset(folder), (
        f"pretrained weights {get_preset(name).handle} ({trained.get('steps', '?')} training steps on "
        f"{trained.get('data', 'unrecorded data')})"
    )


def run(args: argparse.Namespace) -> int:
    # Imported here, not at the top: `sepzoo --help` imports this module (see sepzoo.cli).
    import numpy as np

    from sepzoo.audio_io import write_audio
    from sepzoo.data.midi.compose import compose_demo_song
    from sepzoo.data.midi.render import render_stems
    from sepzoo.metrics import signal_to_distortion
    from sepzoo.separator import Separator

    out = Path(args.output)
    model, weights_note = _load_model(args.model)
    print(f"model: {args.model} ({model.count_params():,} params, {model.sample_rate} Hz), {weights_note}")

    song = compose_demo_song(seconds=args.seconds, seed=args.seed)
    mixture, stems = render_stems(song, task="midi4", sample_rate=model.sample_rate)
    missing = [source for source in model.sources if source not in stems]
    out.mkdir(parents=True, exist_ok=True)
    song.write(str(out / "demo_song.mid"))
    input_path = write_audio(out / "demo_song.wav", mixture[None], model.sample_rate)
    for source, stem in stems.items():
        write_audio(out / "reference" / f"{source}.wav", stem[None], model.sample_rate)
    print(f"rendered {len(mixture) / model.sample_rate:.1f} s demo song -> {input_path}")

    written = Separator(model, progress=True).separate_file(input_path, out, plot=True)
    print(f"stems -> {written[model.sources[0]].parent}/ (+ spectrogram.png)")
    if missing:
        print(f"no reference for {', '.join(missing)}: the demo song renders the midi4 stems only")
    from sepzoo.audio_io import read_audio  # here: see the note in run()

    print("\n| stem | SDR (dB) | equal-split SDR (dB) |\n| --- | ---: | ---: |")
    for source in model.sources:
        if source in stems:
            estimate = read_audio(written[source])[0][0]
            floor = signal_to_distortion(stems[source], mixture / len(model.sources))
            print(f"| {source} | {signal_to_distortion(stems[source], estimate):.2f} | {floor:.2f} |")
    return 0
