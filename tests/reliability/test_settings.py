"""The backend's settings: every invalid one exits 2 from all three entries with one ``error:``
line naming its variable and one ``fix:`` line saying what it expects, and never a secret's value:
each secret is set to a marker beside an invalid companion setting, and the marker appears
nowhere in stdout or stderr (with ``--debug`` too)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from ls_cleanlab import cli
from ls_cleanlab.server import command
from ls_cleanlab.server.settings import SECRETS
from tests.reliability.helpers import ROOT, backend_env, traceback_free

ENTRIES = {
    "ls-cleanlab serve": [str(Path(sys.executable).parent / "ls-cleanlab"), "serve"],
    "python -m ls_cleanlab.server": [sys.executable, "-m", "ls_cleanlab.server"],
    "backend/_wsgi.py": [sys.executable, "backend/_wsgi.py"],
}
MARKER = "MARKER-7f3a9c-secret-value"

#: variable[:case] -> (a bad value, what the error says, what the fix says)
INVALID = {
    "LABEL_STUDIO_URL": ("ftp://studio", "must start with http", "e.g. http://label-studio:8080"),
    "LS_CLEANLAB_BACKEND_URL": ("backend:9090", "must start with http", "ls-cleanlab:9090"),
    "LOG_LEVEL": ("LOUD", "Input should be", "one of DEBUG, INFO, WARNING, ERROR"),
    "LS_CLEANLAB_MODEL_VERSION": ("a b/c", "must be 1-100 letters", "1-100 letters"),
    "LS_CLEANLAB_THRESHOLD": ("2", "less than 1", "between 0 and 1"),
    "LS_CLEANLAB_N_FOLDS": ("abc", "valid integer", "from 2 to 20"),
    "LS_CLEANLAB_DEBOUNCE": ("-1", "greater than or equal to 0", "from 0 to 600"),
    "LS_CLEANLAB_MAX_BODY_BYTES": ("10", "greater than or equal to 1024", "at least 1024"),
    "LS_CLEANLAB_MAX_PREDICT_TASKS": ("0", "greater than or equal to 1", "at least 1"),
    "LS_CLEANLAB_REGISTER_WEBHOOKS": ("maybe", "valid boolean", "true or false"),
    "LS_CLEANLAB_THRESHOLD:nan": ("nan", "finite number", "between 0 and 1"),
    "LS_CLEANLAB_DEBOUNCE:nan": ("NaN", "finite number", "from 0 to 600"),
    "LS_CLEANLAB_DASK_SCHEDULER": (
        "local:0",
        "needs a number of workers in [1, 512]",
        "'local', 'local:N'",
    ),
    "LS_CLEANLAB_ALLOWED_HOSTS": (
        "img.example.com,https://cdn.example.com/x",
        "entry 2 of 2 is not a host name",
        "no scheme, port or path",
    ),
}


def serve(entry: str, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*ENTRIES[entry], "--port", "1", *extra], env=env, cwd=ROOT,
                          capture_output=True, text=True, timeout=120)  # fmt: skip


@pytest.mark.parametrize("variable", list(INVALID))
def test_each_invalid_setting_is_named_with_its_fix(
    variable: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    value, error, fix = INVALID[variable]
    variable = variable.split(":")[0]
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "BASIC_AUTH_USER", "BASIC_AUTH_PASS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path))
    monkeypatch.setenv(variable, value)
    assert command.main(["--port", "1"]) == 2
    stderr = capsys.readouterr().err
    assert traceback_free(stderr), stderr
    error_line, fix_line = stderr.splitlines()
    assert error_line.startswith(f"error: invalid settings: {variable}: ") and error in error_line
    assert fix_line.startswith(f"fix: {variable}: ") and fix in fix_line


@pytest.mark.parametrize("port", ["70000", "-1"])
def test_a_port_out_of_range_is_refused_by_the_parser(
    port: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    monkeypatch.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path))
    try:
        code = command.main(["--port", port])  # it was the socket's bind: "unexpected" exit 1
    except SystemExit as exit:
        code = exit.code
    stderr = capsys.readouterr().err
    assert code == 2 and "Traceback" not in stderr, stderr  # argparse's usage and error
    assert f"error: argument -p/--port: a port number from 1 to 65535, not '{port}'" in stderr


@pytest.mark.parametrize(
    ("settings", "named"),
    [
        ({"BASIC_AUTH_USER": "admin"}, "set both BASIC_AUTH_USER"),
        ({"BASIC_AUTH_USER": "admin", "BASIC_AUTH_PASS": "short7"},
         "BASIC_AUTH_PASS must have at least 8"),
        ({"LS_CLEANLAB_DATA_DIR": "FILE"}, "LS_CLEANLAB_DATA_DIR: cannot create or open"),
    ],
    ids=["user-without-password", "short-password", "data-dir-is-a-file"],
)  # fmt: skip
def test_pairs_and_the_data_dir(
    settings: dict[str, str], named: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    (tmp_path / "file").write_text("")
    monkeypatch.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path / "data"))
    for name, value in settings.items():
        monkeypatch.setenv(name, str(tmp_path / "file" / "data") if value == "FILE" else value)
    assert command.main(["--port", "1"]) == 2
    stderr = capsys.readouterr().err
    assert traceback_free(stderr) and named in stderr and "short7" not in stderr, stderr


@pytest.mark.parametrize("entry", ["ls-cleanlab serve", "python -m ls_cleanlab.server"])
def test_a_bad_dask_option_is_named_as_the_option(entry: str, tmp_path: Path, capsys: Any) -> None:
    """``--dask local:0`` was blamed on LS_CLEANLAB_DASK_SCHEDULER, which the user never set."""
    args = ["--port", "1", "--dask", "local:0"]
    with pytest.MonkeyPatch.context() as env:
        env.setenv("LS_CLEANLAB_DATA_DIR", str(tmp_path))
        env.delenv("LS_CLEANLAB_DASK_SCHEDULER", raising=False)
        code = cli.main(["serve", *args]) if entry == "ls-cleanlab serve" else command.main(args)
    stderr = capsys.readouterr().err
    assert code == 2 and traceback_free(stderr), stderr
    error_line, fix_line = stderr.splitlines()
    assert error_line == (
        "error: --dask: the Dask address 'local:0' needs a number of workers in [1, 512] after "
        "'local:'."
    )
    assert fix_line.startswith("fix: --dask: 'local', 'local:N'") and "tcp://" in fix_line


#: each secret set to the marker, with an invalid companion setting (or itself invalid)
SECRET_CASES = {
    **{name: {name: MARKER, "LS_CLEANLAB_N_FOLDS": "abc"} for name in SECRETS},
    "BASIC_AUTH_USER": {"BASIC_AUTH_USER": MARKER},  # no password: the pair is invalid
    "BASIC_AUTH_PASS (too short)": {"BASIC_AUTH_USER": "u", "BASIC_AUTH_PASS": MARKER[:7]},
    "LABEL_STUDIO_URL (with a password)": {
        "LABEL_STUDIO_URL": f"ftp://user:{MARKER}@studio", "LABEL_STUDIO_API_KEY": MARKER},
}  # fmt: skip


@pytest.mark.parametrize("case", list(SECRET_CASES))
def test_secrets_never_shown(
    case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """In this process through every entry's code (with and without ``--debug``), and as a real
    process through one entry per case (the three take turns)."""
    env = backend_env(tmp_path / "data", **SECRET_CASES[case])
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "BASIC_AUTH_USER", "BASIC_AUTH_PASS",
                 "LS_CLEANLAB_WEBHOOK_SECRET", "LS_CLEANLAB_N_FOLDS"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    shown = []
    for run, code in (
        (lambda: command.main(["--port", "1"]), 2),
        (lambda: command.main(["--port", "1", "--debug"]), 2),
        (lambda: cli.main(["serve", "--port", "1"]), 2),
    ):
        assert run() == code
        out = capsys.readouterr()
        shown.append(out.out + out.err)
    entry = list(ENTRIES)[list(SECRET_CASES).index(case) % len(ENTRIES)]
    done = serve(entry, env)
    shown.append(done.stdout + done.stderr)
    assert done.returncode == 2 and traceback_free(done.stderr), done.stderr
    assert traceback_free(shown[0]) and traceback_free(shown[2])
    for text in shown:
        assert "error: invalid settings" in text and "fix: " in text
        assert MARKER not in text and MARKER[:7] not in text, text
