"""A config's ``data`` section -> example sources -> batched ``tf.data`` streams fitted to a model.

Sources yield ``(mixture (context_samples, channels), stems (context_samples, n_sources * channels))``
examples. When the model's output window is shorter than its input, the stems are cropped to the centred
target window here, so the loss always compares equal lengths.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from sepzoo.config import DataSpec, TrainConfig
from sepzoo.errors import ConfigError, DataError

TRAIN, VALIDATION = "train", "validation"
# Tone streams for validation draw from seeds far from any training stream's.
_VALIDATION_SEED_OFFSET = 1 << 40


def stream_seed(base_seed: int, step: int) -> int:
    """Seed of a training stream (re)started at optimiser step ``step``."""
    return base_seed * 1_000_003 + step


def make_source(config: TrainConfig, split: str, seed: int) -> Any:
    """The example source of ``config.data`` for ``split`` (``"train"`` or ``"validation"``).

    Raises :class:`ConfigError` when the source's stems differ from ``data.sources``.
    """
    data = config.data
    if data.kind == "tones":
        source = _tone_source(config, split, seed)
    elif data.kind == "midi":
        source = _midi_source(config, split, seed)
    elif data.kind == "cache":
        source = _cache_source(config, split, seed)
    else:
        raise ConfigError(f"{config.path}: data.kind: {data.kind} has no training reader yet; "
                          "use tones, midi or cache")
    if tuple(source.sources) != tuple(data.sources):
        raise ConfigError(f"{config.path}: data.sources: {list(data.sources)} but the {data.kind} source gives "
                          f"{list(source.sources)}; list those names in that order")
    if split != TRAIN or (data.remix == 0 and data.eq_db == 0 and data.speed_change == 0):
        return source
    from sepzoo.data.augment import AugmentedSource

    return AugmentedSource(source, seed, data.sample_rate, remix=data.remix, remix_pool=data.remix_pool,
                           eq_db=data.eq_db, speed_change=data.speed_change, example_samples=data.context_samples)


def source_samples(data: DataSpec, split: str) -> int:
    """Length of the examples a source cuts, samples: ``context_samples``, plus the margin that a training
    speed change (``data.speed_change``) resamples away."""
    if split != TRAIN or data.speed_change == 0:
        return data.context_samples
    from sepzoo.data.speed import input_samples

    return input_samples(data.context_samples, data.speed_change)


def _tone_source(config: TrainConfig, split: str, seed: int) -> Any:
    from sepzoo.data.tones import ToneSource

    data = config.data
    offset = _VALIDATION_SEED_OFFSET if split == VALIDATION else 0
    try:
        return ToneSource(data.sources, data.sample_rate, source_samples(data, split), data.channels,
                          seed=seed + offset, **data.options)
    except TypeError as error:
        raise ConfigError(f"{config.path}: data.options: {error}; see sepzoo.data.tones.ToneSource") from None


def _midi_source(config: TrainConfig, split: str, seed: int) -> Any:
    from sepzoo.data.midi import MidiChunkSource
    from sepzoo.data.splits import list_midi_files

    data = config.data
    paths = [config.resolve_path(p) for p in data.paths]
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise ConfigError(f"{config.path}: data.paths: {', '.join(missing)} not found; "
                          "paths are relative to the config file")
    files = [f for p in paths for f in (list_midi_files(p) if p.is_dir() else [p])]
    # Validation serves the same examples every epoch, without gain augmentation.
    per_split = {"gain_range": None, "fresh_each_pass": False} if split == VALIDATION else {}
    try:
        return MidiChunkSource(files, task=data.task or "midi4", split=split, sample_rate=data.sample_rate,
                               chunk_samples=source_samples(data, split), channels=data.channels, seed=seed,
                               reuse_factor=data.reuse_factor, vary_timbre=data.vary_timbre and split == TRAIN,
                               repeat=True, **{**per_split, **data.options})
    except TypeError as error:
        raise ConfigError(f"{config.path}: data.options: {error}; see sepzoo.data.midi.MidiChunkSource") from None


class RenderedTrees:
    """Examples from one or more rendered stem trees (``sepzoo render`` / ``render_corpus``), interleaved.

    Pass ``k`` opens every tree's split with :class:`~sepzoo.data.render_cache.CachedChunkSource` seeded by
    ``(seed, k)`` and takes one example from each tree in turn until all are spent. ``passes=None`` repeats
    without end (training, each pass in a new order); ``passes=1`` gives one fixed pass (validation).

    Args:
        split_dirs: ``<tree>/<split>`` folders.
        sources: stem names in output order.
        chunk_samples: example length, samples.
        seed: stream seed.
        passes: number of passes, or None for endless.
        options: keyword arguments of ``CachedChunkSource`` (``shuffle``, ``gain_range``, ...).
    """

    def __init__(self, split_dirs: list[Path], sources: tuple[str, ...], chunk_samples: int, seed: int,
                 passes: int | None, options: dict[str, Any]):
        from sepzoo.data.render_cache import CachedChunkSource

        self.trees = [CachedChunkSource(d, sources, chunk_samples, seed=seed, **options) for d in split_dirs]
        self.split_dirs, self.seed, self.passes, self.options = split_dirs, seed, passes, options
        empty = [str(tree.split_dir) for tree in self.trees if not tree.songs]
        if empty:
            raise DataError(f"{', '.join(empty)}: no rendered songs; render the split with `sepzoo render` first")
        self.sources = self.trees[0].sources
        self.example_shapes = self.trees[0].example_shapes
        self.paths = [song for tree in self.trees for song in tree.songs]

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for k in itertools.count() if self.passes is None else range(self.passes):
            for tree in self.trees:
                tree.seed = int(np.random.SeedSequence([self.seed, k]).generate_state(1)[0])
            streams = [iter(tree) for tree in self.trees]
            while streams:
                for stream in list(streams):
                    example = next(stream, None)
                    if example is None:
                        streams.remove(stream)
                    else:
                        yield example


def _cache_source(config: TrainConfig, split: str, seed: int) -> RenderedTrees:
    data = config.data
    key = "validation_paths" if split != TRAIN and data.validation_paths else "paths"
    split_dirs = [config.resolve_path(p) / split for p in getattr(data, key)]
    missing = [str(d) for d in split_dirs if not (d / "render.json").is_file()]
    if missing:
        raise ConfigError(f"{config.path}: data.{key}: {', '.join(missing)} is not a rendered split; "
                          f"render it with `sepzoo render ... --split {split}`")
    if split == TRAIN:
        return RenderedTrees(split_dirs, data.sources, source_samples(data, split), seed, None,
                             {"shuffle": True, "gain_range": (0.7, 1.0), **data.options})
    return RenderedTrees(split_dirs, data.sources, data.context_samples, seed, 1,
                         {**data.options, **_spread_over_songs(split_dirs, data)})


def _spread_over_songs(split_dirs: list[Path], data: DataSpec) -> dict[str, Any]:
    """Options that make the first ``data.validation_examples`` of a fixed pass span every song it can.

    Songs are visited in a seeded shuffled order and each gives at most its share of the examples (more of
    them when there are fewer songs than examples), instead of every chunk of the first few songs.
    """
    from sepzoo.data.render_cache import song_folders

    songs = sum(len(song_folders(d)) for d in split_dirs)
    share = max(1, math.ceil(data.validation_examples / max(songs, 1)))
    cap = data.options.get("max_chunks_per_piece")
    return {"shuffle": True, "max_chunks_per_piece": min(share, cap) if cap else share}


def describe_source(config: TrainConfig, source: Any) -> str:
    """One line about the training examples for the model card."""
    augmentation = (f"; {config.data.remix:.0%} of examples remixed from stems of different songs "
                    f"(pool {config.data.remix_pool})" if config.data.remix else "")
    augmentation += f"; random per-stem EQ up to ±{config.data.eq_db:g} dB" if config.data.eq_db else ""
    augmentation += (f"; each stem resampled to a random speed within ±{config.data.speed_change:.0%}"
                     if config.data.speed_change else "")
    augmentation += "; songs re-voiced with random programs of their GM families" if config.data.vary_timbre else ""
    describe = getattr(source, "describe", None)
    if callable(describe):
        return describe() + augmentation
    paths = ", ".join(str(config.resolve_path(p)) for p in config.data.paths)
    files = len(getattr(source, "paths", ()))
    return (f"{config.data.kind}: {files} files of the train split from {paths}, task {config.data.task}, "
            f"{config.data.sample_rate} Hz, {config.data.channels} channel(s), reuse factor "
            f"{config.data.reuse_factor}{augmentation}")


def make_dataset(source: Any, batch_size: int, context_samples: int, target_samples: int, *,
                 shuffle_buffer: int = 0, batches: int | None = None):
    """Batched ``tf.data`` stream of ``(mixture (B, context, C), stems (B, target, S*C))`` from ``source``.

    ``batches`` limits the stream to that many batches (a fixed validation set); None keeps it endless.
    """
    from sepzoo.data.pipeline import make_tf_dataset

    dataset = make_tf_dataset(source, batch_size, shuffle_buffer=shuffle_buffer, prefetch=True)
    if target_samples != context_samples:
        start = (context_samples - target_samples) // 2
        dataset = dataset.map(lambda mixture, stems: (mixture, stems[:, start:start + target_samples]))
    if batches is None:
        return dataset
    import tensorflow as tf

    # repeat() keeps a fixed validation set full when its source is finite (a rendered split).
    return dataset.repeat().take(batches).apply(tf.data.experimental.assert_cardinality(batches))
