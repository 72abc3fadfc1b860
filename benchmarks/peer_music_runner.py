"""Time one music separation peer on a WAV file; called by ``peers.py`` inside the music peers' own venv.

    <music-peers-venv>/bin/python benchmarks/peer_music_runner.py --system umxhq --input mix.wav --threads 1
    <music-peers-venv>/bin/python benchmarks/peer_music_runner.py --system htdemucs --input mix.wav --threads 2

Builds the peer with its published configuration and random weights (``torch.manual_seed(0)``; speed and
memory do not depend on the weight values), pinned to ``--threads`` cores with torch told the same count before
it is imported. It separates a 2 s excerpt first (warm-up), then times, under ``torch.inference_mode``, what
``benchmarks/engine_runner.py`` times for sepzoo: reading the whole file, separating it and writing the four
stems as float WAV. Prints one JSON line: ``system``, ``label``, ``params``, ``threads``, ``audio_s``,
``wall_s`` (not counting interpreter start, imports or model construction), ``rtf`` (wall / audio duration)
and ``peak_rss_mb`` (the whole process's peak resident memory at the end, ``VmHWM``: runtime, model and
buffers, as a user running the peer experiences it).

- ``umxhq``: Open-Unmix ``openunmix.umxhq(pretrained=False, niter=0)``: the package's own constructor of the
  published umxhq (four BiLSTM targets vocals/drums/bass/other, hidden 512, stereo, n_fft 4096, hop 1024,
  16 kHz bandwidth), no Wiener EM iterations (ratio masks), the whole track in one pass as ``umx`` does.
- ``htdemucs``: ``demucs.htdemucs.HTDemucs`` with the kwargs of the published ``htdemucs`` (signature
  955717e8): demucs' ``conf/config.yaml`` ``htdemucs`` section with the overrides of its training grid
  (``demucs/grids/mmi.py``: depth 4, dconv_mode 3, t_layers 5, bottom_channels 512) and the 7.8 s segment the
  pretrained model carries; run through ``demucs.apply.apply_model`` with the ``demucs`` command's defaults
  (shifts 1, split, overlap 0.25) on the input normalised as ``demucs.api`` does.

Only torch, NumPy, soundfile and the peers' own packages are imported here, never sepzoo. torchaudio is not
installed: Open-Unmix imports it at module level but uses it only for file I/O and resampling, so an empty
stand-in module is registered when the real one is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
import types
from fractions import Fraction

HTDEMUCS_KWARGS = {
    "sources": ["drums", "bass", "other", "vocals"], "audio_channels": 2, "samplerate": 44100,
    "segment": Fraction(39, 5), "channels": 48, "channels_time": None, "growth": 2, "nfft": 4096,
    "wiener_iters": 0, "end_iters": 0, "wiener_residual": False, "cac": True, "depth": 4, "rewrite": True,
    "multi_freqs": [], "multi_freqs_depth": 3, "freq_emb": 0.2, "emb_scale": 10, "emb_smooth": True,
    "kernel_size": 8, "stride": 4, "time_stride": 2, "context": 1, "context_enc": 0, "norm_starts": 4,
    "norm_groups": 4, "dconv_mode": 3, "dconv_depth": 2, "dconv_comp": 8, "dconv_init": 1e-3,
    "bottom_channels": 512, "t_layers": 5, "t_hidden_scale": 4.0, "t_heads": 8, "t_dropout": 0.0,
    "t_layer_scale": True, "t_gelu": True, "t_emb": "sin", "t_max_positions": 10000, "t_max_period": 10000.0,
    "t_weight_pos_embed": 1.0, "t_cape_mean_normalize": True, "t_cape_augment": True,
    "t_cape_glob_loc_scale": [5000.0, 1.0, 1.4], "t_sin_random_shift": 0, "t_norm_in": True,
    "t_norm_in_group": False, "t_group_norm": False, "t_norm_first": True, "t_norm_out": True,
    "t_weight_decay": 0.0, "t_lr": None, "t_sparse_self_attn": False, "t_sparse_cross_attn": False,
    "t_mask_type": "diag", "t_mask_random_seed": 42, "t_sparse_attn_window": 400, "t_global_window": 100,
    "t_sparsity": 0.95, "t_auto_sparsity": False, "t_cross_first": False, "rescale": 0.1,
}
"""The published htdemucs: conf/config.yaml ``htdemucs`` + grids/mmi.py overrides + its 7.8 s segment."""


def build_umxhq():
    """Open-Unmix umxhq, random weights, no Wiener iterations: a callable (channels, samples) -> stems."""
    import torch

    try:
        import torchaudio  # noqa: F401
    except ImportError:
        sys.modules["torchaudio"] = types.ModuleType("torchaudio")  # only used by openunmix for I/O
    import openunmix

    separator = openunmix.umxhq(pretrained=False, niter=0, device="cpu")
    separator.freeze()

    def separate(audio):
        return separator(torch.as_tensor(audio)[None])[0]

    return separate, separator, "Open-Unmix umxhq (openunmix 1.3.0, niter=0)"


def build_htdemucs():
    """HTDemucs with the published htdemucs kwargs, random weights: a callable (channels, samples) -> stems."""
    import torch
    from demucs.apply import apply_model
    from demucs.htdemucs import HTDemucs

    model = HTDemucs(**HTDEMUCS_KWARGS).eval()

    def separate(audio):
        mix = torch.as_tensor(audio)
        reference = mix.mean(0)
        mean, std = reference.mean(), reference.std() + 1e-8
        stems = apply_model(model, ((mix - mean) / std)[None], shifts=1, split=True, overlap=0.25,
                            progress=False, num_workers=0)[0]
        return stems * std + mean

    return separate, model, "HTDemucs htdemucs (demucs 4.1.0, shifts=1, overlap 0.25)"


def peak_rss_mb() -> float:
    """This process's peak resident memory: ``VmHWM`` of ``/proc/self/status``, else ``ru_maxrss``.

    Linux's ``ru_maxrss`` starts a child at its parent's peak (``execve`` records the replaced memory map's high
    water mark), which would bill a big parent to this process; ``VmHWM`` counts only this program's own map.
    """
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


SYSTEMS = {"umxhq": build_umxhq, "htdemucs": build_htdemucs}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--system", required=True, choices=sorted(SYSTEMS), help="peer to run")
    parser.add_argument("--input", required=True, help="WAV file to separate (44.1 kHz stereo)")
    parser.add_argument("--threads", type=int, default=1, help="CPU threads (default 1)")
    args = parser.parse_args()

    os.sched_setaffinity(0, sorted(os.sched_getaffinity(0))[:args.threads])  # as engine_runner.py pins sepzoo
    for variable in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[variable] = str(args.threads)  # before torch is imported
    import numpy as np
    import soundfile as sf
    import torch

    torch.set_num_threads(args.threads)
    torch.set_num_interop_threads(1)
    torch.manual_seed(0)

    info = sf.info(args.input)
    if info.samplerate != 44100 or info.channels != 2:
        raise SystemExit(f"{args.input}: {info.samplerate} Hz x {info.channels} ch; the peers take 44.1 kHz stereo")
    separate, module, label = SYSTEMS[args.system]()
    with torch.inference_mode(), tempfile.TemporaryDirectory(prefix="sepzoo-peer-") as out:
        excerpt, rate = sf.read(args.input, frames=2 * info.samplerate, dtype="float32", always_2d=True)
        separate(np.ascontiguousarray(excerpt.T))  # warm-up
        del excerpt
        start = time.perf_counter()
        audio, rate = sf.read(args.input, dtype="float32", always_2d=True)
        stems = separate(np.ascontiguousarray(audio.T)).numpy()
        for index, stem in enumerate(stems):  # float WAV, as sepzoo's Separator.separate_file writes
            sf.write(os.path.join(out, f"{index}.wav"), stem.T, rate, subtype="FLOAT")
        wall = time.perf_counter() - start
    audio_s = info.frames / info.samplerate
    print(json.dumps({"system": args.system, "label": label, "params": sum(p.numel() for p in module.parameters()),
                      "threads": args.threads, "audio_s": round(audio_s, 3), "wall_s": round(wall, 3),
                      "rtf": round(wall / audio_s, 4),
                      "peak_rss_mb": round(peak_rss_mb(), 1)}),
          flush=True)


if __name__ == "__main__":
    main()
