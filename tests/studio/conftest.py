"""A real Label Studio for the tests in this folder: one server per test session, stopped after
the session (also when tests fail); see :mod:`tests.studio.server`. Both kinds of key are tested.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ls_cleanlab import StudioClient
from tests.studio.helpers import Admin
from tests.studio.server import Studio, executable, running_label_studio


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    if not executable().exists():
        pytest.skip(f"no Label Studio at {executable()}; run `make studio`")
    with running_label_studio(tmp_path_factory.mktemp("label-studio")) as server:
        yield server


@pytest.fixture(scope="session")
def admin(studio: Studio) -> Admin:
    """Raw API calls with the legacy key, for setting projects up."""
    return Admin(studio.url, studio.legacy_token)


@pytest.fixture(scope="session")
def client(studio: Studio) -> Iterator[StudioClient]:
    """The client under test, with a personal access token."""
    with StudioClient(studio.url, studio.personal_token, retries=1) as made:
        yield made
