"""find_label_issues and multilabel_issue_matrix: identical to cleanlab 2.9.0, plus behaviour."""

from __future__ import annotations

import warnings

import cleanlab.filter
import cleanlab.multilabel_classification.filter as cl_multilabel
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ls_cleanlab.confident import (
    FILTERS,
    METHODS,
    compute_confident_joint,
    find_label_issues,
    issue_matrix_where_defined,
    multilabel_issue_matrix,
    single_label_issues,
)
from ls_cleanlab.errors import (
    InvalidLabelsError,
    InvalidOptionError,
    LsCleanlabError,
    SmallClassWarning,
)
from tests.confident.strategies import as_lists, multilabel_case, quiet, single_label_case

PRUNING = ["prune_by_noise_rate", "prune_by_class", "both"]


def _reference_or_error(func, *args, **kwargs):
    try:
        return quiet(func, *args, **kwargs), None
    except (ValueError, TypeError, IndexError) as exc:
        return None, exc


@st.composite
def options(draw: st.DrawFn, *, k: int) -> dict:
    filter_by = draw(st.sampled_from(FILTERS))
    opts: dict = {"filter_by": filter_by}
    opts["min_examples_per_class"] = draw(st.sampled_from([0, 1, 2, 5]))
    if filter_by in PRUNING:
        opts["frac_noise"] = draw(st.sampled_from([1.0, 0.5, 0.25]))
        if draw(st.booleans()):
            opts["num_to_remove_per_class"] = draw(
                st.lists(st.integers(0, 4), min_size=k, max_size=k)
            )
    rank_by = draw(st.sampled_from([None, *METHODS]))
    if rank_by is not None:
        opts["return_indices_ranked_by"] = rank_by
        if rank_by != "confidence_weighted_entropy" and draw(st.booleans()):
            opts["rank_by_kwargs"] = {"adjust_pred_probs": True}
    return opts


def _assert_same(expected, got, opts):
    assert got.dtype == (np.bool_ if "return_indices_ranked_by" not in opts else np.int64)
    np.testing.assert_array_equal(got, np.asarray(expected))


@given(case=multilabel_case(), data=st.data())
def test_multilabel_matches_cleanlab(case, data):
    given_matrix, probs = case
    opts = data.draw(options(k=probs.shape[1]))
    expected, error = _reference_or_error(
        cl_multilabel.find_label_issues, as_lists(given_matrix), probs, n_jobs=1, **opts
    )
    if error is not None:
        _assert_cleanlab_limitation(given_matrix, probs, opts)
        return
    got = quiet(find_label_issues, given_matrix, probs, multi_label=True, **opts)
    _assert_same(expected, got, opts)
    # the same from lists of class indices
    from_lists = quiet(find_label_issues, as_lists(given_matrix), probs, multi_label=True, **opts)
    np.testing.assert_array_equal(from_lists, got)


def _assert_cleanlab_limitation(given_matrix, probs, opts):
    """cleanlab 2.9.0 raises on some valid multi-label inputs that we handle; check it is one.

    Its multi-label scorer insists on K > 1 and on labels holding both 0 and 1, which fails for
    one class, and for an empty or one-valued flagged subset in the low_* ranked path; and its
    predicted_neq_given re-validates each class as single-label data, refusing a class that no
    example has. On those inputs we must still return the flagged examples.
    """
    unranked = {
        k: v for k, v in opts.items() if k not in ("return_indices_ranked_by", "rank_by_kwargs")
    }
    mask = quiet(find_label_issues, given_matrix, probs, multi_label=True, **unranked)
    ranked = "return_indices_ranked_by" in opts
    low = opts["filter_by"].startswith("low_")
    subset_values = np.unique(given_matrix[mask])
    assert (
        (probs.shape[1] == 1 and (ranked or low))
        or (low and ranked and not np.array_equal(subset_values, [0, 1]))
        or (opts["filter_by"] == "predicted_neq_given" and (given_matrix.sum(axis=0) == 0).any())
    )
    if ranked:
        got = quiet(find_label_issues, given_matrix, probs, multi_label=True, **opts)
        assert sorted(got.tolist()) == np.flatnonzero(mask).tolist()


@given(case=single_label_case(), data=st.data())
def test_single_label_matches_cleanlab(case, data):
    labels, probs = case
    opts = data.draw(options(k=probs.shape[1]))
    expected, error = _reference_or_error(
        cleanlab.filter.find_label_issues, labels, probs, n_jobs=1, **opts
    )
    assert error is None, error
    got = quiet(find_label_issues, labels, probs, **opts)
    _assert_same(expected, got, opts)


@given(case=multilabel_case(), data=st.data())
def test_multilabel_with_confident_joint_matches_cleanlab(case, data):
    given_matrix, probs = case
    filter_by = data.draw(st.sampled_from(PRUNING))
    calibrate = data.draw(st.booleans())
    cj = compute_confident_joint(given_matrix, probs, multi_label=True, calibrate=calibrate)
    expected = quiet(
        cl_multilabel.find_label_issues,
        as_lists(given_matrix),
        probs,
        confident_joint=cj,
        filter_by=filter_by,
        n_jobs=1,
    )
    got = find_label_issues(
        given_matrix, probs, multi_label=True, confident_joint=cj, filter_by=filter_by
    )
    np.testing.assert_array_equal(got, expected)


@given(case=single_label_case(), data=st.data())
def test_single_label_with_confident_joint_matches_cleanlab(case, data):
    labels, probs = case
    filter_by = data.draw(st.sampled_from(PRUNING))
    cj = compute_confident_joint(labels, probs, calibrate=data.draw(st.booleans()))
    expected = quiet(
        cleanlab.filter.find_label_issues,
        labels,
        probs,
        confident_joint=cj,
        filter_by=filter_by,
        n_jobs=1,
    )
    got = quiet(find_label_issues, labels, probs, confident_joint=cj, filter_by=filter_by)
    np.testing.assert_array_equal(got, expected)


@given(case=multilabel_case(max_n=60))
def test_issue_matrix_rows_and_directions(case):
    given_matrix, probs = case
    matrix = quiet(multilabel_issue_matrix, given_matrix, probs)
    per_class = quiet(
        cl_multilabel.find_multilabel_issues_per_class, as_lists(given_matrix), probs, n_jobs=1
    )
    np.testing.assert_array_equal(matrix != 0, per_class)
    assert np.all(matrix[(matrix != 0) & (given_matrix == 1)] == -1)
    assert np.all(matrix[(matrix != 0) & (given_matrix == 0)] == 1)
    mask = quiet(find_label_issues, given_matrix, probs, multi_label=True)
    np.testing.assert_array_equal(mask, (matrix != 0).any(axis=1))


def test_issue_matrix_finds_injected_errors():
    rng = np.random.default_rng(7)
    truth = rng.random((400, 4)) < 0.3
    probs = np.where(truth, 0.95, 0.05)
    given_matrix = truth.copy()
    given_matrix[:20, 0] = ~given_matrix[:20, 0]
    matrix = multilabel_issue_matrix(given_matrix, probs)
    expected = np.where(given_matrix[:20, 0], -1, 1)
    np.testing.assert_array_equal(matrix[:20, 0], expected)
    assert np.count_nonzero(matrix) == 20


@given(case=multilabel_case())
def test_nothing_flagged_when_labels_equal_confident_predictions(case):
    given_matrix, _ = case
    probs = np.where(given_matrix == 1, 0.9, 0.1)
    for filter_by in FILTERS:
        assert not quiet(
            find_label_issues, given_matrix, probs, multi_label=True, filter_by=filter_by
        ).any()


def test_invariant_to_example_order():
    rng = np.random.default_rng(3)
    given_matrix = (rng.random((300, 6)) < 0.3).astype(int)
    probs = np.clip(given_matrix * 0.7 + rng.normal(0.15, 0.2, given_matrix.shape), 0, 1)
    perm = rng.permutation(300)
    mask = find_label_issues(given_matrix, probs, multi_label=True)
    permuted = find_label_issues(given_matrix[perm], probs[perm], multi_label=True)
    np.testing.assert_array_equal(permuted, mask[perm])


# Bad input ---------------------------------------------------------------------------------


def test_class_present_everywhere_is_refused():
    given_matrix = np.array([[1, 0], [1, 1], [1, 0]])
    probs = np.full((3, 2), 0.5)
    with pytest.raises(InvalidLabelsError, match=r"classes \[0\] are present in every example"):
        find_label_issues(given_matrix, probs, multi_label=True)
    with pytest.raises(ValueError):  # cleanlab refuses it as well
        quiet(cl_multilabel.find_label_issues, as_lists(given_matrix), probs)


def test_no_labels_at_all_is_refused():
    with pytest.raises(InvalidLabelsError, match="no example has any label"):
        find_label_issues([[], []], np.full((2, 3), 0.2), multi_label=True)


def test_single_class_given_is_refused():
    probs = np.array([[0.2, 0.8], [0.6, 0.4]])
    with pytest.raises(InvalidLabelsError, match="all labels are class 1"):
        find_label_issues([1, 1], probs)


ONE_CLASS_PROBS = np.array([[0.2, 0.7, 0.1], [0.6, 0.3, 0.1], [0.5, 0.25, 0.25], [0.1, 0.1, 0.8]])


@pytest.mark.parametrize("filter_by", FILTERS)
@pytest.mark.parametrize("given_class", [0, 1], ids=["all-class-0", "all-class-1"])
def test_labels_of_one_class_are_refused_where_cleanlab_refuses_them(filter_by, given_class):
    """cleanlab accepts class 0 alone with its pruning filters and confident_learning only (its
    low_* filters count issues with num_label_issues, which needs two classes)."""
    labels = np.full(len(ONE_CLASS_PROBS), given_class)
    expected, error = _reference_or_error(
        cleanlab.filter.find_label_issues, labels, ONE_CLASS_PROBS, filter_by=filter_by, n_jobs=1
    )
    if error is not None:
        with pytest.raises(InvalidLabelsError, match=f"all labels are class {given_class}"):
            quiet(find_label_issues, labels, ONE_CLASS_PROBS, filter_by=filter_by)
    else:
        got = quiet(find_label_issues, labels, ONE_CLASS_PROBS, filter_by=filter_by)
        np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"filter_by": "nope"}, r"filter_by='nope' is not supported; choose one of"),
        ({"frac_noise": 1.5}, r"frac_noise must be a number in \[0, 1\]"),
        ({"min_examples_per_class": -1}, "min_examples_per_class must be an integer >= 0"),
        ({"return_indices_ranked_by": "x"}, "return_indices_ranked_by='x' is not supported"),
        ({"rank_by_kwargs": {"alpha": 1}}, "rank_by_kwargs accepts only 'adjust_pred_probs'"),
        (
            {"filter_by": "confident_learning", "num_to_remove_per_class": [1, 1]},
            "num_to_remove_per_class works only with filter_by",
        ),
        ({"num_to_remove_per_class": [1]}, r"must be 2 non-negative integers"),
        ({"confident_joint": np.ones((3, 3))}, r"confident_joint must have shape \(2, 2\)"),
    ],
    ids=[
        "filter",
        "frac_noise",
        "min_examples",
        "rank_by",
        "rank_kwargs",
        "remove_with_cl",
        "remove_len",
        "joint_shape",
    ],
)
def test_bad_options(kwargs, match):
    labels = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    with pytest.raises(InvalidOptionError, match=match):
        find_label_issues(labels, probs, **kwargs)


def test_frac_noise_with_non_pruning_filter_warns():
    labels = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    with pytest.warns(UserWarning, match="frac_noise is ignored"):
        find_label_issues(labels, probs, filter_by="confident_learning", frac_noise=0.5)


def test_old_square_joint_is_ignored_for_multilabel():
    given_matrix = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 0]])
    probs = np.full((4, 3), 0.3)
    with pytest.warns(UserWarning, match="old multi-label format"):
        got = find_label_issues(given_matrix, probs, multi_label=True, confident_joint=np.eye(3))
    np.testing.assert_array_equal(got, find_label_issues(given_matrix, probs, multi_label=True))


def test_issue_matrix_refuses_low_score_filters():
    with pytest.raises(InvalidOptionError, match="has no per-class result"):
        multilabel_issue_matrix(
            [[0], [1]], np.array([[0.1], [0.9]]), filter_by="low_self_confidence"
        )


def test_errors_derive_from_package_base():
    with pytest.raises(LsCleanlabError):
        find_label_issues([0, 1], np.array([[0.5, 0.5], [0.5, 0.5]]), filter_by="x")


@pytest.mark.parametrize("multi_label", [False, True], ids=["single", "multi"])
def test_joint_is_ignored_by_confident_learning(multi_label):
    labels = np.array([[1, 0], [0, 1], [1, 0], [0, 1]]) if multi_label else np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    cj = compute_confident_joint(labels, probs, multi_label=multi_label)
    expected = find_label_issues(
        labels, probs, multi_label=multi_label, filter_by="confident_learning"
    )
    with pytest.warns(UserWarning, match="ignored with filter_by='confident_learning'"):
        got = find_label_issues(
            labels,
            probs,
            multi_label=multi_label,
            filter_by="confident_learning",
            confident_joint=cj,
        )
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("quantized", [False, True], ids=["continuous", "quantized"])
def test_large_data_across_row_blocks_matches_cleanlab(quantized):
    """Many row blocks, thousands of candidates per class, and (quantized) massive ties."""
    rng = np.random.default_rng(11)
    n, k = 40_000, 7
    truth = rng.random((n, k)) < rng.uniform(0.05, 0.4, k)
    probs = 1 / (1 + np.exp(-(rng.normal(0, 1.5, (n, k)) + np.where(truth, 2.0, -2.0))))
    if quantized:
        probs = np.round(probs, 2)
    given_matrix = truth ^ (rng.random((n, k)) < 0.05)
    lists = as_lists(given_matrix)
    for filter_by in FILTERS:
        expected = quiet(
            cl_multilabel.find_label_issues, lists, probs, filter_by=filter_by, n_jobs=1
        )
        got = find_label_issues(given_matrix, probs, multi_label=True, filter_by=filter_by)
        np.testing.assert_array_equal(got, expected, err_msg=filter_by)


def test_numpy_scalar_options_are_accepted():
    labels = np.array([0, 1, 0, 1])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    expected = find_label_issues(labels, probs, frac_noise=0.5, min_examples_per_class=0)
    got = find_label_issues(
        labels, probs, frac_noise=np.float32(0.5), min_examples_per_class=np.int64(0)
    )
    np.testing.assert_array_equal(got, expected)


def test_warnings_point_at_the_caller():
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.3, 0.7], [0.6, 0.4]])
    with pytest.warns(SmallClassWarning, match="min_examples_per_class") as record:
        find_label_issues([[0], [1], [0], []], probs, multi_label=True)
    assert record[0].filename == __file__  # a UserWarning of its own category, callers silence


@pytest.mark.parametrize("constant", [0, 2], ids=["first", "last"])
def test_a_class_given_everywhere_gets_no_flags_and_the_others_keep_theirs(constant: int) -> None:
    rng = np.random.default_rng(5)
    probs = rng.random((150, 4))
    labels = (rng.random((150, 4)) < probs).astype(np.int8)
    others = [c for c in range(4) if c != constant]
    labels[:, constant] = 1
    with pytest.raises(InvalidLabelsError, match=f"classes \\[{constant}\\]"):
        multilabel_issue_matrix(labels, probs)
    got = issue_matrix_where_defined(labels, probs)
    assert not got[:, constant].any()
    np.testing.assert_array_equal(
        got[:, others], multilabel_issue_matrix(labels[:, others], probs[:, others])
    )
    assert got.any()


def test_nothing_given_anywhere_flags_nothing() -> None:
    probs = np.random.default_rng(6).random((20, 3))
    assert not issue_matrix_where_defined(np.zeros((20, 3)), probs).any()
    assert not issue_matrix_where_defined(np.ones((20, 3)), probs).any()


def test_where_defined_names_a_small_class_by_its_own_index() -> None:
    # class 0 on every task is set aside; class 3, given once, keeps its number in the warning
    rng = np.random.default_rng(0)
    labels = (rng.random((40, 4)) < 0.5).astype(np.int8)
    labels[:, 0] = 1
    labels[:, 3] = 0
    labels[7, 3] = 1
    with pytest.warns(SmallClassWarning) as record:
        issue_matrix_where_defined(labels, rng.random((40, 4)))
    assert [str(w.message).split(" has")[0] for w in record] == ["class given present [3]"]


def test_warn_false_says_nothing_of_small_classes_and_flags_the_same() -> None:
    rng = np.random.default_rng(1)
    labels = (rng.random((40, 4)) < 0.5).astype(np.int8)
    labels[:, 3] = 0
    labels[7, 3] = 1
    probs = rng.random((40, 4))
    with pytest.warns(SmallClassWarning):
        loud = issue_matrix_where_defined(labels, probs)
    classes = np.array([0, 1] * 20 + [2])
    single_probs = rng.dirichlet(np.ones(3), size=len(classes))
    with pytest.warns(SmallClassWarning):
        expected = find_label_issues(classes, single_probs)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet_matrix = issue_matrix_where_defined(labels, probs, warn=False)
        quiet_single = single_label_issues(classes, single_probs, warn=False)
    np.testing.assert_array_equal(quiet_matrix, loud)
    np.testing.assert_array_equal(quiet_single, expected)
    with pytest.warns(SmallClassWarning):
        np.testing.assert_array_equal(single_label_issues(classes, single_probs), expected)
