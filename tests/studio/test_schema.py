"""parse_label_config: which Choices tag, its classes (aliases honoured) and every refusal."""

from __future__ import annotations

import pytest

from ls_cleanlab import LabelConfigError, LabelSchema, parse_label_config
from ls_cleanlab.studio.schema import SUPPORTED_OBJECT_TAGS


def view(*tags: str) -> str:
    return "<View>" + "".join(tags) + "</View>"


IMAGE = '<Image name="image" value="$image"/>'
TEXT = '<Text name="text" value="$text"/>'
HTML = '<HyperText name="page" value="$html"/>'


def choices(name: str, to: str, *values: str, multiple: bool = False, extra: str = "") -> str:
    kind = ' choice="multiple"' if multiple else ""
    body = "".join(values) if values else ""
    return f'<Choices name="{name}" toName="{to}"{kind}{extra}>{body}</Choices>'


ABC = ('<Choice value="a"/>', '<Choice value="b"/>', '<Choice value="c"/>')


@pytest.mark.parametrize(
    "config, expected",
    [
        (
            view(IMAGE, choices("tags", "image", *ABC, multiple=True)),
            LabelSchema("tags", "image", "Image", "image", ("a", "b", "c"), True),
        ),
        (
            view(TEXT, choices("topic", "text", *ABC)),
            LabelSchema("topic", "text", "Text", "text", ("a", "b", "c"), False),
        ),
        (
            view(
                HTML, choices("kind", "page", '<Choice value="x"/>', extra=' choice="single-radio"')
            ),
            LabelSchema("kind", "page", "HyperText", "html", ("x",), False),
        ),
        (
            view(
                IMAGE,
                choices(
                    "tags",
                    "image",
                    '<Choice value="Cat" alias="cat"/>',
                    '<Choice value="Dog"/>',
                    multiple=True,
                ),
            ),
            LabelSchema("tags", "image", "Image", "image", ("cat", "Dog"), True),
        ),
        (
            view(TEXT, '<View><Header value="x"/>', choices("t", "text", *ABC), "</View>"),
            LabelSchema("t", "text", "Text", "text", ("a", "b", "c"), False),
        ),
        (
            view('<Text name="text" value="$link" valueType="url"/>', choices("t", "text", *ABC)),
            LabelSchema("t", "text", "Text", "link", ("a", "b", "c"), False, text_encoding="url"),
        ),
        (
            view(
                '<HyperText name="p" value="$b64" encoding="base64unicode"/>',
                choices("t", "p", *ABC),
            ),
            LabelSchema(
                "t", "p", "HyperText", "b64", ("a", "b", "c"), False, text_encoding="base64unicode"
            ),
        ),
    ],
    ids=[
        "image-multi",
        "text-single",
        "hypertext-radio",
        "alias",
        "nested-view",
        "text-url",
        "html-base64",
    ],
)
def test_parse(config: str, expected: LabelSchema) -> None:
    assert parse_label_config(config) == expected


def test_default_is_the_first_multi_label_tag() -> None:
    config = view(
        TEXT,
        choices("single", "text", *ABC),
        choices("multi", "text", *ABC, multiple=True),
        choices("multi2", "text", *ABC, multiple=True),
    )
    assert parse_label_config(config).from_name == "multi"
    assert parse_label_config(config, "single").from_name == "single"
    only_single = view(TEXT, choices("s1", "text", *ABC), choices("s2", "text", *ABC))
    assert parse_label_config(only_single).from_name == "s1"


def test_class_index_and_count() -> None:
    schema = parse_label_config(view(TEXT, choices("t", "text", *ABC, multiple=True)))
    assert schema.n_classes == 3
    assert schema.class_index() == {"a": 0, "b": 1, "c": 2}


@pytest.mark.parametrize(
    "config, choices_name, match",
    [
        ("", None, "empty"),
        ("<View><Text", None, "not valid XML"),
        (
            view(
                IMAGE,
                '<PolygonLabels name="poly" toName="image"><Label value="a"/></PolygonLabels>',
            ),
            None,
            r"no <Choices> or <RectangleLabels> tag \(found <PolygonLabels name='poly'>\)",
        ),
        (view(TEXT), None, r"no <Choices> or <RectangleLabels> tag \(found no control tags\)"),
        (
            view(
                IMAGE,
                '<Labels name="l" toName="image"><Label value="a"/></Labels>',
                '<Rectangle name="r" toName="image"/>',
            ),
            None,
            r"<Rectangle> and a separate <Labels> tag are not read: label them with one "
            "<RectangleLabels> tag",
        ),
        (
            view(
                '<Video name="v" value="$v"/>',
                '<VideoRectangle name="b" toName="v"/>',
                '<Labels name="l" toName="v"><Label value="a"/></Labels>',
            ),
            None,
            r"<VideoRectangle> regions are not audited",
        ),
        (view(TEXT, choices("t", "text", *ABC)), "other", r"tag named 'other'.*Choices 't'"),
        (
            view('<Audio name="audio" value="$audio"/>', choices("t", "audio", *ABC)),
            None,
            "labels a <Audio> object; ls-cleanlab supports Image, Text, HyperText",
        ),
        (view(TEXT, choices("t", "nowhere", *ABC)), None, "not an object tag"),
        (view(TEXT, choices("t", "text", extra=' value="$options"')), None, "from task data"),
        (view(TEXT, choices("t", "text")), None, r"has no <Choice> tags"),
        (view(TEXT, choices("t", "text", *ABC, extra=' perRegion="true"')), None, "perRegion"),
        (view('<Text name="text" value="static"/>', choices("t", "text", *ABC)), None, "task data"),
        (
            view(TEXT, '<Text name="t2" value="$b"/>', choices("t", "text,t2", *ABC)),
            None,
            "labels 2 objects",
        ),
    ],
    ids=[
        "empty",
        "bad-xml",
        "no-choices",
        "no-controls",
        "rectangle-and-labels",
        "video-rectangle",
        "unknown-name",
        "audio",
        "missing-object",
        "dynamic-choices",
        "no-choice-tags",
        "per-region",
        "static-object",
        "two-objects",
    ],
)
def test_refusals(config: str, choices_name: str | None, match: str) -> None:
    with pytest.raises(LabelConfigError, match=match):
        parse_label_config(config, choices_name)


def test_label_config_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        parse_label_config("")
    assert "Image" in SUPPORTED_OBJECT_TAGS
