"""The scalar checks of ls_cleanlab.validation: what each accepts and returns (plain Python
types, numpy scalars included), and every way each refuses, with the message naming the argument,
the bad value and what is expected."""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import InvalidOptionError, LsCleanlabError
from ls_cleanlab.validation import (
    check_bool,
    check_int,
    check_option,
    check_real,
    check_threshold,
    named,
)

# -- check_int ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        pytest.param(3, {}, 3, id="int"),
        pytest.param(-7, {}, -7, id="negative-unbounded"),
        pytest.param(np.int64(5), {}, 5, id="numpy-int64"),
        pytest.param(np.uint8(200), {"high": 255}, 200, id="numpy-uint8"),
        pytest.param(2, {"low": 2}, 2, id="at-low"),
        pytest.param(10, {"low": 2, "high": 10}, 10, id="at-high"),
        pytest.param(0, {"high": 0}, 0, id="only-high"),
    ],
)
def test_check_int_accepts(value: Any, bounds: dict[str, int], expected: int) -> None:
    got = check_int(value, "n_folds", **bounds)
    assert got == expected and type(got) is int


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        pytest.param(True, {}, "n_folds must be an integer, got True.", id="bool"),
        pytest.param(
            np.bool_(False), {"low": 0}, "n_folds must be an integer >= 0, got ", id="numpy-bool"
        ),
        pytest.param(2.0, {}, "n_folds must be an integer, got 2.0.", id="integral-float"),
        pytest.param(np.float64(3), {}, "n_folds must be an integer, got ", id="numpy-float"),
        pytest.param("3", {}, "n_folds must be an integer, got '3'.", id="string"),
        pytest.param(None, {}, "n_folds must be an integer, got None.", id="none"),
        pytest.param(
            np.zeros((40, 3)), {}, "got an array of shape (40, 3).", id="array-by-its-shape"
        ),
        pytest.param(list(range(100)), {}, "got a list ([0, 1, 2,", id="long-repr-cut-short"),
        pytest.param(1, {"low": 2}, "n_folds must be an integer >= 2, got 1.", id="below-low"),
        pytest.param(6, {"high": 5}, "n_folds must be an integer <= 5, got 6.", id="above-high"),
        pytest.param(
            11, {"low": 2, "high": 10}, "n_folds must be an integer in [2, 10], got 11.", id="range"
        ),
    ],
)
def test_check_int_refuses(value: Any, bounds: dict[str, int], message: str) -> None:
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        check_int(value, "n_folds", **bounds)


# -- check_real -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "bounds", "expected"),
    [
        pytest.param(0.25, {}, 0.25, id="float"),
        pytest.param(2, {}, 2.0, id="int"),
        pytest.param(np.float32(0.5), {"low": 0.0, "high": 1.0}, 0.5, id="numpy-float32"),
        pytest.param(np.int64(1), {"high": 1.0}, 1.0, id="numpy-int"),
        pytest.param(0.0, {"low": 0.0, "high": 1.0}, 0.0, id="closed-low"),
        pytest.param(1.0, {"low": 0.0, "high": 1.0}, 1.0, id="closed-high"),
        pytest.param(1e-12, {"low": 0.0, "open_low": True}, 1e-12, id="just-inside-open-low"),
        pytest.param(-1e300, {}, -1e300, id="unbounded"),
    ],
)
def test_check_real_accepts(value: Any, bounds: dict[str, Any], expected: float) -> None:
    got = check_real(value, "alpha", **bounds)
    assert got == expected and type(got) is float


UNIT = {"low": 0.0, "high": 1.0}


@pytest.mark.parametrize(
    ("value", "bounds", "message"),
    [
        pytest.param(True, {}, "alpha must be a number, got True.", id="bool"),
        pytest.param(np.bool_(True), UNIT, "alpha must be a number in [0, 1], got ", id="np-bool"),
        pytest.param("0.5", {}, "alpha must be a number, got '0.5'.", id="string"),
        pytest.param(None, {}, "alpha must be a number, got None.", id="none"),
        pytest.param(1j, {}, "alpha must be a number, got 1j.", id="complex"),
        pytest.param(math.nan, {}, "alpha must be a number, got nan.", id="nan"),
        pytest.param(math.inf, {}, "alpha must be a number, got inf.", id="inf"),
        pytest.param(
            -math.inf,
            {"high": 1.0},
            "alpha must be a number <= 1, got -inf.",
            id="minus-inf",
        ),
        pytest.param(-0.1, UNIT, "alpha must be a number in [0, 1], got -0.1.", id="below-low"),
        pytest.param(1.5, UNIT, "alpha must be a number in [0, 1], got 1.5.", id="above-high"),
        pytest.param(-1, {"low": 0.0}, "alpha must be a number >= 0, got -1.", id="low-only"),
        pytest.param(
            0.0,
            {"low": 0.0, "open_low": True},
            "alpha must be a number > 0, got 0.0.",
            id="open-low",
        ),
        pytest.param(
            1,
            {**UNIT, "open_high": True},
            "alpha must be a number in [0, 1), got 1.",
            id="open-high",
        ),
    ],
)
def test_check_real_refuses(value: Any, bounds: dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        check_real(value, "alpha", **bounds)


# -- check_threshold ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0.5, id="half"),
        pytest.param(1e-9, id="near-0"),
        pytest.param(0.999, id="near-1"),
    ],
)
def test_check_threshold_accepts(value: float) -> None:
    assert check_threshold(value) == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param(0, id="zero"),
        pytest.param(1.0, id="one"),
        pytest.param(-0.2, id="negative"),
        pytest.param(1.5, id="above-one"),
        pytest.param(math.nan, id="nan"),
        pytest.param("0.5", id="string"),
        pytest.param(False, id="bool"),
    ],
)
def test_check_threshold_refuses(value: Any) -> None:
    with pytest.raises(InvalidOptionError, match=r"^threshold must be a number in \(0, 1\), got "):
        check_threshold(value)


def test_check_threshold_names_the_argument() -> None:
    with pytest.raises(InvalidOptionError, match=r"^min_score must be a number in \(0, 1\)"):
        check_threshold(2.0, "min_score")


# -- check_bool -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        pytest.param(True, True, id="true"),
        pytest.param(False, False, id="false"),
        pytest.param(np.bool_(True), True, id="numpy-true"),
        pytest.param(np.bool_(False), False, id="numpy-false"),
    ],
)
def test_check_bool_accepts(value: Any, expected: bool) -> None:
    got = check_bool(value, "multi_label")
    assert got is expected


@pytest.mark.parametrize(
    ("value", "shown"),
    [
        pytest.param(1, "1", id="one"),
        pytest.param(0, "0", id="zero"),
        pytest.param("yes", "'yes'", id="string"),
        pytest.param(None, "None", id="none"),
        pytest.param(np.array([True]), "array([ True])", id="array"),
    ],
)
def test_check_bool_refuses(value: Any, shown: str) -> None:
    message = f"multi_label must be True or False, got {shown}."
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        check_bool(value, "multi_label")


# -- check_option ---------------------------------------------------------------------------------

METHODS = ("crowdlab", "dawid_skene", "majority")


@pytest.mark.parametrize("value", METHODS)
def test_check_option_accepts(value: str) -> None:
    assert check_option(value, METHODS, "method") == value


@pytest.mark.parametrize(
    "value",
    [
        pytest.param("vote", id="unknown"),
        pytest.param("Majority", id="case-differs"),
        pytest.param("", id="empty"),
        pytest.param(None, id="none"),
        pytest.param(0, id="index"),
        pytest.param(["majority"], id="list"),
    ],
)
def test_check_option_refuses_listing_the_choices(value: Any) -> None:
    message = (
        f"method={value!r} is not supported; choose one of 'crowdlab', 'dawid_skene', 'majority'."
    )
    with pytest.raises(InvalidOptionError, match=re.escape(message)):
        check_option(value, METHODS, "method")


def test_errors_are_the_packages_own() -> None:
    """Callers can catch every refusal as an LsCleanlabError, and as a ValueError."""
    with pytest.raises(LsCleanlabError):
        check_int("x", "n")
    assert issubclass(InvalidOptionError, ValueError)


@pytest.mark.parametrize(
    ("names", "expected"),
    [
        (["cat"], "'cat'"),
        (["cat", "猫"], "'cat', '猫'"),
        ([f"c{i}" for i in range(17)], "'c0', 'c1', 'c2', 'c3', 'c4' and 12 more"),
    ],
    ids=["one", "two", "seventeen"],
)
def test_named_quotes_the_first_names_and_counts_the_rest(names: list[str], expected: str) -> None:
    assert named(names) == expected
