"""Library code the server runs in threads leaves the process's warning filters alone.

``warnings.catch_warnings()`` swaps the module-wide filter list (Python 3.11 has no per-thread
one), so a job thread silencing a warning that way can drop another thread's warning or leave
its own filter behind. Each call here runs in several threads at once, under a profiler that
records our code calling into :mod:`warnings` to change them, with every warning an error: one
raised means a warning the code meant to keep quiet reached the user.
"""

from __future__ import annotations

import threading
import warnings
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import ls_cleanlab
from ls_cleanlab.audit.inputs import confident_cells
from ls_cleanlab.model.classifiers import SoftmaxLogistic
from ls_cleanlab.model.robust import doubted_cells
from ls_cleanlab.report import figures


def _one_hot(classes: np.ndarray, k: int) -> np.ndarray:
    return np.eye(k, dtype=bool)[classes]


def _probs(classes: np.ndarray, k: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    raw = rng.random((len(classes), k)) + 2.0 * _one_hot(classes, k)
    return raw / raw.sum(axis=1, keepdims=True)


# class 2 is given on one task only: confident learning warns of it unless told not to
SMALL = np.array([0, 1] * 20 + [2])
MULTI = np.random.default_rng(3).random((40, 3)) < 0.4
MULTI[:, 2] = False
MULTI[0, 2] = True


def _audit_single() -> Any:
    return confident_cells(
        _one_hot(SMALL, 3), np.ones(len(SMALL), bool), _probs(SMALL, 3, 1), False
    )


def _audit_multi() -> Any:
    return confident_cells(MULTI, np.ones(len(MULTI), bool), np.clip(MULTI + 0.1, 0, 0.9), True)


def _robust_single() -> Any:
    classes = np.array([0, 1, 2] * 14)
    return doubted_cells(_one_hot(classes, 3), _probs(classes, 3, 2), False)


def _many_classes() -> Any:  # scikit-learn: "The number of unique classes is greater than 50%"
    x = np.random.default_rng(4).normal(size=(30, 4))
    return SoftmaxLogistic(n_classes=25).fit(x, np.arange(30) % 25).predict_proba(x)


def _chart() -> Any:  # matplotlib: "Glyph ... missing from font(s)"
    return figures.overview_bars({"\U0001f600 joy": 3, "猫 neko": 1, "$\\frac$": 1}, {"q": 2})


CALLS: dict[str, Callable[[], Any]] = {
    "audit-single-label-small-class": _audit_single,
    "audit-multi-label-small-class": _audit_multi,
    "robust-model-doubted-cells": _robust_single,
    "softmax-more-classes-than-half-the-rows": _many_classes,
    "chart-of-names-the-font-lacks": _chart,
}


PACKAGE = str(Path(ls_cleanlab.__file__).parent)
CHANGES = {"__enter__", "simplefilter", "filterwarnings", "resetwarnings"}


@pytest.mark.parametrize("call", list(CALLS.values()), ids=list(CALLS))
def test_threads_leave_the_warning_filters_alone(call: Callable[[], Any]) -> None:
    changed: list[str] = []

    def watch(frame: Any, event: str, arg: Any) -> None:
        """Our code calling into :mod:`warnings` to change the filters (third-party code that
        does, matplotlib and scikit-learn, is beyond our reach)."""
        code, caller = frame.f_code, frame.f_back
        if event == "call" and code.co_name in CHANGES and code.co_filename == warnings.__file__:
            if caller is not None and caller.f_code.co_filename.startswith(PACKAGE):
                changed.append(f"{caller.f_code.co_filename}:{caller.f_lineno}")

    with warnings.catch_warnings():  # this thread only, before any other starts
        warnings.simplefilter("error")  # a warning meant to stay quiet raises
        expected = list(warnings.filters)
        threading.setprofile(watch)
        try:
            with ThreadPoolExecutor(4) as pool:
                results = list(pool.map(lambda _: call(), range(4)))
        finally:
            threading.setprofile(None)  # type: ignore[arg-type]
        assert list(warnings.filters) == expected
    assert not changed, sorted(set(changed))
    assert all(r is not None for r in results)
