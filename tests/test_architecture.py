"""The architecture contract (import-linter, `[importlinter]` in setup.cfg) holds, and it does catch what it is
for: an upward import and an import circle hidden in a function."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def _lint_imports(cwd: Path, config: Path) -> subprocess.CompletedProcess:
    executable = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if executable is None:
        pytest.skip("import-linter is not installed (pip install -e '.[dev]')")
    return subprocess.run([executable, "--config", str(config), "--no-cache"], cwd=cwd, capture_output=True,
                          text=True, timeout=300)


def test_sepzoo_keeps_its_layers_and_has_no_import_circles():
    result = _lint_imports(REPO, REPO / "setup.cfg")
    assert result.returncode == 0, result.stdout[-4000:]
    assert "Contracts: 2 kept, 0 broken." in result.stdout


@pytest.mark.parametrize("files, broken", [
    # A bottom module importing upward, inside a function.
    ({"errors.py": "def f():\n    from toypkg import cli\n", "cli.py": "from toypkg import errors\n"}, "layers"),
    # Two sibling modules importing each other, one of them inside a function.
    ({"errors.py": "", "cli.py": "", "data/__init__.py": "", "data/a.py": "from toypkg.data import b\n",
      "data/b.py": "def f():\n    from toypkg.data import a\n"}, "circles"),
])
def test_the_contract_catches_upward_imports_and_hidden_circles(tmp_path, files, broken):
    package = tmp_path / "toypkg"
    for name, text in {"__init__.py": "", **files}.items():
        (package / name).parent.mkdir(parents=True, exist_ok=True)
        (package / name).write_text(text)
    config = tmp_path / "setup.cfg"
    config.write_text(
        "[importlinter]\nroot_package = toypkg\n\n"
        "[importlinter:contract:layers]\nname = layers\ntype = layers\ncontainers = toypkg\nlayers =\n"
        "    cli\n    errors\n\n"
        "[importlinter:contract:acyclic]\nname = circles\ntype = acyclic_siblings\nancestors = toypkg\n"
    )
    result = _lint_imports(tmp_path, config)
    assert result.returncode != 0
    assert f"{broken} BROKEN" in result.stdout, result.stdout[-3000:]
