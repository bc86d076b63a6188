"""Text projects in a real Label Studio for the reliability probes: tasks imported with their
annotations in one request, as an export re-imported would be."""

from __future__ import annotations

from typing import Any

import numpy as np

from ls_cleanlab.testing.admin import TEXT_MULTI, Admin

__all__ = ["text_project"]

WORDS = {
    "sports": "match goal team league coach score season player stadium",
    "politics": "election vote senate minister policy party campaign law parliament",
    "tech": "software chip startup code cloud robot network data algorithm",
}
FILLER = "the a news today people said new week".split()


def _result(chosen: list[str]) -> list[dict[str, Any]]:
    return [{"from_name": "topics", "to_name": "text", "type": "choices",
             "value": {"choices": chosen}}]  # fmt: skip


def text_project(admin: Admin, title: str, n: int, *, seed: int = 0) -> dict[str, Any]:
    """A multi-label project of ``n`` texts on one to three topics, each annotated (one in ten
    with a topic dropped), plus one annotation its annotator skipped (``was_cancelled``)."""
    rng = np.random.default_rng(seed)
    tasks = []
    for _ in range(n):
        topics = [t for t in WORDS if rng.random() < 0.45] or ["sports"]
        words = [w for t in topics for w in rng.choice(WORDS[t].split(), 4)]
        words += list(rng.choice(FILLER, 4))
        rng.shuffle(words)
        given = topics if rng.random() > 0.1 else topics[:1]
        tasks.append(
            {"data": {"text": " ".join(words)}, "annotations": [{"result": _result(given)}]}
        )
    project = admin.project(title, TEXT_MULTI)
    ids = admin.import_tasks(project, tasks)
    admin.annotate(ids[0], ["tech"], from_name="topics", to_name="text", was_cancelled=True)
    return {"id": project, "ids": ids}
