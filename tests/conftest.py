"""Shared test configuration: hypothesis profiles (CI runs the default, thorough one), and a real
Label Studio for the tests that need one.

Tests that need a real Label Studio carry the ``studio`` marker (``pytestmark =
pytest.mark.studio``) and use the session fixtures below: ``studio`` starts one Label Studio
(:func:`ls_cleanlab.testing.label_studio.running_label_studio`) on first use and stops it after
the session, also when tests fail; ``admin`` and ``client`` talk to it with either kind of key.
``pytest -m studio`` runs just those tests, ``pytest -m "not studio"`` the rest. A test that uses
the ``studio`` fixture without the marker gets it here, so selecting by marker never starts a
server by surprise. ``dask_cluster`` starts one Dask LocalCluster for the tests that compare a
distributed audit with an in-process one.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from ls_cleanlab.studio import StudioClient
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.label_studio import Studio, executable, running_label_studio

settings.register_profile(
    "default",
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("quick", parent=settings.get_profile("default"), max_examples=25)
settings.register_profile("thorough", parent=settings.get_profile("default"), max_examples=2000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "studio" in getattr(item, "fixturenames", ()) and not item.get_closest_marker("studio"):
            item.add_marker(pytest.mark.studio)


@pytest.fixture(scope="session")
def studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Studio]:
    """A real Label Studio for the whole session; skips when none is installed."""
    if not executable().exists():
        pytest.skip(f"no Label Studio at {executable()}; run `make studio`")
    with running_label_studio(tmp_path_factory.mktemp("label-studio")) as server:
        yield server


@pytest.fixture(scope="session")
def dask_cluster() -> Iterator[str]:
    """A Dask LocalCluster of two single-threaded worker processes for the whole session (its
    scheduler address); skips when Dask is not installed (``pip install -e '.[dask]'``)."""
    distributed = pytest.importorskip("distributed")
    with distributed.LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as cluster:
        yield str(cluster.scheduler_address)


@pytest.fixture(scope="session")
def admin(studio: Studio) -> Admin:
    """Raw API calls with the legacy key, for setting projects up."""
    return Admin(studio.url, studio.legacy_token)


@pytest.fixture(scope="session")
def client(studio: Studio) -> Iterator[StudioClient]:
    """The client under test, with a personal access token."""
    with StudioClient(studio.url, studio.personal_token, retries=1) as made:
        yield made
