"""A real Label Studio for the tests in this folder: one server per test session, stopped after
the session (also when tests fail); see :mod:`tests.studio.server`. Both kinds of key are tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.studio.server import Studio, executable, running_label_studio


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    if not executable().exists():
        pytest.skip(f"no Label Studio at {executable()}; run `make studio`")
    with running_label_studio(tmp_path_factory.mktemp("label-studio")) as server:
        yield server
