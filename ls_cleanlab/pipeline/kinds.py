"""Task kinds: how a project of one labeling kind is audited, end to end.

A kind turns task JSON into a :class:`~ls_cleanlab.pipeline.options.ProjectAudit` (its own
reading of the annotations, its own evidence, its own review queues and the predictions that carry
them); the rest of the pipeline (fetching, pushing, tabs, refreshes, the report's frame) is shared.
:func:`task_kind` picks the kind from the schema (``LabelSchema.kind``, set by
:func:`~ls_cleanlab.studio.parse_label_config` from the config's control tag).

A kind is a class with ``name``, ``queues`` and ``audit(...)``, registered in :data:`KINDS`
under the name its schemas carry: :mod:`.classification` (``Choices``) and :mod:`.boxes`
(``RectangleLabels``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from concurrent.futures import Executor
from typing import Any, Protocol

from ls_cleanlab.audit import Rules
from ls_cleanlab.errors import LabelConfigError
from ls_cleanlab.features import FeatureCache
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline.boxes import Boxes
from ls_cleanlab.pipeline.classification import Classification
from ls_cleanlab.pipeline.options import AuditOptions, Progress, ProjectAudit
from ls_cleanlab.pipeline.queues import Queue
from ls_cleanlab.studio import LabelSchema

__all__ = ["KINDS", "TaskKind", "task_kind"]


class TaskKind(Protocol):
    """What the pipeline needs of a task kind."""

    name: str
    #: The review tabs this kind fills, in the order they are created.
    queues: tuple[Queue, ...]

    def audit(
        self,
        tasks: Sequence[Mapping[str, Any]],
        schema: LabelSchema,
        *,
        options: AuditOptions,
        rules: Rules,
        fetcher: MediaFetcher | None = None,
        cache: FeatureCache | None = None,
        executor: Executor | None = None,
        progress: Progress | None = None,
        project: int | None = None,
    ) -> ProjectAudit[Any]: ...


#: Registered kinds by the name :attr:`LabelSchema.kind` carries.
KINDS: Mapping[str, TaskKind] = {"classification": Classification(), "boxes": Boxes()}


def task_kind(schema: LabelSchema) -> TaskKind:
    """The kind that audits projects of ``schema``; a clear error for a kind not supported."""
    found = KINDS.get(schema.kind)
    if found is None:
        raise LabelConfigError(
            f"projects of kind {schema.kind!r} cannot be audited yet; supported kinds: "
            f"{', '.join(sorted(KINDS))}."
        )
    return found
