"""The three ways to start the backend share one set of arguments: ``ls-cleanlab serve``,
``python -m ls_cleanlab.server`` and ``python backend/_wsgi.py``."""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from ls_cleanlab import cli
from ls_cleanlab.server import command

ROOT = Path(__file__).resolve().parents[2]
ENTRIES = {
    "ls-cleanlab serve": [str(Path(sys.executable).parent / "ls-cleanlab"), "serve"],
    "python -m ls_cleanlab.server": [sys.executable, "-m", "ls_cleanlab.server"],
    "backend/_wsgi.py": [sys.executable, "backend/_wsgi.py"],
}


def run_cli(*argv: Any) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = cli.main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    made: list[dict[str, Any]] = []
    monkeypatch.setattr(command, "serve", lambda **kwargs: made.append(kwargs))
    return made


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        ([], {"host": "0.0.0.0", "port": 9090, "debug": False, "dask": None}),
        (["--port", "9191"], {"host": "0.0.0.0", "port": 9191, "debug": False, "dask": None}),
        (
            ["-p", "9192", "--host", "127.0.0.1", "--debug"],
            {"host": "127.0.0.1", "port": 9192, "debug": True, "dask": None},
        ),
        (
            ["--dask", "local:2"],
            {"host": "0.0.0.0", "port": 9090, "debug": False, "dask": "local:2"},
        ),
    ],
    ids=["defaults", "port", "short-port-and-host", "dask"],
)
def test_cli_and_module_parse_the_same(
    calls: list[dict[str, Any]], argv: list[str], expected: dict[str, Any]
) -> None:
    assert run_cli("serve", *argv)[0] == 0
    assert command.main(argv) == 0
    assert calls == [expected, expected]


@pytest.mark.parametrize("entry", list(ENTRIES))
def test_every_entry_shows_the_shared_arguments(entry: str) -> None:
    done = subprocess.run([*ENTRIES[entry], "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    for flag in ("--host", "-p PORT, --port PORT", "--debug"):
        assert flag in done.stdout, (entry, done.stdout)


def test_serve_without_the_server_exits_2(monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(**kwargs: Any) -> None:
        raise ModuleNotFoundError("No module named 'fastapi'")

    monkeypatch.setattr(command, "serve", missing)
    code, _, stderr = run_cli("serve")
    assert code == 2 and "ML backend server is not available" in stderr and "fastapi" in stderr


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"LABEL_STUDIO_URL": "ftp://studio"}, "LABEL_STUDIO_URL: must start with http"),
        ({"BASIC_AUTH_USER": "u", "BASIC_AUTH_PASS": "short"}, "BASIC_AUTH_PASS must have"),
        ({"LS_CLEANLAB_N_FOLDS": "1"}, "LS_CLEANLAB_N_FOLDS: Input should be greater"),
    ],
    ids=["url", "password", "folds"],
)
def test_invalid_settings_are_named_without_values(
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    env: dict[str, str],
    named: str,
) -> None:
    monkeypatch.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("LABEL_STUDIO_API_KEY", "secret-key-in-the-environment")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert command.main(["--port", "1", "--debug"]) == 2
    shown = capsys.readouterr().err
    assert named in shown
    assert "secret-key-in-the-environment" not in shown and "short" not in shown.lower()
    code, _, stderr = run_cli("serve", "--port", "1")
    assert code == 2 and named in stderr and "secret-key" not in stderr


def test_python_m_serves(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {**os.environ, "LS_CLEANLAB_DATA_DIR": str(tmp_path / "data"), "LOG_LEVEL": "WARNING"}
    argv = [sys.executable, "-m", "ls_cleanlab.server", "--host", "127.0.0.1", "-p", str(port)]
    server = subprocess.Popen(argv, cwd=ROOT, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as r:
                    assert b'"UP"' in r.read()
                    break
            except OSError:
                assert time.monotonic() < deadline and server.poll() is None
                time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_no_traceback_without_debug(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """An unexpected error of the server is one error/fix pair (exit 1); a thread's uncaught
    error and a logged exception are one line naming the type; --debug shows the traceback."""
    import logging
    import threading

    def broken(**kwargs: Any) -> None:
        raise RuntimeError("secret-in-message")

    monkeypatch.setattr(command, "serve", broken)
    assert command.main(["--port", "1"]) == 1
    shown = capsys.readouterr().err
    assert shown.splitlines() == [
        "error: the backend stopped: RuntimeError",
        "fix: run again with --debug for the traceback, and report it.",
    ]
    assert command.main(["--debug"]) == 1 and "Traceback" in capsys.readouterr().err

    root = logging.getLogger()
    saved = (list(root.handlers), root.level, threading.excepthook)
    try:
        for debug in (False, True):
            command.configure_logging("INFO", debug)
            stream = io.StringIO()
            root.handlers[0].setStream(stream)  # type: ignore[attr-defined]
            thread = threading.Thread(target=broken, name="worker")
            thread.start()
            thread.join()
            try:
                raise ValueError("boom")
            except ValueError:
                logging.getLogger("ls_cleanlab.test").exception("it failed")
            text = stream.getvalue()
            assert "worker crashed: RuntimeError" in text and "it failed" in text
            assert ("Traceback" in text) == debug, text
            if not debug:
                assert "(ValueError; --debug shows the traceback)" in text
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
        threading.excepthook = saved[2]
