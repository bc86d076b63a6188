"""``/metrics`` of the ML backend, through ``prometheus-client``.

Each app gets its own :class:`~prometheus_client.CollectorRegistry` (:func:`metrics_registry`;
the library's global registry is never used), holding one collector that reads the job store
when scraped:

* ``ls_cleanlab_jobs{kind, state}``: background jobs by kind and state;
* ``ls_cleanlab_queue_size``: jobs queued plus projects waiting for their debounce;
* ``ls_cleanlab_last_audit_timestamp_seconds{project, kind}``: last full audit or refresh;
* ``ls_cleanlab_flagged_tasks{project, queue}``: tasks in each review queue after the last audit;
* ``ls_cleanlab_annotator_quality{project, annotator}``: CROWDLAB quality after the last audit;
* ``ls_cleanlab_expected_tasks{project, queue}``: tasks the last audit expects to have each error
  tab's problem (beside the tab's size, it shows whether the tab leaves problems out);
* ``ls_cleanlab_gold_tasks{project}``: tasks with a gold label (reviewed or ground truth);
* ``ls_cleanlab_annotator_gold{project, annotator, measure}``: each annotator measured on the gold
  tasks they labelled (``accuracy``; ``box_recall`` and ``box_precision`` in box projects).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from ls_cleanlab.server.jobstore import JOB_KINDS, JOB_STATES, Store

__all__ = ["CONTENT_TYPE", "BackendCollector", "metrics_registry", "metrics_text"]

CONTENT_TYPE = CONTENT_TYPE_LATEST


class BackendCollector(Collector):
    """The backend's gauges, read from ``store`` (and ``pending()``) at each scrape."""

    def __init__(self, store: Store, pending: Callable[[], int]) -> None:
        self.store = store
        self.pending = pending

    def describe(self) -> Iterator[Metric]:
        """The metric names, without reading the store (checked for clashes on register)."""
        yield from self._families()

    def collect(self) -> Iterator[Metric]:
        jobs, queue, audited, flagged, quality, expected, gold_tasks, gold = self._families()
        counts = self.store.job_counts()
        for kind in JOB_KINDS:
            for state in JOB_STATES:
                jobs.add_metric([kind, state], counts.get((kind, state), 0))
        queue.add_metric([], self.pending())
        for p in self.store.projects():
            project = str(p["project"])
            for kind, column in (("audit", "audited_at"), ("refresh", "refreshed_at")):
                if p.get(column):
                    audited.add_metric([project, kind], float(p[column]))
            for name, n in p["flagged"].get("queues", {}).items():
                flagged.add_metric([project, str(name)], int(n))
            for who, value in p["flagged"].get("annotators", {}).items():
                quality.add_metric([project, str(who)], float(value))
            self._gold_and_expected(project, p["flagged"], expected, gold_tasks, gold)
        yield from (jobs, queue, audited, flagged, quality, expected, gold_tasks, gold)

    @staticmethod
    def _gold_and_expected(
        project: str,
        flagged: dict[str, Any],
        expected: GaugeMetricFamily,
        gold_tasks: GaugeMetricFamily,
        gold: GaugeMetricFamily,
    ) -> None:
        for name, n in flagged.get("expected", {}).items():
            expected.add_metric([project, str(name)], float(n))
        if "gold_tasks" in flagged:  # recorded by audits since gold was measured
            gold_tasks.add_metric([project], int(flagged["gold_tasks"]))
        for who, measures in flagged.get("gold", {}).items():
            for measure, value in measures.items():
                gold.add_metric([project, str(who), str(measure)], float(value))

    @staticmethod
    def _families() -> tuple[GaugeMetricFamily, ...]:
        return (
            GaugeMetricFamily(
                "ls_cleanlab_jobs", "Background jobs by kind and state.", labels=["kind", "state"]
            ),
            GaugeMetricFamily(
                "ls_cleanlab_queue_size",
                "Jobs queued plus projects waiting for their debounce.",
                labels=[],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_last_audit_timestamp_seconds",
                "Last full audit (or refresh) per project.",
                labels=["project", "kind"],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_flagged_tasks",
                "Tasks in each review queue after the last audit.",
                labels=["project", "queue"],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_annotator_quality",
                "Annotator quality (CROWDLAB) after the last audit.",
                labels=["project", "annotator"],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_expected_tasks",
                "Tasks the last audit expects to have each error tab's problem.",
                labels=["project", "queue"],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_gold_tasks",
                "Tasks with a gold label (reviewed or ground truth) at the last audit.",
                labels=["project"],
            ),
            GaugeMetricFamily(
                "ls_cleanlab_annotator_gold",
                "Each annotator measured on the gold tasks they labelled.",
                labels=["project", "annotator", "measure"],
            ),
        )


def metrics_registry(store: Store, pending: Callable[[], int]) -> CollectorRegistry:
    """A new registry holding the backend's collector (one per app)."""
    registry = CollectorRegistry()
    registry.register(BackendCollector(store, pending))
    return registry


def metrics_text(registry: CollectorRegistry) -> bytes:
    """The registry in the Prometheus text format (:data:`CONTENT_TYPE`)."""
    return generate_latest(registry)
