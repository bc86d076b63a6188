"""The opt-in reasons text area offline: added and removed byte for byte, never read as a label,
and filled by our predictions only when the project has it."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from ls_cleanlab.errors import LabelConfigError
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.studio import check_prediction, parse_label_config, read_tasks
from ls_cleanlab.studio.reasons_control import with_reasons, without_reasons
from ls_cleanlab.studio.schema import REASONS_CONTROL

CONFIG = (
    '<View>\n  <Text name="review" value="$review"/>\n  <Choices name="mood" toName="review" '
    'choice="multiple">\n    <Choice value="happy"/><Choice value="sad"/>\n  </Choices>\n</View>\n'
)
BOXES = (
    '<View><Image name="image" value="$image"/><RectangleLabels name="box" toName="image">'
    '<Label value="car"/></RectangleLabels></View>'
)


def test_added_and_removed_byte_for_byte_and_never_a_label() -> None:
    added = with_reasons(CONFIG)
    assert added != CONFIG and with_reasons(added) == added  # once
    assert without_reasons(added) == CONFIG and without_reasons(CONFIG) == CONFIG
    plain, ours = parse_label_config(CONFIG), parse_label_config(added)
    assert plain.reasons_to is None and ours.reasons_to == "review"
    assert (ours.from_name, ours.classes) == (plain.from_name, plain.classes)
    # an annotation made from our prediction carries the text: the labels ignore it
    text = {"from_name": REASONS_CONTROL, "to_name": "review", "type": "textarea",
            "value": {"text": ["annotators split on sad"]}}  # fmt: skip
    mood = {"from_name": "mood", "to_name": "review", "type": "choices",
            "value": {"choices": ["sad"]}}  # fmt: skip
    task = {"id": 7, "data": {"review": "meh"},
            "annotations": [{"completed_by": 1, "result": [text, mood]}]}  # fmt: skip
    table = read_tasks([task], ours)
    assert table.annotations.labels.tolist() == [[0, 1]]


@pytest.mark.parametrize(
    ("config", "call", "match"),
    [
        (BOXES, with_reasons, "classification projects"),
        (CONFIG.replace("</View>\n", "</Foo>"), with_reasons, "not valid XML|</View>"),
        (CONFIG.replace("</View>", f'<TextArea name="{REASONS_CONTROL}" toName="review"/></View>'),
         without_reasons, "did not add"),
    ],
    ids=["boxes", "no-view", "hand-made"],
)  # fmt: skip
def test_configs_it_cannot_change_are_refused(config: str, call: Any, match: str) -> None:
    with pytest.raises(LabelConfigError, match=match):
        call(config)


def tasks() -> list[dict[str, Any]]:
    """30 texts labelled happy/sad alternately by two annotators who split on the first 4."""
    out = []
    for i in range(30):
        label = "happy" if i % 2 == 0 else "sad"
        other = "sad" if i < 4 and label == "happy" else ("happy" if i < 4 else label)
        out.append({"id": 50 + i, "data": {"review": f"text {i}"}, "annotations": [
            {"completed_by": u, "result": [{"from_name": "mood", "to_name": "review",
             "type": "choices", "value": {"choices": [given]}}]}
            for u, given in ((1, label), (2, other))]})  # fmt: skip
    return out


@pytest.mark.parametrize("enabled", [True, False], ids=["enabled", "not-enabled"])
def test_predictions_fill_the_text_area_when_the_project_has_it(enabled: bool) -> None:
    probs = np.array([[0.9, 0.1] if i % 2 == 0 else [0.1, 0.9] for i in range(30)])
    schema = parse_label_config(with_reasons(CONFIG) if enabled else CONFIG)
    result = audit_tasks(tasks(), schema, options=AuditOptions(pred_probs=probs))
    with_reasons_ = [p for p in result.predictions if p["result"][0]["meta"]["reasons"]]
    assert with_reasons_  # the disputed texts have reasons
    for prediction in result.predictions:
        assert check_prediction(schema, prediction) == []
        reasons = prediction["result"][0]["meta"]["reasons"]
        texts = [r for r in prediction["result"] if r["from_name"] == REASONS_CONTROL]
        if enabled and reasons:
            assert texts == [{"from_name": REASONS_CONTROL, "to_name": "review",
                              "type": "textarea", "value": {"text": reasons}}]  # fmt: skip
        else:
            assert texts == []
    # our text area's result is refused by a project without it
    if enabled:
        plain = parse_label_config(CONFIG)
        assert check_prediction(plain, with_reasons_[0]) != []


def test_the_command_needs_a_choice_and_a_studio(monkeypatch: pytest.MonkeyPatch) -> None:
    import io

    from ls_cleanlab.cli.main import EXIT_BAD_INPUT, main

    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    err = io.StringIO()
    assert main(["reasons", "--project", "3"], stderr=err) == EXIT_BAD_INPUT  # neither flag
    assert main(["reasons", "--project", "3", "--enable", "--disable"], stderr=err) == 2
    assert main(["reasons", "--project", "3", "--enable"], stderr=err) == EXIT_BAD_INPUT
    assert "no Label Studio URL given" in err.getvalue()


@pytest.mark.parametrize(
    ("enable", "changed", "said"),
    [
        (True, True, "now shows each task's reasons in the labeling view. The next audit"),
        (True, False, "already shows each task's reasons in the labeling view; nothing changed."),
        (False, True, "no longer shows each task's reasons in the labeling view."),
        (False, False, "did not show each task's reasons in the labeling view; nothing changed."),
    ],
)
def test_the_command_says_what_it_did_in_plain_words(
    enable: bool, changed: bool, said: str
) -> None:
    from ls_cleanlab.cli.reasons import reasons_message

    assert reasons_message(7, enable, changed).startswith(f"project 7 {said}")
