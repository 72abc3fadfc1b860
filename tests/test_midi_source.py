"""MidiChunkSource: reproducible examples, splits by song, skipped files, pool reuse, chunk caps and filters."""

from __future__ import annotations

import dataclasses
import itertools
import logging
from collections import Counter
from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from sepzoo.data.chunks import ChunkFilter, random_gains
from sepzoo.data.midi.compose import compose_demo_song
from sepzoo.data.midi.source import MidiChunkSource, chunk_song
from sepzoo.data.pipeline import iterate_batches
from sepzoo.data.midi.splits import list_midi_files, song_key, split_of
from sepzoo.errors import DataError

CHUNK = 4096


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> Path:
    """Four short composed songs in two sub-folders."""
    root = tmp_path_factory.mktemp("midi")
    for index in range(4):
        folder = root / ("a" if index < 2 else "b")
        folder.mkdir(exist_ok=True)
        compose_demo_song(seconds=4.0, seed=index, tempo=100 + 10 * index).write(str(folder / f"song{index}.mid"))
    return root


def source(corpus: Path, **kwargs) -> MidiChunkSource:
    settings = {"split": None, "chunk_samples": CHUNK, "pool_size": 16, **kwargs}
    return MidiChunkSource(corpus, **settings)


def test_examples_have_the_zoo_layout(corpus):
    examples = list(source(corpus))
    assert len(examples) > 10
    mixture, stems = examples[0]
    assert mixture.shape == (CHUNK, 1) and stems.shape == (CHUNK, 4) and stems.dtype == np.float32
    for mixture, stems in examples:
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
        assert np.max(np.abs(mixture)) <= 1.0


def test_same_seed_gives_identical_batches_and_another_seed_does_not(corpus):
    def batches(seed: int) -> list:
        return list(iterate_batches(source(corpus, seed=seed), batch_size=4))

    first, again, other = batches(0), batches(0), batches(1)
    assert len(first) == len(again) > 2
    assert all(np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1]) for a, b in zip(first, again))
    assert not np.array_equal(first[0][1], other[0][1])


def test_worker_processes_give_the_same_examples_as_in_process(corpus):
    in_process = list(source(corpus, seed=3, workers=0))
    parallel = source(corpus, seed=3, workers=2)
    served = list(parallel)
    assert len(served) == len(in_process)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(served, in_process))
    assert parallel.stats["songs"] == 4


def test_each_pass_draws_new_examples_unless_told_not_to(corpus):
    fresh = source(corpus)
    assert not np.array_equal(next(iter(fresh))[1], next(iter(fresh))[1])
    fixed = source(corpus, fresh_each_pass=False)
    assert np.array_equal(next(iter(fixed))[1], next(iter(fixed))[1])


def test_vary_timbre_renders_the_same_song_with_other_instruments(corpus):
    path = str(sorted(corpus.rglob("*.mid"))[0])
    plain = source(corpus).settings
    a = chunk_song((path, 5, plain)).examples
    b = chunk_song((path, 5, dataclasses.replace(plain, vary_timbre=True))).examples
    assert len(a) > 3 and len(b) > 3
    for mixture, stems in b:
        np.testing.assert_allclose(mixture[:, 0], stems.sum(axis=1), atol=1e-6)
    # The same stems play (the instruments keep their stems) but no re-voiced chunk sounds like a plain one.
    playing = [np.sum([np.sum(stems**2, axis=0) for _, stems in examples], axis=0) > 0 for examples in (a, b)]
    assert np.array_equal(*playing)
    assert not any(np.allclose(x[1], y[1], atol=1e-3) for x in a for y in b)


def test_corrupt_and_empty_files_are_skipped_counted_and_logged(corpus, tmp_path, caplog):
    paths = list_midi_files(corpus)
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\xff\xff\xff\xffjunk")
    empty = tmp_path / "empty.mid"
    empty.write_bytes(b"")
    with caplog.at_level(logging.WARNING, logger="sepzoo.data"):
        chunks = source([*paths, broken, empty])
        served = list(chunks)
    assert chunks.stats["unreadable"] == 2 and chunks.stats["songs"] == 4 and served
    assert "broken.mid" in caplog.text and "empty.mid" in caplog.text


def test_fixed4_skips_pieces_with_fewer_than_two_targets(corpus, tmp_path):
    lonely = pretty_midi.PrettyMIDI()
    drums, trumpet = pretty_midi.Instrument(0, is_drum=True), pretty_midi.Instrument(56)
    for beat in range(8):
        drums.notes.append(pretty_midi.Note(100, 36, beat * 0.5, beat * 0.5 + 0.2))
        trumpet.notes.append(pretty_midi.Note(100, 72, beat * 0.5, beat * 0.5 + 0.4))
    lonely.instruments += [drums, trumpet]
    lonely.write(str(tmp_path / "lonely.mid"))
    chunks = source([*list_midi_files(corpus), tmp_path / "lonely.mid"], task="fixed4")
    list(chunks)
    assert chunks.stats["too_few_targets"] == 1 and chunks.stats["songs"] == 4


@pytest.mark.parametrize("reuse_factor", [1, 3])
def test_reuse_factor_bounds_how_often_a_chunk_is_served(corpus, reuse_factor):
    chunks = source(corpus, reuse_factor=reuse_factor, gain_range=None, pool_size=8)
    served = Counter(stems.tobytes() for _, stems in chunks)
    assert max(served.values()) == reuse_factor
    assert sum(served.values()) == reuse_factor * chunks.stats["chunks"] == reuse_factor * len(served)


def test_pool_mixes_songs(corpus):
    """With a pool, consecutive examples come from different songs (tempos differ, so chunks are distinct)."""
    ordered = list(source(corpus, pool_size=1, gain_range=None))
    mixed = list(source(corpus, pool_size=64, gain_range=None))
    assert sorted(s.tobytes() for _, s in ordered) == sorted(s.tobytes() for _, s in mixed)
    assert [s.tobytes() for _, s in ordered] != [s.tobytes() for _, s in mixed]


def test_chunk_cap_per_piece_and_chunk_length_in_ms(corpus):
    capped = source(corpus, max_chunks_per_piece=2)
    assert len(list(capped)) == capped.stats["chunks"] == 2 * 4
    short = source(corpus, chunk_ms=100.0, chunk_samples=1, max_chunks_per_piece=1)
    assert next(iter(short))[0].shape == (2205, 1)


def test_served_chunks_pass_the_filters(corpus):
    strict = ChunkFilter(silence_db=-30.0, dominance_db=6.0)
    for mixture, stems in source(corpus, silence_db=-30.0, dominance_db=6.0, gain_range=None):
        assert strict.keep(stems.T[:, None, :])


def test_filter_drops_silence_and_single_source_chunks():
    rng = np.random.default_rng(0)
    noise = (0.1 * rng.standard_normal((3, 1, 1000))).astype(np.float32)
    keep = ChunkFilter(silence_db=-50.0, dominance_db=20.0)
    assert keep.keep(noise)
    assert not keep.keep(noise * 1e-4)  # -70 dB: silent
    solo = noise.copy()
    solo[1:] *= 0.01  # the other stems are 40 dB down: the first stem *is* the mixture
    assert not keep.keep(solo)
    assert ChunkFilter(dominance_db=None).keep(solo)


def test_random_gains_scale_each_stem_and_resum():
    rng = np.random.default_rng(1)
    stems = (0.2 * rng.standard_normal((500, 6))).astype(np.float32)  # 3 sources, stereo
    mixture = stems.reshape(500, 3, 2).sum(axis=1)
    new_mixture, new_stems = random_gains((mixture, stems), np.random.default_rng(2), (0.7, 1.0))
    ratios = new_stems / stems
    assert np.allclose(ratios, ratios[0], atol=1e-5)  # one gain per column ...
    assert np.allclose(ratios[0, 0::2], ratios[0, 1::2]) and np.all((ratios > 0.69) & (ratios < 1.01))  # per source
    np.testing.assert_allclose(new_mixture, new_stems.reshape(500, 3, 2).sum(axis=1), atol=1e-6)


def test_songs_never_cross_splits(tmp_path):
    for name in [f"tune{i:02d}" for i in range(60)]:
        compose_demo_song(seconds=1.0).write(str(tmp_path / f"{name}.mid"))
    everything = list_midi_files(tmp_path)
    by_split = {split: set(MidiChunkSource(tmp_path, split=split).paths) for split in ("train", "validation", "test")}
    assert set.union(*by_split.values()) == set(everything)
    assert sum(map(len, by_split.values())) == len(everything)  # disjoint
    assert all(by_split.values()) and len(by_split["train"]) > len(by_split["test"])


def test_split_depends_only_on_the_song_name():
    assert split_of("/x/freedoom/d_e1m1.mid") == split_of("/elsewhere/D_E1M1.MID")
    assert song_key("/h/0dd42574e8_d_dm10.mid") == song_key("d_dm10.mid") == "d_dm10"
    counts = Counter(split_of(f"song{i}.mid") for i in range(2000))
    assert 150 < counts["test"] < 250 and 150 < counts["validation"] < 250
    with pytest.raises(DataError, match="split"):
        MidiChunkSource([Path("a.mid")], split="dev")


def test_repeat_keeps_serving(corpus):
    one_pass = len(list(source(corpus, max_chunks_per_piece=1, pool_size=2)))
    endless = source(corpus, max_chunks_per_piece=1, pool_size=2, repeat=True)
    assert len(list(itertools.islice(endless, 3 * one_pass))) == 3 * one_pass
