"""Everything an audit left out, counted by reason: :func:`skip_report`.

An audit never drops input silently. What it leaves out, and why:

* **tasks** without probabilities, by reason (:data:`REASONS`): media that could not be read
  (one reason per :class:`~ls_cleanlab.errors.MediaError` kind), no media or text in the task
  data, no usable embedding, no prediction of the chosen model version, a prediction it cannot
  use;
* **annotations** not used: skipped by their annotator, by a user since deleted, holding
  choices the label config does not know (with each unknown value and how often it occurred),
  single-label annotations without exactly one choice, and older annotations of an annotator
  who annotated the task again; **drafts** are never used;
* **predictions** Label Studio did not create when they were pushed;
* **boxes** (box projects) read but not audited: a malformed value, no class or several, a class
  the label config does not know (with each unknown label and how often it occurred), zero area,
  outside the image, rotated by an angle other than a multiple of 90 degrees (or by one, without
  the image size to turn it).

Malformed task JSON is not skipped: the audit refuses it whole, naming the task.
The CLI summary and ``--json``, the report and the backend's job summaries all show this one
report.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Literal

from ls_cleanlab.errors import MediaError
from ls_cleanlab.pipeline.options import ProjectAudit
from ls_cleanlab.studio import BoxReport, TaskReport

__all__ = [
    "BOX_REASONS",
    "REASONS",
    "Skip",
    "SkipReport",
    "annotation_skips",
    "skip_report",
    "task_skip_reason",
]

Items = Literal["tasks", "annotations", "drafts", "predictions", "boxes"]

#: Every reason input is left out for: (what is left out, what the reason means).
REASONS: Mapping[str, tuple[Items, str]] = MappingProxyType({
    "media_not_found": ("tasks", "media not found (HTTP 404 or no such file)"),
    "media_auth": ("tasks", "media refused to the key (HTTP 401/403)"),
    "media_refused": ("tasks", "media on a host, address, scheme or path the policy refuses"),
    "media_unreachable": ("tasks", "media unreachable (connection, timeout, HTTP error)"),
    "media_too_large": ("tasks", "media over the size or pixel limit"),
    "media_bad_image": ("tasks", "media that is no image, or a broken one"),
    "media_bad_reference": ("tasks", "a media reference that is no URL, path or data: URI"),
    "no_media": ("tasks", "no media reference or text in the task data"),
    "no_embedding": ("tasks", "no usable embedding for the task"),
    "no_prediction": ("tasks", "no prediction of the chosen model version"),
    "bad_prediction": ("tasks", "a prediction the audit cannot use"),
    "other": ("tasks", "left out for another reason (see the example)"),
    "cancelled_annotation": ("annotations", "skipped by the annotator (was_cancelled)"),
    "deleted_annotator": ("annotations", "by a user since deleted from Label Studio "
                          "(completed_by null)"),
    "unknown_choice": ("annotations", "hold choices the label config does not know"),
    "no_choice": ("annotations", "single-label annotations without exactly one choice"),
    "superseded_annotation": ("annotations", "older annotations by an annotator who annotated "
                              "the task again"),
    "draft": ("drafts", "drafts, which are never used"),
    "prediction_dropped": ("predictions", "predictions Label Studio did not create"),
    "box_malformed": ("boxes", "boxes whose value is not x, y, width, height and one label list"),
    "box_no_class": ("boxes", "boxes without a class"),
    "box_several_classes": ("boxes", "boxes with several classes"),
    "box_unknown_class": ("boxes", "boxes of a class the label config does not know"),
    "box_zero_area": ("boxes", "boxes of zero width or height (after clipping to the image)"),
    "box_outside": ("boxes", "boxes wholly outside the image"),
    "box_rotated": ("boxes", "boxes rotated by an angle that is not a multiple of 90 degrees"),
    "box_rotated_no_size": ("boxes", "boxes rotated by a multiple of 90 degrees, without the "
                            "image size needed to turn them"),
})  # fmt: skip

#: :attr:`~ls_cleanlab.studio.BoxReport.bad_boxes` reasons (as the reader words them) by code.
BOX_REASONS: Mapping[str, str] = MappingProxyType({
    "malformed value": "box_malformed",
    "no class": "box_no_class",
    "several classes": "box_several_classes",
    "unknown class": "box_unknown_class",
    "zero area": "box_zero_area",
    "outside the image": "box_outside",
    "rotated (not a multiple of 90 degrees)": "box_rotated",
    "rotated, without the image size": "box_rotated_no_size",
})  # fmt: skip

#: Task skip messages by the reason they stand for (the features' and predictions' wording).
_PATTERNS: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"no (image reference|text) in the task data"), "no_media"),
    (re.compile(r"^data\[.*\] (is missing|has \d+ numbers)|is not in "), "no_embedding"),
    (re.compile(r"^no prediction of model_version"), "no_prediction"),
    (re.compile(r"^the prediction |prediction"), "bad_prediction"),
    (re.compile(r"decompression bomb|too large"), "media_too_large"),
    (re.compile(r"not an image|broken image|image data must be"), "media_bad_image"),
    # media failures whose kind was not recorded (a download on another machine)
    (re.compile(r"HTTP 40[13]"), "media_auth"),
    (re.compile(r"HTTP 404|HTTP 410|^no file "), "media_not_found"),
    (re.compile(r"not allowed|escapes local_files_root|credentials in URLs"), "media_refused"),
    (re.compile(r"timed out|could not|cannot resolve|HTTP \d{3}|broke off|redirects|TLS"),
     "media_unreachable"),
    (re.compile(r"not a URL|data: URI|no host in URL|not a valid URL|local-files"),
     "media_bad_reference"),
)  # fmt: skip


def task_skip_reason(message: str, media_kind: str | None = None) -> str:
    """The reason code (a key of :data:`REASONS`) of a task left out with ``message``;
    ``media_kind`` is the :class:`~ls_cleanlab.errors.MediaError` kind of its failed download,
    when known."""
    if media_kind in MediaError.KINDS:
        return f"media_{media_kind}"
    for pattern, reason in _PATTERNS:
        if pattern.search(message):
            return reason
    return "other"


@dataclass(frozen=True)
class Skip:
    """Input left out for one reason.

    Attributes
    ----------
    reason : str
        A key of :data:`REASONS`.
    items : str
        What was left out: ``"tasks"``, ``"annotations"``, ``"drafts"`` or ``"predictions"``.
    count : int
    meaning : str
        What the reason means.
    example : str
        One message of this reason (tasks), or the unknown values (annotations).
    tasks : tuple of int
        Up to five Label Studio ids of tasks left out for it.
    """

    reason: str
    items: str
    count: int
    meaning: str
    example: str = ""
    tasks: tuple[int, ...] = ()

    def as_json(self) -> dict[str, object]:
        names = ("reason", "items", "count", "meaning", "example")
        return {**{name: getattr(self, name) for name in names}, "tasks": list(self.tasks)}


@dataclass(frozen=True)
class SkipReport:
    """Everything an audit left out (see the module docs), most frequent reason first within
    tasks, then annotations, drafts and predictions."""

    skips: tuple[Skip, ...] = ()
    unknown_choices: Mapping[str, int] = field(default_factory=dict)

    def count(self, items: str) -> int:
        """How many ``items`` were left out, over every reason."""
        return sum(s.count for s in self.skips if s.items == items)

    def counts(self) -> dict[str, int]:
        """Reason -> count."""
        return {s.reason: s.count for s in self.skips}


def _skip(reason: str, count: int, example: str = "", tasks: tuple[int, ...] = ()) -> Skip:
    items, meaning = REASONS[reason]
    return Skip(reason, items, int(count), meaning, example, tasks)


def skip_report(result: ProjectAudit) -> SkipReport:
    """What ``result``'s audit left out, by reason (box projects: ``unknown_choices`` holds the
    unknown box labels)."""
    by_reason: dict[str, list[int]] = {}
    examples: dict[str, str] = {}
    for task, message in result.skipped.items():
        reason = result.skip_reasons.get(task) or task_skip_reason(message)
        by_reason.setdefault(reason, []).append(task)
        examples.setdefault(reason, message)
    order = sorted(by_reason, key=lambda r: (-len(by_reason[r]), r))
    skips = [_skip(r, len(by_reason[r]), examples[r], tuple(sorted(by_reason[r])[:5]))
             for r in order]  # fmt: skip
    report = result.table.report
    if isinstance(report, BoxReport):
        unknown = Counter(dict(report.unknown_labels))
        skips += _box_skips(report, unknown)
    else:
        unknown = Counter(dict(report.unknown_choices))
        skips += _annotation_skips(report, unknown)
    if result.push is not None and result.push.missing:
        skips.append(_skip("prediction_dropped", result.push.missing))
    return SkipReport(tuple(skips), MappingProxyType(dict(unknown.most_common())))


def _values(unknown: Counter[str]) -> str:
    return ", ".join(f"{value!r} x{n}" for value, n in unknown.most_common(5))


def annotation_skips(report: TaskReport) -> list[Skip]:
    """The annotations and drafts :func:`~ls_cleanlab.studio.read_tasks` left out, by reason
    (what a command that reads annotations alone, such as ``ls-cleanlab annotators``, left
    out)."""
    return _annotation_skips(report, Counter(dict(report.unknown_choices)))


def _annotation_skips(report: TaskReport, unknown: Counter[str]) -> list[Skip]:
    counts = (
        ("unknown_choice", report.unknown_annotations, _values(unknown)),
        ("no_choice", report.no_choice, ""),
        ("cancelled_annotation", report.skipped, ""),
        ("deleted_annotator", report.no_annotator, ""),
        ("superseded_annotation", report.duplicates_dropped, ""),
        ("draft", report.drafts_ignored, ""),
    )
    return [_skip(reason, count, example) for reason, count, example in counts if count]


def _box_skips(report: BoxReport, unknown: Counter[str]) -> list[Skip]:
    bad = [(BOX_REASONS.get(why, "box_malformed"), n) for why, n in report.bad_boxes.items()]
    boxes = [_skip(code, n, _values(unknown) if code == "box_unknown_class" else "")
             for code, n in sorted(bad, key=lambda item: (-item[1], item[0]))]  # fmt: skip
    counts = (
        ("cancelled_annotation", report.skipped),
        ("deleted_annotator", report.no_annotator),
        ("superseded_annotation", report.duplicates_dropped),
        ("draft", report.drafts_ignored),
    )
    return boxes + [_skip(reason, count) for reason, count in counts if count]
