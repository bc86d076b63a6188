"""Features of a real Label Studio project: uploaded images fetched with the project's key,
described, cached, and learned out of sample; a broken upload is skipped, not fatal."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sklearn.metrics import roc_auc_score

from ls_cleanlab import FeatureCache, MediaFetcher, StudioClient, read_tasks, task_features
from ls_cleanlab.model import out_of_sample_probs
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.label_studio import Studio
from ls_cleanlab.testing.synthetic_images import CLASSES, encode, make_images
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG

pytestmark = pytest.mark.studio


def test_uploaded_images_become_features(
    studio: Studio, admin: Admin, client: StudioClient, tmp_path: Path
) -> None:
    images, labels = make_images(40, seed=5)
    project = admin.project("features from uploads", CONFIG)
    # one form field per file: Label Studio reads each field once
    files = [(f"file{i}", (f"img{i}.png", encode(im), "image/png")) for i, im in enumerate(images)]
    files.append(("broken", ("broken.png", b"\x89PNG\r\n\x1a\n not an image", "image/png")))
    admin.call("POST", f"/api/projects/{project}/import", files=files)

    schema = client.label_schema(project)
    table = read_tasks(client.fetch_tasks(project).tasks, schema)
    assert len(table.task_ids) == 41
    names = [str(task["image"]).rsplit("-", 1)[-1] for task in table.data]

    with (
        MediaFetcher(studio.url, studio.personal_token) as fetcher,
        FeatureCache(tmp_path / "features.sqlite") as cache,
    ):
        first = task_features(table, schema, fetcher=fetcher, cache=cache)
        again = task_features(table, schema, fetcher=fetcher, cache=cache)

    broken = names.index("broken.png")
    assert first.ok.sum() == 40 and not first.ok[broken]
    assert "broken image" in first.skipped[broken] or "not an image" in first.skipped[broken]
    assert (again.downloaded, again.computed, again.cached) == (1, 0, 40)  # only the broken one
    np.testing.assert_array_equal(first.features, again.features)

    order = [
        int(name.removeprefix("img").removesuffix(".png")) for name in np.array(names)[first.ok]
    ]
    probs = out_of_sample_probs(first.features[first.ok], labels[order], n_folds=4)
    truth = labels[order]
    aurocs = [roc_auc_score(truth[:, k], probs[:, k]) for k in range(len(CLASSES))]
    # learned from 40 uploaded images (random features would give about 0.5)
    assert np.mean(aurocs) > 0.85 and min(aurocs) > 0.7, aurocs
