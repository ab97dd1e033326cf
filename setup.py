"""The build step pyproject.toml cannot say: bundle the front end before packaging.

`pip install .`, `pip install -e .` and wheel builds run `build_py`; when the
bundle (chat_widget/static/widget.js) is missing or older than its sources,
this runs `npm ci` (when node_modules is missing) and `npm run build` first.
A wheel carries the bundle, so installing one needs no Node. Everything else
about the package is in pyproject.toml.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
BUNDLE = ROOT / "chat_widget" / "static" / "widget.js"
SOURCES = [ROOT / "package.json", ROOT / "package-lock.json", ROOT / "scripts" / "build.mjs",
           *sorted((ROOT / "js").glob("*.js")), *sorted((ROOT / "js").glob("*.css"))]


def bundle_is_current() -> bool:
    if not BUNDLE.is_file():
        return False
    built = BUNDLE.stat().st_mtime
    return all(not path.is_file() or path.stat().st_mtime <= built for path in SOURCES)


def build_front_end() -> None:
    """npm ci (once) and npm run build, unless the bundle is there and current."""
    if bundle_is_current():
        return
    if not (ROOT / "package.json").is_file():  # an sdist without the sources: use its bundle
        if BUNDLE.is_file():
            return
        raise RuntimeError("neither the front-end bundle nor its sources are here")
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(
            "building the widget's front end needs Node.js and npm (https://nodejs.org); "
            "or install a wheel, which carries the built front end")
    if not (ROOT / "node_modules").is_dir():
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=ROOT, check=True)
    subprocess.run([npm, "run", "build"], cwd=ROOT, check=True)


class BuildWithFrontEnd(build_py):
    """build_py that bundles the front end first."""

    def run(self) -> None:
        build_front_end()
        super().run()


setup(cmdclass={"build_py": BuildWithFrontEnd})
