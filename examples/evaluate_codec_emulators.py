"""Score the codec emulators against real lameenc output on held-back audio, beside the identity map
(docs/research.md, part A), and optionally publish them with that table in their cards.

    python examples/evaluate_codec_emulators.py                        # the shipped emulators
    python examples/evaluate_codec_emulators.py --spectrogram runs/codec_emulator_spectrogram/preset \\
        --waveform runs/codec_emulator_waveform/preset --publish mp3-16k-v1

The held-back audio is the `test` split of the `codec_pairs` source the emulators were trained with (speakers
and songs no emulator heard): --examples excerpts of 1.016 s at 16 kHz, half speech and half MIDI-rendered music,
each put through a real 16 kbps MP3 round trip (lameenc, libsndfile) and aligned. Each emulator's
`codec_magnitudes` (what the codec loss compares through) is scored against the coded audio's magnitude
spectrogram (512/128 STFT): log-spectral distance (dB, 80 dB floor) and spectral convergence; the identity row
scores the lossless audio itself. Writes OUT/table.md and OUT/scores.json.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NAMES = {"spectrogram": "codec_emulator_spectrogram", "waveform": "codec_emulator_waveform"}
LICENCES = REPO / "zoo_configs" / "codec_emulator.licences.md"


def held_back_pairs(data: Path, examples: int, seed: int = 0):
    """``examples`` (lossless, coded) waveform pairs of the codec_pairs test split, as the emulators' configs name
    the audio (speech from ``data``, music from the fixed4 TimGM6mb renders)."""
    from sepzoo.data import make_source

    music = [REPO / "renders" / "fixed4" / f"timgm_{corpus}" / "train" for corpus in ("freedoom", "openmsx")]
    source = make_source("codec_pairs", split="test", sources=["coded"], sample_rate=16000, channels=1,
                         example_samples=16256, seed=seed, validation_examples=examples,
                         options={"speech": [str(data / "speech")], "music": [str(m) for m in music if m.is_dir()],
                                  "bitrate_kbps": 16, "domain": "waveform", "level_db": [-30, -10]})
    return [source.example(index) for index in range(examples)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spectrogram", default=NAMES["spectrogram"], help="zoo name or preset folder")
    parser.add_argument("--waveform", default=NAMES["waveform"], help="zoo name or preset folder")
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--examples", type=int, default=128)
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "eval_codec_emulators")
    parser.add_argument("--publish", metavar="VERSION", help="publish both (the arguments must be training runs' "
                        "presets) as VERSION of codec_emulator_spectrogram / codec_emulator_waveform")
    args = parser.parse_args()

    import sepzoo
    from sepzoo.evaluation.codec import emulator_scores, emulator_table

    emulators = {NAMES["spectrogram"]: sepzoo.load(args.spectrogram), NAMES["waveform"]: sepzoo.load(args.waveform)}
    scores = emulator_scores(emulators, held_back_pairs(args.data, args.examples))
    table = emulator_table(scores)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "table.md").write_text(table)
    (args.out / "scores.json").write_text(json.dumps(scores, indent=2) + "\n")
    print(table)
    if args.publish:
        from sepzoo.zoo import publish

        for kind, name in NAMES.items():
            run = Path(getattr(args, kind)).parent
            row = scores[name]
            evaluation = {
                "data": f"{args.examples} held-back excerpts of 1.016 s at 16 kHz (the codec_pairs test split: speakers "
                        "and MIDI-rendered songs no emulator trained on), half speech, half music, each through a real "
                        "16 kbps MP3 round trip (lameenc encode, libsndfile decode, aligned)",
                "summary": f"Against the real codec's output: log-spectral distance {row['lsd_db']:.2f} dB and spectral "
                           f"convergence {row['spectral_convergence']:.3f}, where the lossless input itself (the "
                           f"identity map) scores {scores['identity']['lsd_db']:.2f} dB and "
                           f"{scores['identity']['spectral_convergence']:.3f}.",
                "lsd_db": row["lsd_db"], "spectral_convergence": row["spectral_convergence"], "table": table,
                "command": "python examples/evaluate_codec_emulators.py",
            }
            index = publish(run, name, args.publish, evaluation=evaluation, licences=LICENCES.read_text().strip())
            print(f"published {name}/{args.publish}: {index['versions'][args.publish]['sha256']}")


if __name__ == "__main__":
    main()
