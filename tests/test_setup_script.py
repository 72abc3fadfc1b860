"""scripts/setup_env.sh refuses to start the pip install on a disk with too little room, in one line."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def small_disk(tmp_path):
    """A 64 MiB tmpfs: room for an empty venv, far from the 4 GB the install needs."""
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a small tmpfs needs root")
    mounted = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(mount_point)], capture_output=True)
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    yield mount_point
    subprocess.run(["umount", str(mount_point)], check=True)


def test_install_on_a_full_disk_stops_with_one_line_before_pip(small_disk):
    venv = small_disk / "venv"
    result = subprocess.run(
        ["bash", str(REPO / "scripts" / "setup_env.sh")],
        env={**os.environ, "SEPZOO_VENV": str(venv)}, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("setup: only ") and str(venv) in lines[0] and "needs 4096 MB" in lines[0]
    assert not (venv / ".sepzoo-installed").exists()
    assert not list((venv / "lib").glob("python3*/site-packages/keras")), "pip ran although the disk is too small"
