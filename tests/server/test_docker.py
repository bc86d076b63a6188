"""The Docker files: ``docker compose config`` validates the compose file (no engine runs here),
and the Dockerfile's install steps work in a fresh virtual environment, where the app starts."""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"


def _compose() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True)
        if probe.returncode == 0:
            return ["docker", "compose"]
    found = shutil.which("docker-compose")
    return [found] if found else None


def test_compose_file_validates() -> None:
    compose = _compose()
    if compose is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed "
                    "(apt-get install docker-compose)")  # fmt: skip
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LABEL_STUDIO", "LS_CLEAN"))}
    done = subprocess.run([*compose, "-f", str(DOCKER / "docker-compose.yml"), "config"],
                          capture_output=True, text=True, env=env, cwd=DOCKER)  # fmt: skip
    assert done.returncode == 0, done.stderr
    config = done.stdout
    assert "heartexlabs/label-studio:1.23.2" in config
    for needed in ("ML_BLOCK_LOCAL_IP", "SSRF_PROTECTION_ENABLED", "LS_CLEANLAB_DATA_DIR"):
        assert needed in config


def test_dockerfile_is_slim_and_non_root() -> None:
    text = (DOCKER / "Dockerfile").read_text()
    assert text.startswith("#") and "FROM python:3.11-slim" in text
    users = re.findall(r"^USER (\S+)", text, flags=re.MULTILINE)
    assert users and users[-1] != "root"
    assert "EXPOSE 9090" in text


def _install_steps() -> list[str]:
    text = (DOCKER / "Dockerfile").read_text()
    block = text.split("# INSTALL-STEPS", 1)[1].split("# END-INSTALL-STEPS", 1)[0]
    joined = block.replace("\\\n", " ")
    run = re.sub(r"^.*?\bRUN\b", "", joined, count=1, flags=re.DOTALL)
    return [step.strip() for step in run.split("&&") if step.strip()]


@pytest.mark.skipif(os.environ.get("LS_CLEANLAB_SKIP_SLOW") == "1", reason="slow: a full install")
def test_image_install_steps_work_in_a_fresh_venv(tmp_path: Path) -> None:
    app = tmp_path / "app"
    app.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, app / name)
    for folder in ("ls_cleanlab", "backend"):
        shutil.copytree(ROOT / folder, app / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))  # fmt: skip
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    steps = _install_steps()
    assert steps and all(s.startswith("python -m pip install") for s in steps), steps
    for step in steps:
        command = [python, *step.split()[1:]]
        done = subprocess.run(command, cwd=app, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, (step, done.stderr[-2000:])
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {"PATH": os.environ.get("PATH", ""), "LS_CLEANLAB_DATA_DIR": str(tmp_path / "data"),
           "OPENBLAS_NUM_THREADS": "1"}  # fmt: skip
    server = subprocess.Popen([python, "backend/_wsgi.py", "--host", "127.0.0.1", "--port",
                               str(port)], cwd=app, env=env)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert b'"UP"' in r.read()
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.5)
    finally:
        server.terminate()
        server.wait(timeout=20)
