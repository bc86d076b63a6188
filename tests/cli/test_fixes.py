"""The exit code and fix line of each kind of error the command can meet."""

from __future__ import annotations

import io

import pytest

from ls_cleanlab.cli.fixes import EXIT_BAD_INPUT, EXIT_FAILED, report_error
from ls_cleanlab.errors import (
    InvalidLabelsError,
    InvalidPredProbsError,
    MissingExtraError,
    NotEnoughLabelsError,
)


@pytest.mark.parametrize(
    ("error", "code", "fix"),
    [
        pytest.param(MissingExtraError("onnxruntime is not installed"), EXIT_BAD_INPUT,
                     "install what the message names", id="missing-extra"),
        pytest.param(InvalidPredProbsError("rows must sum to 1"), EXIT_BAD_INPUT,
                     "rows summing to 1 for a single-label tag", id="pred-probs"),
        pytest.param(InvalidLabelsError("labels[3] = 9"), EXIT_BAD_INPUT,
                     "one row per task and one column per class", id="labels"),
        pytest.param(NotEnoughLabelsError("only 3 of 40"), EXIT_BAD_INPUT,
                     "label more tasks (or lower --folds)", id="not-enough-labels"),
        pytest.param(RuntimeError("boom"), EXIT_FAILED, "report it", id="unexpected"),
    ],
)  # fmt: skip
def test_each_error_gets_its_code_and_fix(error: Exception, code: int, fix: str) -> None:
    err = io.StringIO()
    assert report_error(error, err, debug=False) == code
    lines = err.getvalue().splitlines()
    assert lines[0] == f"error: {error}" if code != EXIT_FAILED else "boom" in lines[0]
    assert lines[1].startswith("fix: ") and fix in lines[1]


def test_every_error_of_ours_has_a_fix_of_its_own() -> None:
    import ls_cleanlab.errors as errors

    kinds = [cls for cls in vars(errors).values()
             if isinstance(cls, type) and issubclass(cls, errors.LsCleanlabError)
             and cls is not errors.LsCleanlabError]  # fmt: skip
    for kind in kinds:
        error = kind("what went wrong", "refused") if kind is errors.MediaError else kind("x")
        err = io.StringIO()
        report_error(error, err, debug=False)
        assert "report it" not in err.getvalue(), kind.__name__
