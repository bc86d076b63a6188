"""An audit on a Dask cluster equals the in-process one: media fetched and described, folds and
the final model fitted, unlabelled tasks predicted and the audit run on worker processes (every
argument and result pickled across), with the same probabilities, issues, predictions and skip
reasons to the bit; a box audit's detector folds too, kept for a rerun through the cluster."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from ls_cleanlab.engine import open_engine, task_stats
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import AuditOptions, FoldCheckpoints, ProjectAudit, audit_tasks
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.aerial_boxes import label_config as box_config
from ls_cleanlab.testing.aerial_boxes import make_aerial_scenes, task_json
from ls_cleanlab.testing.scenes import annotate_scenes
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG, annotation, make_images


@pytest.fixture(scope="module")
def project(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """60 image tasks in local files: 45 labelled by three annotators, 15 unlabelled; one file is
    not an image and one is missing."""
    root = tmp_path_factory.mktemp("media")
    images, truth = make_images(60, seed=5)
    tasks = []
    for i, image in enumerate(images):
        image.save(root / f"{i}.png")
        task: dict[str, Any] = {"id": 500 + i, "data": {"image": f"/data/local-files/?d={i}.png"}}
        task["annotations"] = [annotation(u, truth[i]) for u in (1, 2, 3)] if i < 45 else []
        tasks.append(task)
    (root / "58.png").write_bytes(b"not an image")
    (root / "59.png").unlink()
    return {"root": root, "tasks": tasks}


def _audit(project: dict[str, Any], executor: Any, work: Path) -> ProjectAudit:
    return audit_tasks(
        project["tasks"], parse_label_config(LABEL_CONFIG),
        options=AuditOptions(n_folds=3, work_dir=work),
        fetcher=MediaFetcher(local_files_root=project["root"]), executor=executor,
    )  # fmt: skip


def _same(here: ProjectAudit, there: ProjectAudit) -> None:
    assert np.array_equal(here.pred_probs, there.pred_probs)
    assert np.array_equal(here.task_ids, there.task_ids)
    for name in ("priority", "cell_scores", "consensus", "suggested", "present", "uncertainty"):
        assert np.array_equal(getattr(here.audit, name), getattr(there.audit, name)), name
    pd.testing.assert_frame_equal(here.audit.issues, there.audit.issues)
    pd.testing.assert_frame_equal(here.audit.annotators, there.audit.annotators)
    assert here.predictions == there.predictions
    assert here.trained is not None and there.trained is not None
    assert np.array_equal(here.trained.thresholds, there.trained.thresholds)


def test_a_dask_audit_equals_the_in_process_one(
    project: dict[str, Any], dask_cluster: str, tmp_path: Path
) -> None:
    here = _audit(project, None, tmp_path / "here")
    with open_engine(dask_cluster, profile=True) as engine:
        there = _audit(project, engine.executor, tmp_path / "there")
        ran = task_stats(engine.executor)
    _same(here, there)
    # the audit's per-task arrays came back as files the driver maps read-only (still readable
    # after the run directory was removed), not as copies in its memory
    for name in ("cell_scores", "present", "consensus", "suggested", "priority"):
        mapped = getattr(there.audit, name)
        assert isinstance(mapped, np.memmap) and not mapped.flags.writeable, name
    assert isinstance(there.audit.consensus_detail.posterior, np.memmap)
    assert not list((tmp_path / "there").iterdir())
    # the failures and their kinds came back from the workers' fetchers
    assert here.skipped == there.skipped and set(here.skipped) == {558, 559}
    assert here.skip_reasons == there.skip_reasons
    assert set(there.skip_reasons.values()) == {"media_bad_image", "media_not_found"}
    # every stage ran on a worker
    names = {s.name for s in ran}
    assert {"describe_media", "fit_fold", "fit_model", "audit_from_disk",
            "next_rows_from_disk"} <= names  # fmt: skip
    assert any("predict" in name for name in names)
    assert all(s.worker.startswith("tcp://") for s in ran)

    # with fold checkpoints around the cluster (as the CLI and the backend run it): the same,
    # and a rerun answers every fold from disk
    for attempt in range(2):
        with open_engine(dask_cluster) as engine:
            folds = FoldCheckpoints(tmp_path / "folds", inner=engine.executor)
            kept = _audit(project, folds, tmp_path / "kept")
        _same(here, kept)
        assert (folds.computed, folds.reused) == ((3, 0) if attempt == 0 else (0, 3))


def test_a_box_audit_on_the_cluster_equals_the_in_process_one_and_resumes(
    dask_cluster: str, tmp_path: Path
) -> None:
    # images fetched on the workers, the detector's folds fitted there and kept in the driver
    rng = np.random.default_rng(4)
    aerial = make_aerial_scenes(30, rng=rng)
    seen = np.zeros((30, 3), dtype=bool)
    seen[:26] = True
    scenes = annotate_scenes(
        aerial.truth_image, aerial.truth_boxes, aerial.truth_labels, n_images=30, n_classes=4,
        rng=rng, seen=seen, image_size=aerial.size,
    )  # fmt: skip
    tasks = task_json(aerial, scenes, {"satisficer": 11, "sloppy": 12, "careful": 13})
    schema = parse_label_config(box_config())

    def audit(executor: Any) -> ProjectAudit:
        return audit_tasks(tasks, schema, options=AuditOptions(n_folds=3), fetcher=MediaFetcher(),
                           executor=executor)  # fmt: skip

    here = audit(None)
    assert here.source.startswith("detector:")
    for attempt in range(2):
        with open_engine(dask_cluster) as engine:
            folds = FoldCheckpoints(tmp_path / "folds", inner=engine.executor)
            there = audit(folds)
        assert (folds.computed, folds.reused) == ((3, 0) if attempt == 0 else (0, 3))
        assert np.array_equal(here.audit.priority, there.audit.priority)
        assert here.predictions == there.predictions
