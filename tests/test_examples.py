"""The user-facing example script runs as documented: a zoo model trained with model.fit on a sepzoo source,
saved as .keras and reloaded with the same output."""

import json
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def test_fit_in_your_script(tmp_path):
    result = subprocess.run([sys.executable, str(REPO / "examples" / "fit_in_your_script.py"), "--steps", "30",
                             "--out", str(tmp_path / "fitted.keras")], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    before, after = map(float, re.search(r"validation MAE: ([\d.]+) before, ([\d.]+) after", result.stdout).groups())
    assert after < before, result.stdout
    assert "same output" in result.stdout and (tmp_path / "fitted.keras").is_file()


def test_seed_c_comparison_quick(tmp_path):
    """The comparison's whole path (3 trainings, two evaluations, energy ratios, table, plot) on tones."""
    result = subprocess.run([sys.executable, str(REPO / "examples" / "seed_c_comparison.py"), "--quick", "--out",
                             str(tmp_path / "seed_c")], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    table = (tmp_path / "seed_c" / "table.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| WaveNetSeparator") or
            line.startswith("| ConvBaseline")]
    assert len(rows) == 3 and "| equal split |" in table
    assert (tmp_path / "seed_c" / "sdr.png").stat().st_size > 10_000


def test_seed_b_ablation_quick(tmp_path):
    """The ablation's whole path (wall-time runs, equal-step runs, one evaluation, RTF, table, plot) on tones with
    two shrunk models (Wave-U-Net and variant c)."""
    result = subprocess.run([sys.executable, str(REPO / "examples" / "seed_b_ablation.py"), "--quick", "--out",
                             str(tmp_path / "seed_b")], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    table = (tmp_path / "seed_b" / "table.md").read_text()
    rows = [line for line in table.splitlines() if line.startswith("| Wave-U-Net") or
            line.startswith("| LightweightASPP")]
    assert len(rows) == 4 and "| oracle IRM |" in table and "Same steps" in table
    summary = json.loads((tmp_path / "seed_b" / "summary.json").read_text())
    equal_steps = [r for title, runs in summary["rows"].items() if title.startswith("Same steps") for r in runs]
    assert {r["steps"] for r in equal_steps} == {summary["equal_steps"]}
    assert (tmp_path / "seed_b" / "sdr_vs_params.png").stat().st_size > 10_000


def test_codec_loss_sweep_quick(tmp_path):
    """The sweep's whole path (P1 x {L1, codec loss} on synthetic speech, the shipped spectrogram emulator in
    the loss, speech scores beside the noisy input, magnitude L1, table, metric and spectrogram figures)."""
    out = tmp_path / "sweep"
    result = subprocess.run([sys.executable, str(REPO / "examples" / "codec_loss_sweep.py"), "--quick", "--out",
                             str(out)], capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, (result.stdout[-2000:], result.stderr[-3000:])
    table = (out / "table.md").read_text()
    assert len([line for line in table.splitlines() if line.startswith("| P1 |")]) == 3  # two runs, their difference
    assert "| noisy input |" in table
    summary = json.loads((out / "summary.json").read_text())
    assert sorted(row["run"] for row in summary["rows"]) == ["p1_codec", "p1_l1"]
    assert len({row["steps"] for row in summary["rows"]}) == 1
    config = (out / "p1_codec" / "config.yaml").read_text()
    assert "name: codec" in config and "codec_emulator_spectrogram" in config
    for figure in ("metrics.png", "spectrograms.png"):
        assert (out / figure).stat().st_size > 10_000
