"""cleanlab's find_label_issues starts a process pool per IoU threshold (about 1 s per call);
the parity tests run its per-image work in this process instead, which computes the same."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import cleanlab.object_detection.filter as cleanlab_filter
import pytest


class _InProcessPool:
    def __init__(self, processes: int | None = None) -> None:
        self.processes = processes

    def starmap(self, func: Callable[..., Any], iterable: Iterable[Any]) -> list[Any]:
        return list(itertools.starmap(func, iterable))

    def close(self) -> None:
        pass


@pytest.fixture(autouse=True, scope="session")
def _no_process_pool() -> Iterator[None]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(cleanlab_filter, "Pool", _InProcessPool)
        yield
