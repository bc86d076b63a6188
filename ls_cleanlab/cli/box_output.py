"""What ``ls-cleanlab`` shows and writes for a bounding-box project: the summary (text and JSON),
the annotator table and the CSV files. Private to :mod:`ls_cleanlab.cli`; :mod:`.output`
dispatches here when the audit's schema is of kind ``"boxes"``."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

from ls_cleanlab.cli.fields import (
    as_float,
    display_width,
    fmt,
    issues_csv_frame,
    pad,
    plain,
    printable,
    with_names,
)
from ls_cleanlab.cli.left_out import print_left_out, print_not_audited
from ls_cleanlab.pipeline import ProjectAudit, skip_report
from ls_cleanlab.pipeline.box_queues import BOX_QUEUES
from ls_cleanlab.pipeline.box_review import BoxReview
from ls_cleanlab.studio import BoxTable, annotator_name

__all__ = [
    "box_annotators_summary",
    "box_audit_summary",
    "box_gold_summary",
    "print_box_annotators",
    "print_box_audit",
    "print_box_gold",
    "satisficer_names",
    "write_box_tables",
]

_METRICS = ("quality", "recall", "precision", "localization", "box_noise", "satisficing",
            "satisficing_p")  # fmt: skip


def box_annotators_summary(
    review: BoxReview, names: Mapping[int, str] | None = None
) -> list[dict[str, Any]]:
    """One entry per annotator: its id and name (``names``: user id to name, as
    :func:`~ls_cleanlab.studio.annotator_name` shows them), measures against the consensus, and
    flags."""
    rows = []
    for _, row in review.annotators.iterrows():
        who = plain(row["annotator"])
        entry: dict[str, Any] = {"annotator": who, "name": annotator_name(who, names)}
        entry.update({name: as_float(row[name]) for name in _METRICS})
        entry["n_tasks"], entry["n_boxes"] = int(row["n_tasks"]), int(row["n_boxes"])
        entry["flags"] = [f for f in str(row["flags"]).split(", ") if f]
        rows.append(entry)
    return rows


def box_audit_summary(
    result: ProjectAudit[BoxReview],
    *,
    files: Mapping[str, Path],
    schema_inferred: bool,
    dry_run: bool,
) -> dict[str, Any]:
    """The summary of a box audit as JSON-ready data (``"kind": "boxes"``)."""
    review = result.audit
    issues = review.issues
    table = result.table
    assert isinstance(table, BoxTable)
    left_out = skip_report(result)
    push = None
    if result.push is not None:
        push = {"model_version": result.push.model_version, "sent": result.push.sent,
                "created": result.push.created, "deleted": result.push.deleted,
                "missing": result.push.missing}  # fmt: skip
    schema = result.schema
    classes = review.classes
    kinds = [c for c in classes.columns if c.startswith("n_")]
    return {
        "kind": "boxes",
        "project": result.project,
        "source": result.source,
        "model_version": result.model_version,
        "schema": {
            "rectangles": schema.from_name,
            "object": f"{schema.object_tag}:{schema.to_name}",
            "data_key": schema.data_key,
            "classes": list(schema.classes),
            "inferred": schema_inferred,
            "not_audited": list(schema.others),
        },
        "tasks": {
            "read": len(table.task_ids),
            "audited": len(result.task_ids),
            "labelled": int(result.labelled.sum()),
            "skipped": len(result.skipped),
        },
        "boxes": {
            "read": table.report.n_boxes,
            "left_out": left_out.count("boxes"),
            "clipped": table.report.clipped,
            "objects": int(review.boxes.consensus.keep.sum()),
            "detector_boxes": sum(len(a) for p in review.detections or [] for a in p),
            "suggested": len(review.suggested.task),
        },
        "annotations": {"left_out": left_out.count("annotations")},
        "skipped_reasons": [skip.as_json() for skip in left_out.skips],
        "unknown_labels": dict(left_out.unknown_choices),
        "issues": {
            "total": len(issues),
            "tasks": int(issues["task"].nunique()) if len(issues) else 0,
            "by_kind": {str(k): int(v) for k, v in issues["kind"].value_counts().items() if v},
        },
        "queues": {q.key: len(result.queues.get(q.key, ())) for q in BOX_QUEUES},
        "classes": [
            {
                "class": str(row["class"]),
                "objects": int(row["objects"]),
                **{k[2:]: int(row[k]) for k in kinds},
            }
            for _, row in classes.iterrows()
        ],
        "annotators": box_annotators_summary(review, result.annotator_names),
        "satisficers": [
            plain(a)
            for a in review.annotators["annotator"][review.annotators["satisficer"].astype(bool)]
        ],
        "gold": box_gold_summary(result),
        "files": {name: str(path) for name, path in files.items()},
        "dry_run": dry_run,
        "push": push,
        "views": dict(result.views),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def box_gold_summary(result: ProjectAudit[BoxReview]) -> dict[str, Any]:
    """Reviewed (gold) images and, per annotator who annotated some, the gold boxes it drew
    (recall) and its boxes there that are gold ones (precision), with the counts."""
    tasks = int(result.gold.sum()) if result.gold is not None else 0
    table = result.gold_accuracy
    rows = []
    if table is not None:
        # records keep each column's type (iterrows would make an int user id a float)
        for row in table[table["n_gold"] > 0].to_dict("records"):
            who = plain(row["annotator"])
            rows.append({
                "annotator": who, "name": result.annotator_name(who),
                "n_gold": int(row["n_gold"]), "gold_boxes": int(row["gold_boxes"]),
                "found": int(row["gold_found"]), "recall": as_float(row["gold_recall"]),
                "drawn": int(row["gold_drawn"]), "precision": as_float(row["gold_precision"]),
            })  # fmt: skip
    return {"tasks": tasks, "annotators": rows}


def print_box_gold(gold: Mapping[str, Any], out: IO[str]) -> None:
    """The reviewed images' lines of the box summary (nothing without gold)."""
    if not gold.get("tasks"):
        return
    print(f"Reviewed (gold) images: {gold['tasks']}, out of every tab. Boxes on them:", file=out)
    for a in gold["annotators"]:
        print(
            f"  {pad(str(a['name']), 12)} found {a['found']} of {a['gold_boxes']} gold boxes "
            f"(recall {fmt(a['recall'], 2)}), {a['found']} of its {a['drawn']} boxes gold "
            f"(precision {fmt(a['precision'], 2)}) on {a['n_gold']} images",
            file=out,
        )


def print_box_annotators(rows: list[dict[str, Any]], out: IO[str]) -> None:
    """The annotator table of a box project, by name."""
    width = max([12, *(display_width(str(r.get("name", r["annotator"]))) for r in rows)])
    print(
        f"  {'annotator':<{width}} {'quality':>7} {'recall':>6} {'prec.':>6} {'IoU':>5} "
        f"{'noise':>6} {'drop':>5} {'p':>8} {'tasks':>5} {'boxes':>5}  flags",
        file=out,
    )
    for r in sorted(rows, key=lambda r: (r["quality"] is None, r["quality"] or 0.0)):
        p = "–" if r["satisficing_p"] is None else f"{r['satisficing_p']:.1e}"
        print(
            f"  {pad(str(r.get('name', r['annotator'])), width)} {fmt(r['quality'], 3):>7} "
            f"{fmt(r['recall'], 2):>6} {fmt(r['precision'], 2):>6} {fmt(r['localization'], 2):>5} "
            f"{fmt(r['box_noise'], 3):>6} {fmt(r['satisficing'], 2):>5} {p:>8} "
            f"{r['n_tasks']:>5} {r['n_boxes']:>5}  {', '.join(r['flags'])}",
            file=out,
        )
    print(
        "  (quality: F1 of recall and precision against the consensus; IoU: mean IoU with the "
        "consensus box; noise: relative edge noise; drop, p: recall lost on crowded images and "
        "its Cochran-Armitage p-value)",
        file=out,
    )


def satisficer_names(summary: Mapping[str, Any]) -> list[str]:
    """The names of the annotators a summary flags for search satisficing."""
    named = {r["annotator"]: r.get("name", r["annotator"]) for r in summary["annotators"]}
    return [str(named.get(a, a)) for a in summary["satisficers"]]


def print_box_audit(summary: Mapping[str, Any], out: IO[str]) -> None:
    """The summary of a box audit for people."""
    tasks, issues, boxes = summary["tasks"], summary["issues"], summary["boxes"]
    where = f"project {summary['project']}" if summary["project"] is not None else "export file"
    print(
        f"Audited {where} (bounding boxes): {tasks['audited']} of {tasks['read']} tasks "
        f"({tasks['labelled']} labelled), {boxes['read']} boxes; detector boxes from "
        f"{summary['source']}.",
        file=out,
    )
    if summary["schema"]["inferred"]:
        print("The labeling schema was inferred from the tasks; pass --label-config to use the "
              "project's.", file=out)  # fmt: skip
    print_not_audited(summary["schema"], out)
    print_left_out(summary["skipped_reasons"], out)
    kinds = ", ".join(f"{k} {v}" for k, v in issues["by_kind"].items()) or "none"
    print(f"Objects: {boxes['objects']}; suggested boxes: {boxes['suggested']}.", file=out)
    print(f"Findings: {issues['total']} on {issues['tasks']} tasks ({kinds}).", file=out)
    titles = {q.key: q.title for q in BOX_QUEUES}
    print("Review queues: " + ", ".join(f"{titles[k]} {v}" for k, v in summary["queues"].items()),
          file=out)  # fmt: skip
    print("Annotators:", file=out)
    print_box_annotators(summary["annotators"], out)
    flagged = satisficer_names(summary)
    print(
        "Flagged for search satisficing (stops after the first objects): "
        + (", ".join(printable(str(a)) for a in flagged) if flagged else "nobody") + ".",
        file=out,
    )  # fmt: skip
    print_box_gold(summary.get("gold") or {}, out)
    push = summary["push"]
    if push is not None:
        print(f"Pushed {push['created']} of {push['sent']} predictions as model version "
              f"{push['model_version']!r} (replaced {push['deleted']}).", file=out)  # fmt: skip
        if push["missing"]:
            print(f"  Label Studio dropped {push['missing']} predictions.", file=out)
    elif summary["dry_run"]:
        print("Dry run: nothing was written to Label Studio.", file=out)
    for name, path in summary["files"].items():
        print(f"Wrote {name}: {path}", file=out)


def write_box_tables(
    result: ProjectAudit[BoxReview], out: Path, studio_url: str | None
) -> dict[str, Path]:
    """``issues.csv``, ``annotators.csv`` (with names) and ``classes.csv`` of a box audit in
    ``out``."""
    review = result.audit
    issues = issues_csv_frame(review.issues, result.task_ids, review.priority, result.project,
                              studio_url)  # fmt: skip
    files = {name: out / name for name in ("issues.csv", "annotators.csv", "classes.csv")}
    issues.to_csv(files["issues.csv"], index=False)
    with_names(review.annotators, result.annotator_name).to_csv(files["annotators.csv"],
                                                                index=False)  # fmt: skip
    review.classes.to_csv(files["classes.csv"], index=False)
    return files
