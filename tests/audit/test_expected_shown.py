"""The expected number of wrong tasks is shown beside each tab: CLI summary (text and JSON) and
the HTML report."""

from __future__ import annotations

import io
from types import SimpleNamespace

import numpy as np

from ls_cleanlab import audit_labels
from ls_cleanlab.cli.output import print_audit
from ls_cleanlab.pipeline import queue_expected, queue_precision
from ls_cleanlab.report.html import _tabs
from tests.cli.summaries import audit_summary


def an_audit():  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(0)
    truth = rng.random((300, 4)) < 0.3
    probs = np.clip(np.where(truth, 0.8, 0.2) + rng.normal(0, 0.1, truth.shape), 0.01, 0.99)
    given = truth & (rng.random(truth.shape) < 0.7)
    return audit_labels(probs, labels=given.astype(int))


def test_summary_carries_the_expected_counts_per_tab() -> None:
    audit = an_audit()
    expected = queue_expected(audit)
    assert set(expected) == {"errors", "missing"}
    assert expected["errors"] == round(audit.expected_issues["errors"], 1)
    summary = audit_summary(
        tasks={"audited": 300, "read": 300, "labelled": 300, "skipped": 0},
        source="pred_probs",
        unknown_choices={},
        issues={"total": 5, "tasks": 4, "by_kind": {"missing": 5}},
        queues={"errors": 4, "missing": 4, "disagree": 0, "uncertain": 0},
        expected={"errors": 7.2, "missing": 6.6},
        expected_precision={"errors": 0.55},
    )
    out = io.StringIO()
    print_audit(summary, out)
    text = out.getvalue()
    assert "Likely label errors 4 (about 7 expected in all, 55% of them expected real)" in text
    assert "Likely missing labels 4 (about 7 expected in all)" in text
    assert "Annotators disagree 0," in text


def test_report_shows_the_expected_counts_beside_the_tabs() -> None:
    audit = an_audit()
    result = SimpleNamespace(audit=audit, queues={"errors": [1, 2], "missing": [1]})
    html = _tabs(result)  # type: ignore[arg-type]
    assert "expected with the problem" in html
    assert f">{audit.expected_issues['missing']:.0f}<" in html
    assert "expected real" in html
    assert f">{queue_precision(audit)['errors']:.0%}<" in html


def test_default_tabs_are_as_large_as_the_expected_counts() -> None:
    """One annotator who misses labels: by default each error tab holds about the number of
    tasks the audit expects to have its problem (and the tasks confident learning flags)."""
    audit = an_audit()
    precision = queue_precision(audit)
    kinds = {"errors": ("missing", "spurious", "rule"), "missing": ("missing",)}
    for tab, expected in queue_expected(audit).items():
        rows = audit.issues[audit.issues["kind"].isin(kinds[tab])]
        tasks = rows["task"].unique()
        assert len(tasks) >= round(expected) - 1
        assert 0 < precision[tab] <= 1
