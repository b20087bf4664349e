"""Set-up and training as the README's commands do them."""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest

from .conftest import ROOT


def test_missing_python_310_says_how_to_get_it(tmp_path):
    for name in ("pyproject.toml", "constraints.txt"):
        shutil.copy(ROOT / name, tmp_path / name)
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    path = "/usr/bin:/bin"
    if shutil.which("python3.10", path=path) or shutil.which("pyenv", path=path):
        pytest.skip("this machine has Python 3.10 on its system path")
    env = {"PATH": path, "HOME": str(tmp_path)}
    result = subprocess.run(["bash", str(tmp_path / "scripts" / "bootstrap.sh")], env=env, capture_output=True, text=True)
    assert result.returncode == 1
    assert "welcomebot needs Python 3.10" in result.stderr and "pyenv install 3.10.13" in result.stderr
    assert not (tmp_path / ".venv").exists()


def test_train_reports_time_and_size_and_only_retrains_on_change(tmp_path):
    """A small model (English data only): `welcomebot train` trains, prints time and size, then
    skips while nothing changed and trains again after an edit of the training data."""
    nlu = tmp_path / "nlu"
    shutil.copytree(ROOT / "nlu", nlu, ignore=shutil.ignore_patterns("generated"))
    for path in (nlu / "data" / "nlu").glob("*.yml"):
        if path.stem != "en":
            path.unlink()
    env = {**os.environ, "WELCOMEBOT_NLU_DIR": str(nlu), "WELCOMEBOT_MODELS_DIR": str(tmp_path / "models")}

    def train() -> str:
        result = subprocess.run([sys.executable, "-m", "welcomebot.cli", "train"], env=env, capture_output=True, text=True, cwd=ROOT)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout

    first = train()
    assert re.search(r"trained in \d+\.\d s; model .*welcomebot\.tar\.gz is \d+\.\d MB", first), first
    assert "up to date" in train()
    data = nlu / "data" / "nlu" / "en.yml"
    data.write_text(data.read_text(encoding="utf-8").replace("- intent: greet\n  examples: |\n", "- intent: greet\n  examples: |\n    - hello there my friend\n", 1), encoding="utf-8")
    assert "hello there my friend" in data.read_text(encoding="utf-8")
    assert "trained in" in train()
