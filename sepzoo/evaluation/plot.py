"""Box plot of per-track SDR, grouped by source, one box per method (matplotlib, no display needed)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from sepzoo.audio_io import atomic_output
from sepzoo.errors import OutputError
from sepzoo.evaluation.results import Evaluation


def check_plot_path(path: str | os.PathLike) -> Path:
    """Raise OutputError unless a plot can be saved at ``path``: a file type matplotlib writes (by its
    suffix) in an existing folder, where no folder of that name is; return it as a Path. Run before scoring."""
    from matplotlib.backend_bases import FigureCanvasBase  # matplotlib loads only when a plot is asked for

    path = Path(path)
    kinds = FigureCanvasBase.get_supported_filetypes()
    if path.suffix[1:].lower() not in kinds:
        raise OutputError(f"{path}: cannot save a plot as {path.suffix or 'a file without suffix'}; "
                          f"end the --plot path in one of {', '.join('.' + kind for kind in sorted(kinds))}")
    if path.is_dir() or not path.parent.is_dir():
        problem = "is a folder" if path.is_dir() else f"folder {path.parent} does not exist"
        raise OutputError(f"{path}: {problem}; choose a --plot file in an existing folder")
    return path


def plot_sdr(evaluation: Evaluation, path: str | os.PathLike) -> Path:
    """Write a PNG box plot of each track's median SDR (dB) per source and method; return the path.

    Infinite values (exact estimates) cannot be drawn and are left out. The file type follows the suffix
    (see :func:`check_plot_path`); the file is renamed into place when complete.

    Raises:
        OutputError: the file cannot be written.
    """
    # matplotlib loads only when a plot is asked for.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    path = check_plot_path(path)
    methods = evaluation.methods
    width = 0.8 / len(methods)
    figure = Figure(figsize=(1.6 + 0.5 * len(methods) * len(evaluation.sources), 4.5), layout="constrained")
    axes = figure.add_subplot()
    colours = [f"C{index % 10}" for index in range(len(methods))]
    for index, method in enumerate(methods):
        positions = [group + (index - (len(methods) - 1) / 2) * width for group in range(len(evaluation.sources))]
        data = [[value for value in evaluation.track_medians(method, source, "SDR") if math.isfinite(value)]
                for source in evaluation.sources]
        boxes = axes.boxplot(data, positions=positions, widths=0.9 * width, patch_artist=True,
                             medianprops={"color": "black"}, flierprops={"markersize": 3})
        for box in boxes["boxes"]:
            box.set_facecolor(colours[index])
    axes.set_xticks(range(len(evaluation.sources)), evaluation.sources)
    axes.set_ylabel("SDR per track (dB)")
    axes.set_title(f"SDR by source and method, {len(evaluation.tracks)} tracks of {evaluation.location.name}")
    axes.grid(axis="y", alpha=0.3)
    axes.legend(handles=[Patch(facecolor=colour, label=method) for colour, method in zip(colours, methods)],
                fontsize="small", loc="best")
    try:
        with atomic_output(path) as temporary:
            figure.savefig(temporary, dpi=120, format=path.suffix[1:].lower())
    except OSError as error:
        raise OutputError(f"{path}: cannot write the plot ({error.strerror}); choose a writable --plot path") from None
    return path
