"""Where General MIDI soundfonts live on this machine."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from sepzoo.errors import DataError

SYSTEM_SOUNDFONT_DIRS = (
    Path("/usr/share/sounds/sf2"),
    Path("/usr/share/soundfonts"),
    Path("/usr/local/share/soundfonts"),
    Path("/etc/timidity"),  # TiMidity++ patch-set configs such as freepats.cfg
)


def default_soundfont() -> Path:
    """``TimGM6mb.sf2`` (6 MB, GM) shipped inside the ``pretty_midi`` package."""
    spec = importlib.util.find_spec("pretty_midi")  # its folder, without paying ~0.3 s to import it
    if spec is None or spec.origin is None:
        raise DataError("pretty_midi: not installed, so its TimGM6mb.sf2 is missing; pip install pretty_midi")
    path = Path(spec.origin).parent / "TimGM6mb.sf2"
    if not path.is_file():
        raise DataError(f"{path}: the soundfont bundled with pretty_midi is missing; reinstall pretty_midi")
    return path


def find_soundfont(name: str | Path | None = None) -> Path:
    """Resolve a soundfont given as ``None`` (the default), a path, or a file name such as ``FluidR3_GM.sf2``.

    A bare name is looked up in the system soundfont folders (Debian's ``fluid-soundfont-gm`` installs
    ``/usr/share/sounds/sf2/FluidR3_GM.sf2``; ``freepats`` installs the TiMidity++ patch-set config
    ``/etc/timidity/freepats.cfg``, which renders with :mod:`sepzoo.data.midi.timidity`) and beside the default
    soundfont.
    """
    if name is None:
        return default_soundfont()
    path = Path(name).expanduser()
    if path.is_file():
        return path
    for folder in (*SYSTEM_SOUNDFONT_DIRS, default_soundfont().parent):
        candidate = folder / path.name
        if candidate.is_file():
            return candidate
    raise DataError(
        f"soundfont {str(name)!r} not found as a path nor in {', '.join(map(str, SYSTEM_SOUNDFONT_DIRS))}; "
        "pass an existing .sf2 file or TiMidity++ .cfg (e.g. apt-get install fluid-soundfont-gm)"
    )
