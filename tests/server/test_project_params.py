"""The control tag a project audits, chosen in Label Studio's ML backend form ("Any extra params
to pass during model connection", sent on /setup): read strictly, kept per project, used by
/predict and the jobs."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from fastapi.testclient import TestClient

from ls_cleanlab.errors import InvalidOptionError
from ls_cleanlab.features import text_features
from ls_cleanlab.model import ModelStore, train_model
from ls_cleanlab.server.project_params import ProjectParams, read_extra_params
from tests.server.conftest import payload

#: A topic tag (multi-label) and a sentiment tag (single-label) on one text.
TWO_TAGS = (
    '<View><Text name="text" value="$text"/>'
    '<Choices name="topics" toName="text" choice="multiple">'
    '<Choice value="sports"/><Choice value="politics"/><Choice value="tech"/></Choices>'
    '<Choices name="sentiment" toName="text" choice="single">'
    '<Choice value="positive"/><Choice value="negative"/></Choices></View>'
)


@pytest.mark.parametrize("value", [None, "", "  ", {}, "{}"])
def test_no_extra_params_choose_nothing(value: object) -> None:
    assert read_extra_params(value) == ProjectParams()


@pytest.mark.parametrize("value", [{"tag": "sentiment"}, '{"tag": " sentiment "}'])
def test_the_tag_is_read_from_an_object_or_its_text(value: object) -> None:
    assert read_extra_params(value).tag == "sentiment"


@pytest.mark.parametrize(
    ("value", "says"),
    [
        ("tag=sentiment", "not JSON"),
        ('["sentiment"]', "must be a JSON object"),
        ({"tags": "sentiment"}, "unknown key(s) 'tags'"),
        ({"tag": ""}, "must be the name of a control tag"),
        ({"tag": 3}, "got 3"),
    ],
)
def test_bad_extra_params_say_what_is_wrong(value: object, says: str) -> None:
    with pytest.raises(InvalidOptionError) as caught:
        read_extra_params(value)
    assert says in str(caught.value)


def _setup(api: TestClient, extra: object, schema: str = TWO_TAGS) -> object:
    body = {**payload("setup"), "schema": schema, "extra_params": extra}
    return api.post("/setup", json=body)


def _tag(api: TestClient, project: int) -> str | None:
    return api.app.state.backend.store.tag(project)  # type: ignore[attr-defined, no-any-return]


def test_setup_keeps_the_chosen_tag_and_refuses_one_the_config_lacks(
    api: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    project = int(payload("setup")["project"].split(".")[0])
    assert _setup(api, {"tag": "sentiment"}).status_code == 200  # type: ignore[attr-defined]
    assert _tag(api, project) == "sentiment"

    with caplog.at_level(logging.WARNING, logger="ls_cleanlab"):
        refused = _setup(api, {"tag": "mood"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    detail = refused.json()["detail"]  # type: ignore[attr-defined]
    assert "mood" in detail and "sentiment" in detail and "topics" in detail
    # Label Studio shows only "422, check the ML backend's logs": the reason is there
    logged = [r.getMessage() for r in caplog.records]
    assert any("/setup" in m and "mood" in m for m in logged), logged
    assert _tag(api, project) == "sentiment", "a refused /setup changes nothing"

    unknown = _setup(api, '{"threshold": 0.3}')
    assert unknown.status_code == 422  # type: ignore[attr-defined]
    assert "'threshold'" in unknown.json()["detail"]  # type: ignore[attr-defined]

    assert _setup(api, None).status_code == 200  # type: ignore[attr-defined]
    assert _tag(api, project) is None, "clearing the extra params goes back to the default tag"


def test_predict_answers_for_the_projects_tag(api: TestClient) -> None:
    project = int(payload("setup")["project"].split(".")[0])
    words = {0: "great win love happy", 1: "awful loss sad angry"}
    labels = np.repeat([0, 1], 30)
    texts = [words[k] + f" day {i}" for i, k in enumerate(labels)]
    feats = text_features(texts)
    trained = train_model(feats.features, labels, class_names=("positive", "negative"),
                          encoder=feats.encoder)  # fmt: skip
    data = api.app.state.backend.settings.data_dir  # type: ignore[attr-defined]
    ModelStore(data / "models").save(project, "ls-cleanlab", trained)
    body = {**payload("predict"), "label_config": TWO_TAGS}
    base = body["tasks"][0]
    body["tasks"] = [{**base, "id": 5, "data": {"text": "sad angry loss"}}]

    assert _setup(api, {"tag": "sentiment"}).status_code == 200  # type: ignore[attr-defined]
    result = api.post("/predict", json=body).json()["results"][0]["result"][0]
    assert (result["from_name"], result["value"]["choices"]) == ("sentiment", ["negative"])

    # without the tag the config's default (the multi-label topics) is not what this model
    # learned: no prediction rather than sentiment classes under the topics tag
    assert _setup(api, None).status_code == 200  # type: ignore[attr-defined]
    answer = api.post("/predict", json=body)
    assert answer.status_code == 200 and answer.json()["results"][0]["result"] == []
