"""A Label Studio labeling config, reduced to what an audit needs.

:func:`parse_label_config` reads the XML with label-studio-sdk's ``LabelInterface`` and returns a
:class:`LabelSchema`: the control tag to audit, the object tag it labels, the task data key that
object reads, and the class names exactly as Label Studio stores them in results (an ``alias``
when a ``Choice`` or ``Label`` has one, else its ``value``). Each supported control tag has its
parser in :data:`_PARSERS`, which also sets the schema's task ``kind``:

* ``Choices`` on ``Image``, ``Text`` or ``HyperText``: ``"classification"`` (multi-label with
  ``choice="multiple"``);
* ``RectangleLabels`` on ``Image``: ``"boxes"`` (bounding boxes, one class per box).

A ``TextArea`` named :data:`REASONS_CONTROL` (ls-cleanlab's own, added by ``ls-cleanlab reasons
--enable``, :mod:`ls_cleanlab.studio.reasons_control`) is never a label: the schema only notes
that it is there (``reasons_to``), so predictions carry each task's reasons into it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ls_cleanlab.errors import LabelConfigError

__all__ = ["REASONS_CONTROL", "SUPPORTED_OBJECT_TAGS", "LabelSchema", "parse_label_config"]

#: The name of ls-cleanlab's read-only reasons ``TextArea`` in a labeling config.
REASONS_CONTROL = "ls_cleanlab_reasons"

#: Object tags whose data the audit can use (images and texts).
SUPPORTED_OBJECT_TAGS: tuple[str, ...] = ("Image", "Text", "HyperText")


@dataclass(frozen=True)
class LabelSchema:
    """The ``Choices`` tag of a labeling config that an audit reads and writes.

    Attributes
    ----------
    from_name : str
        The ``name`` of the ``Choices`` tag (``from_name`` in results).
    to_name : str
        The ``name`` of the object tag it labels (``to_name`` in results).
    object_tag : str
        The object tag's type: one of :data:`SUPPORTED_OBJECT_TAGS`.
    data_key : str
        The task data field the object shows (``image`` for ``value="$image"``).
    classes : tuple of str, length K
        Class names in config order, as stored in results (alias if set, else value).
    multi_label : bool
        True for ``choice="multiple"``.
    kind : str
        The task kind the config describes, which picks how projects of it are audited
        (:mod:`ls_cleanlab.pipeline.kinds`): ``"classification"`` for a ``Choices`` tag,
        ``"boxes"`` for ``RectangleLabels``.
    reasons_to : str or None
        The object tag of the config's :data:`REASONS_CONTROL` text area (classification
        only), where predictions put each task's reasons; None without it.
    text_encoding : str or None
        How a ``Text`` or ``HyperText`` object holds its text when not inline: ``"url"``
        (``valueType="url"``: the data field is a link to it), ``"base64"`` or
        ``"base64unicode"`` (its ``encoding``); None for inline text and images.
    others : tuple of str
        The config's other control tags an audit could read, not this one (``"RectangleLabels
        'nature'"``): an audit of one tag leaves them alone, and says so.
    """

    from_name: str
    to_name: str
    object_tag: str
    data_key: str
    classes: tuple[str, ...]
    multi_label: bool
    kind: str = "classification"
    reasons_to: str | None = None
    text_encoding: str | None = None
    others: tuple[str, ...] = ()

    @property
    def n_classes(self) -> int:
        """K, the number of classes."""
        return len(self.classes)

    def class_index(self) -> dict[str, int]:
        """Position of each class name in :attr:`classes`."""
        return {name: k for k, name in enumerate(self.classes)}


def _describe(controls: list[Any]) -> str:
    if not controls:
        return "no control tags"
    return ", ".join(f"<{c.tag} name={c.name!r}>" for c in controls)


def _unsupported_hint(controls: list[Any]) -> str:
    """What the tags of a config ls-cleanlab cannot audit are, said plainly."""
    tags = {c.tag for c in controls}
    if "Rectangle" in tags and tags & {"Labels", "Choices"}:
        return (
            "; boxes drawn with a <Rectangle> and a separate <Labels> tag are not read: label "
            "them with one <RectangleLabels> tag"
        )
    shapes = sorted(tags & _SHAPES)
    if shapes:
        return f"; {', '.join(f'<{t}>' for t in shapes)} regions are not audited"
    return ""


#: Region tags an audit does not read (polygons, masks, points, ellipses, video boxes ...).
_SHAPES = frozenset({
    "PolygonLabels", "Polygon", "BrushLabels", "Brush", "KeyPointLabels", "KeyPoint",
    "EllipseLabels", "Ellipse", "VideoRectangle", "Rectangle", "MagicWand", "BitmaskLabels",
})  # fmt: skip


def _load(config: str) -> Any:
    from label_studio_sdk.label_interface import LabelInterface

    if not isinstance(config, str) or not config.strip():
        raise LabelConfigError("the label config is empty; pass the project's XML label config.")
    try:
        return LabelInterface(config)
    except Exception as exc:  # the SDK raises bare Exception subclasses for bad XML
        raise LabelConfigError(f"the label config is not valid XML: {exc}") from exc


def parse_label_config(config: str, choices_name: str | None = None) -> LabelSchema:
    """Find the control tag to audit in a Label Studio labeling config.

    Parameters
    ----------
    config : str
        The project's ``label_config`` XML.
    choices_name : str, optional
        The ``name`` of the control tag to use (a ``Choices`` or ``RectangleLabels`` tag). By
        default the first multi-label ``Choices`` tag, else the first ``Choices`` tag, else the
        first ``RectangleLabels`` tag.

    Returns
    -------
    LabelSchema

    Raises
    ------
    LabelConfigError
        When the XML cannot be parsed, has no supported control tag (the message lists the
        control tags it has), ``choices_name`` is not one of them, the tag labels an object we do
        not support, or its labels are loaded from task data (``value="$..."``) so the classes
        are unknown.
    """
    interface = _load(config)
    controls = list(interface.controls)
    supported = [c for c in controls if c.tag in _PARSERS]
    if not supported:
        raise LabelConfigError(
            f"the label config has no <Choices> or <RectangleLabels> tag (found "
            f"{_describe(controls)}); ls-cleanlab audits classification projects (<Choices>) "
            f"and bounding boxes (<RectangleLabels>){_unsupported_hint(controls)}."
        )
    if choices_name is not None:
        picked = [c for c in supported if c.name == choices_name]
        if not picked:
            names = ", ".join(f"{c.tag} {c.name!r}" for c in supported)
            raise LabelConfigError(
                f"the label config has no <Choices> or <RectangleLabels> tag named "
                f"{choices_name!r}; its tags are {names}."
            )
        control = picked[0]
    else:
        choices = [c for c in supported if c.tag == "Choices"]
        multi = [c for c in choices if c.attr.get("choice") == "multiple"]
        control = (multi or choices or supported)[0]
    schema = _PARSERS[control.tag](control)
    others = tuple(f"{c.tag} {c.name!r}" for c in supported if c is not control)
    if others:
        schema = replace(schema, others=others)
    ours = [c for c in controls if c.tag == "TextArea" and c.name == REASONS_CONTROL]
    if ours and schema.kind == "classification" and len(ours[0].to_name) == 1:
        schema = replace(schema, reasons_to=str(ours[0].to_name[0]))
    return schema


def _schema_of(control: Any) -> LabelSchema:
    where = f"<Choices name={control.name!r}>"
    if len(control.to_name) != 1:
        raise LabelConfigError(
            f"{where} labels {len(control.to_name)} objects ({control.to_name}); ls-cleanlab "
            "needs a Choices tag that labels exactly one object."
        )
    if str(control.attr.get("value", "")).startswith("$"):
        raise LabelConfigError(
            f"{where} takes its choices from task data ({control.attr['value']}), so the classes "
            "are not known from the config; list them as <Choice> tags."
        )
    if control.attr.get("perRegion") in ("true", True):
        raise LabelConfigError(
            f"{where} is perRegion (it labels regions, not whole tasks); ls-cleanlab audits "
            "task-level Choices."
        )
    objects = list(control.objects)
    if not objects:
        raise LabelConfigError(
            f"{where} points to toName={control.to_name[0]!r}, which is not an object tag of the "
            "config."
        )
    obj = objects[0]
    if obj.tag not in SUPPORTED_OBJECT_TAGS:
        raise LabelConfigError(
            f"{where} labels a <{obj.tag}> object; ls-cleanlab supports "
            f"{', '.join(SUPPORTED_OBJECT_TAGS)}."
        )
    value = str(obj.value or "")
    if not value.startswith("$") or len(value) < 2:
        raise LabelConfigError(
            f"<{obj.tag} name={obj.name!r}> has value={value!r}; it must read a task data field "
            'such as value="$image".'
        )
    classes = tuple(str(name) for name in control.labels)
    if not classes:
        raise LabelConfigError(f"{where} has no <Choice> tags.")
    return LabelSchema(
        from_name=str(control.name),
        to_name=str(obj.name),
        object_tag=str(obj.tag),
        data_key=value[1:],
        classes=classes,
        multi_label=control.attr.get("choice") == "multiple",
        kind="classification",
        text_encoding=_text_encoding(obj),
    )


def _text_encoding(obj: Any) -> str | None:
    """``"url"``, ``"base64"`` or ``"base64unicode"`` for a text object whose data field does
    not hold the text itself (:attr:`LabelSchema.text_encoding`), else None."""
    if obj.tag == "Image":
        return None
    if str(obj.attr.get("valueType", "")).lower() == "url":
        return "url"
    encoding = str(obj.attr.get("encoding", "")).lower()
    return encoding if encoding in ("base64", "base64unicode") else None


def _rectangles_schema(control: Any) -> LabelSchema:
    """A ``RectangleLabels`` tag on an ``Image``: the ``"boxes"`` kind, one class per box."""
    where = f"<RectangleLabels name={control.name!r}>"
    if len(control.to_name) != 1:
        raise LabelConfigError(
            f"{where} labels {len(control.to_name)} objects ({control.to_name}); ls-cleanlab "
            "needs a RectangleLabels tag that labels exactly one Image."
        )
    if str(control.attr.get("value", "")).startswith("$"):
        raise LabelConfigError(
            f"{where} takes its labels from task data ({control.attr['value']}), so the classes "
            "are not known from the config; list them as <Label> tags."
        )
    objects = list(control.objects)
    if not objects:
        raise LabelConfigError(
            f"{where} points to toName={control.to_name[0]!r}, which is not an object tag of the "
            "config."
        )
    obj = objects[0]
    if obj.tag != "Image":
        raise LabelConfigError(f"{where} labels a <{obj.tag}> object; boxes are audited on Image.")
    value = str(obj.value or "")
    if not value.startswith("$") or len(value) < 2:
        raise LabelConfigError(
            f"<Image name={obj.name!r}> has value={value!r}; it must read a task data field such "
            'as value="$image".'
        )
    classes = tuple(str(name) for name in control.labels)
    if not classes:
        raise LabelConfigError(f"{where} has no <Label> tags.")
    return LabelSchema(
        from_name=str(control.name),
        to_name=str(obj.name),
        object_tag="Image",
        data_key=value[1:],
        classes=classes,
        multi_label=False,
        kind="boxes",
    )


#: The control tags an audit reads, each with its parser.
_PARSERS: Mapping[str, Callable[[Any], LabelSchema]] = {
    "Choices": _schema_of,
    "RectangleLabels": _rectangles_schema,
}
