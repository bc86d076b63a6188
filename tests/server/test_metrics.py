"""``/metrics``: Prometheus text that prometheus-client's own parser reads back, from a registry
of the app's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import prometheus_client
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from ls_cleanlab.server.jobstore import JOB_KINDS, JOB_STATES

NAMES = {
    "ls_cleanlab_jobs": {"kind", "state"},
    "ls_cleanlab_queue_size": set(),
    "ls_cleanlab_last_audit_timestamp_seconds": {"project", "kind"},
    "ls_cleanlab_flagged_tasks": {"project", "queue"},
    "ls_cleanlab_annotator_quality": {"project", "annotator"},
    "ls_cleanlab_expected_tasks": {"project", "queue"},
    "ls_cleanlab_gold_tasks": {"project"},
    "ls_cleanlab_annotator_gold": {"project", "annotator", "measure"},
}


def scrape(api: TestClient) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    answer = api.get("/metrics")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/plain")
    found: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(answer.text):
        assert family.type == "gauge" and family.documentation
        samples = found.setdefault(family.name, {})
        for sample in family.samples:
            assert set(sample.labels) == NAMES[family.name], sample
            samples[tuple(sorted(sample.labels.items()))] = sample.value
    return found


def test_metrics_parse_and_follow_the_store(api: TestClient) -> None:
    first = scrape(api)
    assert set(first) == set(NAMES)
    kinds_and_states = len(JOB_KINDS) * len(JOB_STATES)
    assert len(first["ls_cleanlab_jobs"]) == kinds_and_states
    assert not any(first["ls_cleanlab_jobs"].values())
    assert first["ls_cleanlab_queue_size"] == {(): 0.0}

    backend = api.app.state.backend  # type: ignore[attr-defined]
    store = backend.store
    job = store.add_job(7, "audit")
    store.start(job.id)
    store.finish(job.id, reason="failed on purpose")
    flagged = {"queues": {"lscl:error": 3, "lscl:missing": 0},
               "annotators": {"ann@example.com": 0.8125, 'quote"d': 0.5},
               "expected": {"errors": 2.5, "missing": 0.4}, "gold_tasks": 12,
               "gold": {"ann@example.com": {"accuracy": 0.75}}}  # fmt: skip
    store.audited(7, "ls-cleanlab", flagged, True)
    store.audited(7, "ls-cleanlab", flagged, False)
    # a project recorded before gold was measured: no gold figures, and no error
    store.audited(8, "ls-cleanlab", {"queues": {}, "annotators": {}}, True)

    after = scrape(api)
    assert after["ls_cleanlab_jobs"][(("kind", "audit"), ("state", "failed"))] == 1
    stamps = after["ls_cleanlab_last_audit_timestamp_seconds"]
    assert set(stamps) == {(("kind", k), ("project", "7")) for k in ("audit", "refresh")} | {
        (("kind", "audit"), ("project", "8"))
    }
    assert all(v > 1.7e9 for v in stamps.values())
    assert after["ls_cleanlab_flagged_tasks"] == {
        (("project", "7"), ("queue", "lscl:error")): 3.0,
        (("project", "7"), ("queue", "lscl:missing")): 0.0,
    }
    assert after["ls_cleanlab_annotator_quality"] == {
        (("annotator", "ann@example.com"), ("project", "7")): 0.8125,
        (("annotator", 'quote"d'), ("project", "7")): 0.5,
    }
    assert after["ls_cleanlab_expected_tasks"] == {
        (("project", "7"), ("queue", "errors")): 2.5,
        (("project", "7"), ("queue", "missing")): 0.4,
    }
    assert after["ls_cleanlab_gold_tasks"] == {(("project", "7"),): 12.0}
    assert after["ls_cleanlab_annotator_gold"] == {
        (("annotator", "ann@example.com"), ("measure", "accuracy"), ("project", "7")): 0.75
    }


def test_queue_size_counts_debounced_projects(make_client: Callable[..., TestClient]) -> None:
    api = make_client(debounce_seconds=60.0)
    api.app.state.backend.jobs.changed(3)  # type: ignore[attr-defined]
    assert scrape(api)["ls_cleanlab_queue_size"] == {(): 1.0}


def test_each_app_has_its_own_registry(
    make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    one, two = make_client(), make_client(data_dir=tmp_path / "two")
    one.app.state.backend.store.add_job(1, "audit")  # type: ignore[attr-defined]
    queued = (("kind", "audit"), ("state", "queued"))
    assert scrape(one)["ls_cleanlab_jobs"][queued] == 1
    assert scrape(two)["ls_cleanlab_jobs"][queued] == 0
    registries = [c.app.state.backend.metrics for c in (one, two)]  # type: ignore[attr-defined]
    assert registries[0] is not registries[1]
    global_names = {m.name for m in prometheus_client.REGISTRY.collect()}
    assert not any(n.startswith("ls_cleanlab") for n in global_names), global_names


def test_annotator_quality_is_labelled_by_name_where_known() -> None:
    """What a finished audit hands the store: quality per annotator, by ``"First Last <email>"``
    when Label Studio named the user, by id otherwise."""
    import dataclasses

    from ls_cleanlab.server.jobs import _flagged
    from tests.report.test_report import text_audit

    result = dataclasses.replace(text_audit(), annotator_names={1: "Ann Lee <ann@example.com>"})
    quality = _flagged(result)["annotators"]
    assert set(quality) == {"Ann Lee <ann@example.com>", "2", "3"}
    assert all(0.0 <= q <= 1.0 for q in quality.values())
