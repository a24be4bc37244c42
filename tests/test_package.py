"""A built wheel (not only an editable install) carries the theme and works from any folder."""

from __future__ import annotations

import shutil
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(out), str(ROOT)],
                   check=True, capture_output=True)
    return next(out.glob("persona_site-*.whl"))


def test_wheel_carries_the_default_theme(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    for name in ("persona_site/cli.py", "persona_site/themes/default/templates/base.html",
                 "persona_site/themes/default/templates/feed.xml", "persona_site/themes/default/static/style.css"):
        assert name in names


def test_installed_wheel_builds_a_site_from_another_folder(wheel, tmp_path):
    env_dir = tmp_path / "venv"
    venv.create(env_dir, system_site_packages=True, with_pip=False)
    python = env_dir / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q", str(wheel)]
                   if _pip_has_python_flag() else
                   [str(python), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, capture_output=True)
    where = subprocess.run([str(python), "-c", "import persona_site; print(persona_site.__file__)"],
                           capture_output=True, text=True, check=True, cwd=tmp_path).stdout
    assert str(env_dir) in where  # the wheel, not the source checkout
    shutil.copytree(ROOT / "content", tmp_path / "work" / "content")
    done = subprocess.run([str(env_dir / "bin" / "persona-site"), "build"], cwd=tmp_path / "work",
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "persona-card" in (tmp_path / "work/site/index.html").read_text()


def _pip_has_python_flag() -> bool:
    out = subprocess.run([sys.executable, "-m", "pip", "--version"], capture_output=True, text=True).stdout
    major = int(out.split()[1].split(".")[0])
    return major >= 22
