"""Finding MIDI files and assigning whole songs to train / validation / test by a hash of their name."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

from sepzoo.errors import DataError

SPLITS = ("train", "validation", "test")
MIDI_SUFFIXES = (".mid", ".midi", ".kar")
# Song versions stored as "<10 hex digits>_<name>.mid" (as in freedoom_history) share the name after the prefix.
_VERSION_PREFIX = re.compile(r"^[0-9a-f]{10}_")


def list_midi_files(directory: str | Path) -> list[Path]:
    """Every MIDI file (``.mid``, ``.midi``, ``.kar``, any case) under ``directory``, recursively, sorted."""
    root = Path(directory)
    if not root.is_dir():
        raise DataError(f"{root}: MIDI folder does not exist; pass a directory holding .mid files")
    return sorted(path for path in root.rglob("*") if path.suffix.lower() in MIDI_SUFFIXES and path.is_file())


def song_key(path: str | Path) -> str:
    """The name a song is split by: the lower-case file name without suffix or content-hash version prefix."""
    return _VERSION_PREFIX.sub("", Path(path).stem.lower())


def split_of(path: str | Path, validation: float = 0.1, test: float = 0.1) -> str:
    """``"train"``, ``"validation"`` or ``"test"`` for a song, from a SHA-256 of :func:`song_key`.

    The assignment depends only on the file name, never on the folder, other files or a chunk, so a song (and
    every stored version of it) stays in one split on every machine.

    Args:
        path: MIDI file path or name.
        validation: fraction of songs in the validation split.
        test: fraction of songs in the test split.
    """
    if validation < 0 or test < 0 or validation + test > 1:
        raise DataError(f"split fractions validation={validation}, test={test} must be >= 0 and sum to at most 1")
    digest = hashlib.sha256(song_key(path).encode("utf-8")).digest()
    position = int.from_bytes(digest[:8], "big") / 2**64
    if position < test:
        return "test"
    if position < test + validation:
        return "validation"
    return "train"


def files_in_split(paths: list[Path], split: str | None) -> list[Path]:
    """The paths whose song falls in ``split`` (``None`` keeps all)."""
    if split is not None and split not in SPLITS:
        raise DataError(f"split {split!r} is unknown; use one of {', '.join(SPLITS)}")
    return [path for path in paths if split is None or split_of(path) == split]
