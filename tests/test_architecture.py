"""The import contracts of pyproject.toml, which `make test` checks with `lint-imports`: the tree keeps every one, and
a forbidden import fails the check, naming the contract it breaks."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT

PACKAGES = ("devices", "server", "kiosk", "gate", "cabinet", "terminal", "estate_cli")
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint_imports(root: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"PYTHONPATH": str(root)}  # the packages under `root`, not an installed copy
    return subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=root, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _python_only(folder: str, names: list[str]) -> list[str]:
    return [n for n in names if not n.endswith(".py") and not Path(folder, n).is_dir()]


def test_the_tree_keeps_every_import_contract() -> None:
    run = _lint_imports(ROOT)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "0 broken" in run.stdout


@pytest.mark.parametrize(
    ("module", "forbidden", "contract"),
    [
        ("devices/__init__.py", "import server.contract", "devices imports nothing of ours"),
        ("gate/__init__.py", "import server.db", "the apps use only devices, terminal and the server's contract"),
        ("cabinet/__init__.py", "import gate", "the apps do not import each other"),
        ("server/cli/__init__.py", "import kiosk.cli", "server imports none of the apps"),
        ("server/domain/__init__.py", "import fastapi", "server.domain knows no web framework"),
    ],
)
def test_a_forbidden_import_breaks_its_contract(tmp_path: Path, module: str, forbidden: str, contract: str) -> None:
    for package in PACKAGES:
        shutil.copytree(ROOT / package, tmp_path / package, ignore=_python_only)
    shutil.copyfile(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    with (tmp_path / module).open("a") as source:
        source.write(f"\n{forbidden}\n")

    run = _lint_imports(tmp_path)

    assert run.returncode != 0
    assert f"{contract} BROKEN" in run.stdout
    assert "1 broken" in run.stdout
