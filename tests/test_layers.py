"""The import contract of pyproject.toml (``[tool.importlinter]``) holds for the package, and
breaks when a module imports across it: a layer importing one above it, anything importing
``ls_cleanlab.testing``, the math importing a network library, a cycle inside a package, a new
package given no place. ``make lint`` runs the same contract; this test keeps CI honest without
it. Also: ``examples/`` and ``benchmarks/`` share code with the tests only through
``ls_cleanlab.testing``, never by importing ``tests``."""

from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "ls_cleanlab"


def lint_imports(cwd: Path, pythonpath: Path | None = None) -> subprocess.CompletedProcess[str]:
    """``lint-imports`` with the checkout's pyproject.toml; ``pythonpath`` puts another copy of
    the package first."""
    env = {**os.environ, "COLUMNS": "200"}  # the report wraps long lines at the terminal's width
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    command = [
        sys.executable,
        "-c",
        "from importlinter.cli import lint_imports_command; lint_imports_command()",
        "--config",
        str(ROOT / "pyproject.toml"),
        "--no-cache",
    ]
    return subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300, check=False
    )


def test_the_package_keeps_its_contracts() -> None:
    done = lint_imports(ROOT)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "0 broken" in done.stdout


# (file to change, line to add, contract named in the report, text naming the violation)
VIOLATIONS = {
    "kernel-imports-pipeline": (
        "errors.py",
        "import ls_cleanlab.pipeline",
        "Layers:",
        "ls_cleanlab.errors -> ls_cleanlab.pipeline",
    ),
    "math-imports-the-studio": (
        "confident/scores.py",
        "from ls_cleanlab.studio import parse_label_config",
        "Layers:",
        "ls_cleanlab.confident.scores -> ls_cleanlab.studio",
    ),
    "package-imports-testing": (
        "pipeline/queues.py",
        "from ls_cleanlab.testing import Admin",
        "Nothing in ls_cleanlab imports ls_cleanlab.testing",
        "ls_cleanlab.pipeline.queues -> ls_cleanlab.testing",
    ),
    "math-imports-requests": (
        "annotators/votes.py",
        "import requests",
        "The math imports no network",
        "ls_cleanlab.annotators.votes -> requests",
    ),
    "cycle-inside-a-package": (
        "annotators/votes.py",
        "from ls_cleanlab.annotators import consensus",
        "No import cycles",
        "ls_cleanlab.annotators",
    ),
    "unplaced-package": (
        "exports/__init__.py",
        "import ls_cleanlab.errors",
        "Layers:",
        "ls_cleanlab.exports",
    ),
}


@pytest.mark.parametrize(
    ("path", "line", "contract", "names"), VIOLATIONS.values(), ids=VIOLATIONS.keys()
)
def test_a_violation_breaks_the_contract(
    tmp_path: Path, path: str, line: str, contract: str, names: str
) -> None:
    copy = tmp_path / "ls_cleanlab"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    changed = copy / path
    changed.parent.mkdir(exist_ok=True)
    source = changed.read_text() if changed.exists() else ""
    changed.write_text(f"{source}\n{line}  # planted by the test\n")
    done = lint_imports(tmp_path, pythonpath=tmp_path)
    assert done.returncode != 0, done.stdout[-4000:]
    broken = done.stdout.split("Broken contracts", 1)[-1]
    assert contract in broken, done.stdout[-4000:]
    assert names in broken, done.stdout[-4000:]


def _imported(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


@pytest.mark.parametrize(
    "path",
    sorted([*ROOT.glob("examples/*.py"), *ROOT.glob("benchmarks/*.py")]),
    ids=lambda path: f"{path.parent.name}/{path.name}",
)
def test_examples_and_benchmarks_do_not_import_tests(path: Path) -> None:
    from_tests = sorted(n for n in _imported(path) if n == "tests" or n.startswith("tests."))
    assert not from_tests, (
        f"{path.name} imports {from_tests}: move what it needs to ls_cleanlab.testing"
    )
