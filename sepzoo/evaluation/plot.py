"""Box plot of per-track SDR, grouped by source, one box per method (matplotlib, no display needed)."""

from __future__ import annotations

import math
import os
from pathlib import Path

from sepzoo.errors import OutputError
from sepzoo.evaluation.results import Evaluation


def plot_sdr(evaluation: Evaluation, path: str | os.PathLike) -> Path:
    """Write a PNG box plot of each track's median SDR (dB) per source and method; return the path.

    Infinite values (exact estimates) cannot be drawn and are left out.

    Raises:
        OutputError: the file cannot be written.
    """
    # matplotlib loads only when a plot is asked for.
    from matplotlib.figure import Figure
    from matplotlib.patches import Patch

    path = Path(path)
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
        figure.savefig(path, dpi=120)
    except OSError as error:
        raise OutputError(f"{path}: cannot write the plot ({error.strerror}); choose a writable --plot path") from None
    return path
