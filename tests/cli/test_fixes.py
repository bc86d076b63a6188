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
        pytest.param(NotEnoughLabelsError("only 8 of 40", causes=("labels", "folds")),
                     EXIT_BAD_INPUT, "fix: label more tasks (or lower --folds), or give "
                     "probabilities: --pred-probs FILE.npy", id="not-enough-labels-folds"),
        pytest.param(NotEnoughLabelsError("only 3 of 9 have features", causes=("features",)),
                     EXIT_BAD_INPUT, "fix: make the features available (see --local-files-root",
                     id="not-enough-features"),
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


@pytest.mark.parametrize(
    ("causes", "fix"),
    [
        (("unknown_choice",), "add the unknown choices named above to the labeling config"),
        (("no_choice",), "give each of those single-label annotations exactly one choice"),
        (("cancelled_annotation",), "annotate the tasks whose annotations were skipped"),
        (("deleted_annotator",), "relabel the tasks whose annotators were deleted"),
    ],
    ids=["unknown-choice", "no-choice", "cancelled", "deleted-annotator"],
)  # fmt: skip
def test_too_few_labels_gets_the_fix_of_the_annotations_left_out(
    causes: tuple[str, ...], fix: str
) -> None:
    """Labelling more tasks is no fix when the labels exist but were left out; it is added when
    they could not make up the shortfall."""
    for more in ((), ("labels",)):
        err = io.StringIO()
        report_error(NotEnoughLabelsError("only 0 of 12", causes=(*more, *causes)), err, False)
        line = err.getvalue().splitlines()[1]
        assert fix in line and line.endswith("or --from-model-version V."), line
        assert ("label more tasks" in line) == bool(more), line
