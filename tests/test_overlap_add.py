"""sepzoo.dsp.OverlapAdd against plain NumPy predict functions whose overlap-added result is known exactly."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import sepzoo.dsp
from sepzoo.dsp import OverlapAdd, overlap_add_window, windows_needed

# (context, target, hop): no margin, even margin, odd margin (extra sample after the target), hop 1,
# no overlap, a hop that does not divide the target.
GEOMETRIES = [(32, 32, 24), (64, 32, 24), (65, 32, 16), (16, 8, 1), (40, 20, 20), (100, 37, 20)]
LENGTHS = [0, 1, 7, 31, 32, 33, 64, 1000]


def identity(context: int, target: int):
    """Predict function returning the target-sized centre of each context window (the documented offset)."""
    offset = (context - target) // 2
    return lambda windows: windows[:, offset:offset + target]


def engine(predict, context: int, target: int, hop: int, channels: int = 1, outputs: int | None = None,
           batch_size: int = 3, window: np.ndarray | None = None) -> OverlapAdd:
    window = overlap_add_window(target, target - hop) if window is None else window
    return OverlapAdd(predict, context_samples=context, target_samples=target, window=window, hop=hop,
                      channels=channels, outputs=channels if outputs is None else outputs, batch_size=batch_size)


def one_shot(oa: OverlapAdd, audio: np.ndarray) -> np.ndarray:
    return np.concatenate([oa.push(audio), oa.flush()], axis=1)


def noise(channels: int, length: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).uniform(-1, 1, (channels, length)).astype(np.float32)


@pytest.mark.parametrize("context, target, hop", GEOMETRIES)
@pytest.mark.parametrize("channels", [1, 2])
def test_identity_predictor_reconstructs_the_input(context, target, hop, channels):
    for length in LENGTHS:
        audio = noise(channels, length, seed=length)
        out = one_shot(engine(identity(context, target), context, target, hop, channels), audio)
        assert out.dtype == np.float32 and out.shape == audio.shape
        # sum(w * x) / sum(w) == x up to float32 rounding of the weighted sums
        np.testing.assert_allclose(out, audio, rtol=0, atol=1e-6)


@pytest.mark.parametrize("hop", [32, 16])
def test_flat_window_reconstructs_bit_for_bit(hop):
    """With weights 1 and at most two windows per sample, (x + x) / 2 and x / 1 are exact in float32."""
    audio = noise(2, 555)
    out = one_shot(engine(identity(48, 32), 48, 32, hop, 2, window=np.ones(32, np.float32)), audio)
    np.testing.assert_array_equal(out, audio)


def test_centred_target_reads_its_context_with_zeros_outside_the_input():
    """Index signal: window k's context must be input positions [k*hop - offset, k*hop - offset + context)."""
    context, target, hop, length = 65, 32, 24, 200  # offset 16 before the target, 17 after
    offset = 16
    seen = []

    def record(windows):
        seen.extend(windows[:, :, 0].copy())
        return windows[:, offset:offset + target]

    positions = np.arange(1, length + 1, dtype=np.float32)[None]  # 1-based so zero padding is visible
    out = one_shot(engine(record, context, target, hop), positions)
    np.testing.assert_allclose(out, positions, rtol=1e-6)
    assert len(seen) == windows_needed(length, target, hop) == 1 + -(-(length - target) // hop)
    padded = np.concatenate([np.zeros(offset), positions[0], np.zeros(len(seen) * hop + context)])
    for k, window in enumerate(seen):
        np.testing.assert_array_equal(window, padded[k * hop:k * hop + context])
    assert (len(seen) - 1) * hop + target >= length > (len(seen) - 2) * hop + target  # last window is needed


@pytest.mark.parametrize("context, target, hop", GEOMETRIES)
def test_per_window_constants_are_averaged_with_the_documented_weights(context, target, hop):
    """Window k predicts the constant c_k on each output: y[t] = sum_k w[t - k hop] c_k / sum_k w[t - k hop]."""
    length, outputs = 301, 2
    constants = np.random.default_rng(1).uniform(-1, 1, (windows_needed(length, target, hop), outputs))
    window = overlap_add_window(target, target - hop)
    calls = []

    def constant(windows):
        first = sum(calls)
        calls.append(len(windows))
        values = constants[first:first + len(windows)].astype(np.float32)
        return np.repeat(values[:, None, :], target, axis=1)

    out = one_shot(engine(constant, context, target, hop, channels=1, outputs=outputs, batch_size=4),
                   noise(1, length))
    assert calls == [4] * (len(constants) // 4) + ([len(constants) % 4] if len(constants) % 4 else [])
    weighted = np.zeros((outputs, len(constants) * hop + target))
    weights = np.zeros(weighted.shape[1])
    for k, value in enumerate(constants):
        weighted[:, k * hop:k * hop + target] += window * value[:, None]
        weights[k * hop:k * hop + target] += window
    assert (weights[:length] > 0).all()
    np.testing.assert_allclose(out, (weighted / np.maximum(weights, 1e-30))[:, :length], rtol=0, atol=1e-6)
    alone = slice(0, min(hop, length))  # only window 0 covers [0, hop): exactly its constant
    np.testing.assert_allclose(out[:, alone], np.repeat(constants[0][:, None], alone.stop, 1), atol=1e-6)


@pytest.mark.parametrize("context, target, hop", GEOMETRIES)
@pytest.mark.parametrize("batch_size", [1, 5])
def test_block_sizes_do_not_change_the_output(context, target, hop, batch_size):
    rng = np.random.default_rng(batch_size)
    audio = noise(2, 3001, seed=3)

    def nonlinear(windows):  # output depends on the whole context, so window contents must match exactly
        offset = (context - target) // 2
        return np.tanh(windows[:, offset:offset + target] * 3 + windows.mean(axis=1, keepdims=True))

    reference = one_shot(engine(nonlinear, context, target, hop, 2, batch_size=batch_size), audio)
    for _ in range(3):
        cuts = np.sort(rng.integers(0, audio.shape[1], rng.integers(1, 40)))
        blocks = np.split(audio, cuts, axis=1)  # includes empty blocks where cuts repeat
        pushed = engine(nonlinear, context, target, hop, 2, batch_size=batch_size)
        parts = [pushed.push(block) for block in blocks] + [pushed.flush()]
        np.testing.assert_array_equal(np.concatenate(parts, axis=1), reference)
        ran = list(engine(nonlinear, context, target, hop, 2, batch_size=batch_size).run(iter(blocks)))
        np.testing.assert_array_equal(np.concatenate(ran, axis=1), reference)


def test_output_comes_out_as_soon_as_it_is_final():
    context, target, hop, batch_size = 64, 32, 24, 2
    oa = engine(identity(context, target), context, target, hop, batch_size=batch_size)
    # window 1's context is input [hop - offset, hop - offset + context) = [8, 72): the batch is full at 72
    assert oa.push(noise(1, 71)).shape == (1, 0)
    out = oa.push(noise(1, 1))
    assert out.shape == (1, batch_size * hop)  # no later window starts before 2 * hop
    assert oa.emitted == 48 and oa.received == 72


def test_memory_stays_within_the_windows_in_flight():
    """A long input in blocks up to 60 000 samples: never more than batch_size + 1 windows held."""
    context, target, hop, batch_size = 256, 128, 96, 4
    bound = (batch_size + 1) * context
    rng = np.random.default_rng(7)
    sizes = rng.integers(0, 60000, 40)
    sizes[::5] = rng.integers(0, 300, len(sizes[::5]))
    oa = engine(identity(context, target), context, target, hop, batch_size=batch_size)
    peak = total_out = received = 0
    for size in sizes:
        block = noise(1, int(size), seed=int(size))
        received += block.shape[1]
        total_out += oa.push(block).shape[1]
        peak = max(peak, oa.buffered_samples)
        assert oa.buffered_samples < batch_size * context + target <= bound
        assert received - total_out <= bound  # output is never held back longer than the windows in flight
    total_out += oa.flush().shape[1]
    assert received > 1_000_000 and total_out == received and oa.buffered_samples == 0
    assert peak > 2 * context  # the bound is not trivially met

    # The lazy iterator holds the same bound inside one huge block, yielding a batch at a time.
    lazy = engine(identity(context, target), context, target, hop, batch_size=batch_size)
    sizes = []
    for out in lazy.run([noise(1, 200_000)]):
        sizes.append(out.shape[1])
        assert lazy.buffered_samples < batch_size * context + target
    assert sum(sizes) == 200_000 and len(sizes) >= 200_000 // (batch_size * hop)
    assert max(sizes[:-1]) == batch_size * hop  # each yield is one batch's worth of final output


def test_empty_input_gives_empty_output():
    calls = []
    oa = engine(lambda w: calls.append(len(w)) or w[:, 16:48], 64, 32, 24)
    assert oa.flush().shape == (1, 0)
    assert calls == [1]  # one window, all zeros, as windows_needed(0) == 1


def test_bad_arguments_and_misuse_raise():
    with pytest.raises(ValueError, match="hop of 33 samples"):
        engine(identity(64, 32), 64, 32, 33, window=np.ones(32, np.float32))
    with pytest.raises(ValueError, match="hop of 0 samples"):
        engine(identity(64, 32), 64, 32, 0, window=np.ones(32, np.float32))
    with pytest.raises(ValueError, match="target of 65 samples"):
        engine(identity(64, 65), 64, 65, 10, window=np.ones(65, np.float32))
    with pytest.raises(ValueError, match="strictly positive"):
        engine(identity(64, 32), 64, 32, 16, window=np.zeros(32, np.float32))
    with pytest.raises(ValueError, match="must be \\(32,\\)"):
        engine(identity(64, 32), 64, 32, 16, window=np.ones(31, np.float32))
    oa = engine(identity(64, 32), 64, 32, 16, channels=2)
    with pytest.raises(ValueError, match="expected \\(2, samples\\)"):
        oa.push(np.zeros((1, 10), np.float32))
    oa.flush()
    with pytest.raises(ValueError, match="already flushed"):
        oa.push(np.zeros((2, 10), np.float32))
    with pytest.raises(ValueError, match="already flushed"):
        oa.flush()
    wrong = engine(lambda w: w[:, :31], 64, 32, 16)
    with pytest.raises(ValueError, match="expected \\(1, 32, 1\\)"):
        wrong.flush()


def test_windows_needed_covers_the_signal():
    assert [windows_needed(n, 32, 24) for n in (0, 1, 32, 33, 56, 57)] == [1, 1, 1, 2, 2, 3]
    for n in range(0, 500, 7):
        k = windows_needed(n, 37, 20)
        assert (k - 1) * 20 + 37 >= n and (k == 1 or (k - 2) * 20 + 37 < n)


def test_docstring_example_runs():
    finder = doctest.DocTestFinder()
    runner = doctest.DocTestRunner()
    for test in finder.find(sepzoo.dsp.OverlapAdd, "OverlapAdd", globs=vars(sepzoo.dsp)):
        runner.run(test)
    assert runner.summarize(verbose=False) == (0, 3)
