"""Each task's reasons in Label Studio's labeling view: an opt-in, reversible config addition.

Label Studio 1.23.2 shows a prediction's ``Choices`` result in the labeling view as the selected
choices and nothing of its ``meta`` or ``score`` beyond the prediction's tab (version and
percentage), so the reasons a task is in a tab have no place there. With
:func:`enable_reasons` the project's labeling config gains a read-only ``TextArea``
(:data:`~ls_cleanlab.studio.schema.REASONS_CONTROL`) under a header, between two marker
comments; our predictions then fill it with the task's top reasons (from the next audit or
refresh). The reviewer sees them on the ls-cleanlab prediction's tab of a task, and in a new
annotation started from the prediction (on a task nobody labelled, Label Studio starts one
with it): an annotation made from the prediction carries the text too, which ls-cleanlab ignores
when it reads labels. :func:`disable_reasons` cuts out exactly what was added, restoring the
config byte for byte (Label Studio accepts it even when annotations carry the text).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ls_cleanlab.errors import LabelConfigError
from ls_cleanlab.studio.schema import REASONS_CONTROL, parse_label_config

if TYPE_CHECKING:
    from ls_cleanlab.studio.client import StudioClient

__all__ = ["disable_reasons", "enable_reasons", "with_reasons", "without_reasons"]

BEGIN = "<!-- ls-cleanlab reasons: added by ls-cleanlab, removed by its reasons command -->"
END = "<!-- /ls-cleanlab reasons -->"
TITLE = "Why ls-cleanlab put this task in a review tab"


def with_reasons(config: str) -> str:
    """``config`` with the reasons text area added before the root's closing ``</View>``
    (unchanged when it has one already)."""
    schema = parse_label_config(config)
    if schema.reasons_to is not None:
        return config
    if schema.kind != "classification":
        raise LabelConfigError(
            "the reasons text area is for classification projects (<Choices>); box projects "
            "show their reasons in the Data Manager's prediction column."
        )
    at = config.rstrip().rfind("</View>")
    if at < 0:
        raise LabelConfigError("the label config does not end with </View>; add it and retry.")
    added = (
        f'{BEGIN}<Header value="{TITLE}"/><TextArea name="{REASONS_CONTROL}" '
        f'toName="{schema.to_name}" editable="false" rows="3"/>{END}'
    )
    return config[:at] + added + config[at:]


def without_reasons(config: str) -> str:
    """``config`` with what :func:`with_reasons` added cut out (unchanged without it)."""
    start = config.find(BEGIN)
    if start < 0:
        if parse_label_config(config).reasons_to is not None:
            raise LabelConfigError(
                f"the label config has a <TextArea name={REASONS_CONTROL!r}> that ls-cleanlab did "
                "not add (its marker comments are gone); remove it in the project's settings."
            )
        return config
    end = config.find(END, start)
    if end < 0:
        raise LabelConfigError(
            f"the label config lost the comment {END!r} that closes the reasons text area; "
            "remove the text area in the project's settings."
        )
    return config[:start] + config[end + len(END) :]


def enable_reasons(client: StudioClient, project: int) -> bool:
    """Add the reasons text area to ``project``'s config; returns whether it changed."""
    return _rewrite(client, project, with_reasons)


def disable_reasons(client: StudioClient, project: int) -> bool:
    """Remove the reasons text area from ``project``'s config; returns whether it changed."""
    return _rewrite(client, project, without_reasons)


def _rewrite(client: StudioClient, project: int, change: Callable[[str], str]) -> bool:
    config = client.label_config(project)
    changed = change(config)
    if changed != config:
        client.set_label_config(project, changed)
    return changed != config
