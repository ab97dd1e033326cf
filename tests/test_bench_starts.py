"""`python -m bench` runs on what the install steps bring: every import it makes resolves.

The benchmark imports some packages only inside the function that needs them
(the starlette floor, the plot), so a missing one shows only when that part
runs. This finds every absolute import in `bench/`, top-level or not, and checks
that each resolves here (the test command installs `.[test,bench]`, as the
README says for the benchmark), then runs one quick figure end to end.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def imported_modules(folder: Path) -> set[str]:
    """The top-level names of every absolute import in the Python files under `folder`."""
    names: set[str] = set()
    for path in folder.rglob("*.py"):
        if "node_modules" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - {"__future__"}


def test_every_module_the_benchmark_imports_is_installed() -> None:
    names = imported_modules(ROOT / "bench")
    assert {"uvicorn", "starlette", "matplotlib"} <= names  # the lazy ones are found too
    missing = sorted(name for name in names if importlib.util.find_spec(name) is None)
    assert missing == [], f"pip install -e '.[bench]' does not bring {missing}"


def test_python_m_bench_quick_gives_a_figure(tmp_path: Path) -> None:
    out = tmp_path / "figures.json"
    subprocess.run(
        [sys.executable, "-m", "bench", "--quick", "--only", "latency", "--json", str(out)],
        cwd=ROOT, check=True, timeout=300, capture_output=True,
    )
    figures = json.loads(out.read_text())
    assert figures["latency"]["send_p50_ratio"] > 0
    # Each goal's ratio is also a top-level key; the prefetch one counts the commit's floor.
    assert figures["send_p50_ratio"] == figures["latency"]["send_p50_ratio"]
    assert figures["prefetch_send_ratio"] > 0
    assert figures["latency"]["floors"]["sqlite_commit"]["n"] > 0
