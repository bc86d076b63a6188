"""What the ``ls-cleanlab`` command shows and writes: progress bars, summaries (text and JSON) and
the CSV tables. Private to :mod:`ls_cleanlab.cli.main`; nothing here talks to Label Studio."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any

import numpy as np

from ls_cleanlab.audit import LabelAudit
from ls_cleanlab.cli import box_output
from ls_cleanlab.cli.fields import as_float as _float
from ls_cleanlab.cli.fields import display_width, issues_csv_frame, pad, printable, with_names
from ls_cleanlab.cli.fields import fmt as _fmt
from ls_cleanlab.cli.fields import plain as _plain
from ls_cleanlab.cli.left_out import print_left_out, print_not_audited
from ls_cleanlab.pipeline import QUEUES, ProjectAudit, queue_expected, queue_precision, skip_report
from ls_cleanlab.pipeline.gold import gold_counts
from ls_cleanlab.studio import annotator_name

__all__ = [
    "FLAG_MEANINGS",
    "StageBars",
    "annotators_summary",
    "audit_summary",
    "print_annotators",
    "print_audit",
    "write_tables",
]

#: Annotators below this quality are "of concern" even without a bias flag.
CONCERN_QUALITY = 0.7
#: Classes listed in a summary.
TOP = 5
#: Annotators in a printed agreement matrix, and of concern listed in a summary.
TOP_MATRIX = 12

FLAG_MEANINGS = {
    "satisficing": "gives fewer labels than co-annotators (or than expected) on the same tasks",
    "anchoring": "labels depend on the previous task's labels (positive dependence)",
    "gamblers_fallacy": "avoids repeating the previous task's labels (negative dependence)",
    "fatigue": "makes more errors later in a work session",
    "rushing": "makes more errors when working faster",
}


class StageBars:
    """A ``progress(stage, done, total)`` callback drawing one tqdm bar per stage on a stream."""

    def __init__(self, stream: IO[str], enabled: bool) -> None:
        self.stream = stream
        self.enabled = enabled
        self.stage: str | None = None
        self.bar: Any = None

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled:
            return
        if stage != self.stage:
            self.close()
            from tqdm import tqdm

            unit = {"model": "fold", "save": "file"}.get(stage, "task")
            self.bar = tqdm(total=total, desc=f"{stage:<8}", unit=unit, file=self.stream)
            self.stage = stage
        if self.bar.total != total:
            self.bar.total = total
        self.bar.n = done
        self.bar.refresh()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        self.bar, self.stage = None, None


def _concerns(audit: LabelAudit, names: Mapping[int, str]) -> list[dict[str, Any]]:
    frame = audit.annotators
    if frame is None or len(frame) == 0:
        return []
    out = []
    for _, row in frame.sort_values("quality", kind="stable").iterrows():
        quality = _float(row["quality"])
        low = quality is not None and quality < CONCERN_QUALITY
        if not row["flags"] and not low:
            continue
        why = [str(f) for f in str(row["flags"]).split(", ") if f]
        if low:
            why.insert(0, f"quality {quality:.2f} < {CONCERN_QUALITY}")
        out.append(
            {
                "annotator": _plain(row["annotator"]),
                "name": annotator_name(row["annotator"], names),
                "quality": quality,
                "agreement": _float(row["agreement"]),
                "n_tasks": int(row["n_tasks"]),
                "concerns": why,
            }
        )
    return out


def _top_classes(audit: LabelAudit) -> list[dict[str, Any]]:
    frame = audit.classes
    counts = frame[["n_missing", "n_spurious", "n_disagreement", "n_rule"]].sum(axis=1)
    order = np.argsort(-counts.to_numpy(), kind="stable")[:TOP]
    return [
        {
            "class": str(frame["class"].iloc[k]),
            "issues": int(counts.iloc[k]),
            "missing": int(frame["n_missing"].iloc[k]),
            "spurious": int(frame["n_spurious"].iloc[k]),
            "miss_rate": _float(frame["miss_rate"].iloc[k]),
            "spurious_rate": _float(frame["spurious_rate"].iloc[k]),
        }
        for k in order
        if counts.iloc[k] > 0
    ]


def audit_summary(
    result: ProjectAudit,
    *,
    files: Mapping[str, Path],
    schema_inferred: bool,
    dry_run: bool,
) -> dict[str, Any]:
    """The summary of an audit as JSON-ready data."""
    if result.schema.kind == "boxes":
        return box_output.box_audit_summary(
            result, files=files, schema_inferred=schema_inferred, dry_run=dry_run
        )
    audit = result.audit
    issues = audit.issues
    left_out = skip_report(result)
    push = None
    if result.push is not None:
        push = {
            "model_version": result.push.model_version,
            "sent": result.push.sent,
            "created": result.push.created,
            "deleted": result.push.deleted,
            "missing": result.push.missing,
        }
    schema = result.schema
    return {
        "project": result.project,
        "source": result.source,
        "model_version": result.model_version,
        "schema": {
            "choices": schema.from_name,
            "object": f"{schema.object_tag}:{schema.to_name}",
            "data_key": schema.data_key,
            "classes": list(schema.classes),
            "multi_label": schema.multi_label,
            "inferred": schema_inferred,
            "not_audited": list(schema.others),
        },
        "tasks": {
            "read": len(result.table.task_ids),
            "audited": len(result.task_ids),
            "labelled": int(result.labelled.sum()),
            "skipped": len(result.skipped),
        },
        "annotations": {
            "used": result.table.report.n_annotations,
            "left_out": left_out.count("annotations"),
        },
        "skipped_reasons": [skip.as_json() for skip in left_out.skips],
        "unknown_choices": dict(left_out.unknown_choices),
        "issues": {
            "total": len(issues),
            "tasks": int(issues["task"].nunique()) if len(issues) else 0,
            "by_kind": {str(k): int(v) for k, v in issues["kind"].value_counts().items() if v},
        },
        "queues": {q.key: len(result.queues.get(q.key, ())) for q in QUEUES},
        "expected": queue_expected(audit),
        "expected_precision": queue_precision(audit),
        "top_classes": _top_classes(audit),
        "annotators_of_concern": _concerns(audit, result.annotator_names),
        "gold": _gold(result),
        "files": {name: str(path) for name, path in files.items()},
        "dry_run": dry_run,
        "push": push,
        "views": dict(result.views),
        "seconds": {k: round(v, 3) for k, v in result.seconds.items()},
    }


def print_audit(summary: Mapping[str, Any], out: IO[str]) -> None:
    """The summary for people."""
    if summary.get("kind") == "boxes":
        return box_output.print_box_audit(summary, out)
    tasks, issues = summary["tasks"], summary["issues"]
    where = f"project {summary['project']}" if summary["project"] is not None else "export file"
    schema = summary["schema"]
    print(
        f"Audited {where}: {tasks['audited']} of {tasks['read']} tasks "
        f"({tasks['labelled']} labelled), probabilities from {summary['source']}.",
        file=out,
    )
    if schema["inferred"]:
        print(
            f"The labeling schema was inferred from the tasks: Choices {schema['choices']!r} "
            f"on {schema['object']} with {len(schema['classes'])} classes "
            f"({'multi' if schema['multi_label'] else 'single'}-label); pass --label-config "
            "to use the project's.",
            file=out,
        )
    print_not_audited(schema, out)
    print_left_out(summary["skipped_reasons"], out)
    kinds = ", ".join(f"{k} {v}" for k, v in issues["by_kind"].items()) or "none"
    print(f"Issues: {issues['total']} on {issues['tasks']} tasks ({kinds}).", file=out)
    titles = {q.key: q.title for q in QUEUES}
    expected = summary.get("expected", {})
    precision = summary.get("expected_precision", {})

    def tab(key: str, size: int) -> str:
        if key not in expected:
            return f"{titles[key]} {size}"
        mostly = f", {precision[key]:.0%} of them expected real" if key in precision else ""
        return f"{titles[key]} {size} (about {expected[key]:.0f} expected in all{mostly})"

    print(
        "Review queues: " + ", ".join(tab(k, v) for k, v in summary["queues"].items()),
        file=out,
    )
    if summary["top_classes"]:
        print("Classes most affected:", file=out)
        print(
            f"  {'class':<24} {'issues':>6} {'missing':>7} {'spurious':>8} {'miss rate':>9} "
            f"{'spur. rate':>10}",
            file=out,
        )
        for c in summary["top_classes"]:
            print(
                f"  {pad(c['class'], 24, cut=True)} {c['issues']:>6} {c['missing']:>7} "
                f"{c['spurious']:>8} {_fmt(c['miss_rate']):>9} {_fmt(c['spurious_rate']):>10}",
                file=out,
            )
    concerns = summary["annotators_of_concern"]
    if concerns:
        print("Annotators of concern:", file=out)
        for a in concerns[:TOP_MATRIX]:
            tasks = f"{a['n_tasks']} task{'s' if a['n_tasks'] != 1 else ''}"
            print(f"  {pad(a['name'], 12)} {', '.join(a['concerns'])} ({tasks})", file=out)
        if len(concerns) > TOP_MATRIX:
            print(f"  ... and {len(concerns) - TOP_MATRIX} more in annotators.csv", file=out)
    else:
        print("Annotators of concern: none.", file=out)
    gold = summary.get("gold") or {"tasks": 0}
    if gold["tasks"]:
        print(f"Reviewed (gold) tasks: {gold['tasks']}, out of every tab. Accuracy on them:",
              file=out)  # fmt: skip
        for a in gold["annotators"]:
            print(f"  {pad(a['name'], 12)} {a['n_correct']} of {a['n_gold']}", file=out)
    push = summary["push"]
    if push is not None:
        print(
            f"Pushed {push['created']} of {push['sent']} predictions as model version "
            f"{push['model_version']!r} (replaced {push['deleted']}).",
            file=out,
        )
        if push["missing"]:
            print(f"  Label Studio dropped {push['missing']} predictions.", file=out)
    elif summary["dry_run"]:
        print("Dry run: nothing was written to Label Studio.", file=out)
    for name, path in summary["files"].items():
        print(f"Wrote {name}: {path}", file=out)


def write_tables(result: ProjectAudit, out: Path, studio_url: str | None) -> dict[str, Path]:
    """``issues.csv``, ``annotators.csv`` and ``classes.csv`` in ``out``."""
    if result.schema.kind == "boxes":
        return box_output.write_box_tables(result, out, studio_url)
    import pandas as pd

    audit = result.audit
    issues = issues_csv_frame(audit.issues, result.task_ids, audit.priority, result.project,
                              studio_url)  # fmt: skip
    files = {"issues.csv": out / "issues.csv"}
    issues.to_csv(files["issues.csv"], index=False)
    annotators = audit.annotators if audit.annotators is not None else pd.DataFrame()
    if result.gold_accuracy is not None and "annotator" in annotators.columns:
        annotators = annotators.merge(result.gold_accuracy, on="annotator", how="left")
    annotators = with_names(annotators, result.annotator_name)
    files["annotators.csv"] = out / "annotators.csv"
    annotators.to_csv(files["annotators.csv"], index=False)
    files["classes.csv"] = out / "classes.csv"
    audit.classes.to_csv(files["classes.csv"], index=False)
    return files


def _gold(result: ProjectAudit) -> dict[str, Any]:
    tasks = int(result.gold.sum()) if result.gold is not None else 0
    rows = [
        {"annotator": _plain(who), "name": result.annotator_name(who), "n_gold": n_gold,
         "n_correct": n_correct, "accuracy": _float(accuracy)}
        for who, n_gold, n_correct, accuracy in gold_counts(result)
    ]  # fmt: skip
    return {"tasks": tasks, "annotators": rows}


def annotators_summary(audit: LabelAudit, names: Mapping[int, str] | None = None) -> dict[str, Any]:
    """Annotator table, pairwise agreement and flag meanings as JSON-ready data; ``names``
    (user id -> ``"First Last <email>"``) gives each annotator its ``name``."""
    frame = audit.annotators
    rows = []
    if frame is not None:
        for _, row in frame.iterrows():
            rows.append(
                {
                    "annotator": _plain(row["annotator"]),
                    "name": annotator_name(row["annotator"], names),
                    "quality": _float(row["quality"]),
                    "agreement": _float(row["agreement"]),
                    "n_tasks": int(row["n_tasks"]),
                    "n_shared_tasks": int(row["n_shared_tasks"]),
                    "mean_lead_time": _float(row["mean_lead_time"]),
                    "labels_per_task": _float(row["labels_per_task"]),
                    "flags": [f for f in str(row["flags"]).split(", ") if f],
                }
            )
    agree = audit.agreement
    pairwise = None
    if agree is not None:
        pairwise = {
            "annotators": [_plain(a) for a in agree.annotator_ids],
            "names": [annotator_name(a, names) for a in agree.annotator_ids],
            "agreement": [[_float(v) for v in line] for line in agree.pairwise],
            "shared_tasks": agree.shared.astype(int).tolist(),
            "alpha": _float(agree.alpha),
        }
    used = sorted({f for r in rows for f in r["flags"]})
    return {
        "annotators": rows,
        "pairwise": pairwise,
        "flags": {f: FLAG_MEANINGS.get(f, "") for f in used},
    }


def print_annotators(summary: Mapping[str, Any], out: IO[str]) -> None:
    """What was left out, the annotator table, the agreement matrix and what the flags mean."""
    print_left_out(summary.get("skipped_reasons", []), out)
    if summary.get("kind") == "boxes":
        print(f"Annotators of {summary['tasks']} tasks (bounding boxes, no detector):", file=out)
        box_output.print_box_annotators(summary["annotators"], out)
        flagged = ", ".join(map(printable, box_output.satisficer_names(summary))) or "nobody"
        print(f"Flagged for search satisficing: {flagged}.", file=out)
        return
    rows = summary["annotators"]
    width = max([12, *(display_width(r["name"]) for r in rows)])
    print(
        f"{'annotator':<{width}} {'quality':>7} {'agree':>6} {'tasks':>6} {'shared':>6} "
        f"{'lead s':>7} {'labels':>6}  flags",
        file=out,
    )
    for r in sorted(rows, key=lambda r: (r["quality"] is None, r["quality"] or 0.0)):
        print(
            f"{pad(r['name'], width)} {_fmt(r['quality']):>7} {_fmt(r['agreement'], 2):>6} "
            f"{r['n_tasks']:>6} {r['n_shared_tasks']:>6} {_fmt(r['mean_lead_time'], 1):>7} "
            f"{_fmt(r['labels_per_task'], 2):>6}  {', '.join(r['flags'])}",
            file=out,
        )
    if summary["pairwise"] is not None:
        _print_pairwise(summary["pairwise"], out)
    if summary["flags"]:
        print("\nFlags:", file=out)
        for flag, meaning in summary["flags"].items():
            print(f"  {flag}: {meaning}", file=out)


def _print_pairwise(pairwise: Mapping[str, Any], out: IO[str]) -> None:
    """The agreement matrix; of many annotators, the :data:`TOP_MATRIX` sharing the most tasks."""
    names = pairwise["names"]
    shown: np.ndarray = np.arange(len(names))
    note = ""
    if len(names) > TOP_MATRIX:
        shared = np.asarray(pairwise["shared_tasks"]).sum(axis=1)
        shown = np.sort(np.argsort(-shared, kind="stable")[:TOP_MATRIX])
        note = (
            f"; the {TOP_MATRIX} of {len(names)} annotators sharing the most tasks, --json has all"
        )
    print(
        f"\nPairwise agreement (mean Jaccard on shared tasks; Krippendorff's alpha "
        f"{_fmt(pairwise['alpha'], 2)}{note}):",
        file=out,
    )
    print(" " * 5 + "".join(f"{f'#{i}':>7}" for i in range(1, len(shown) + 1)), file=out)
    for i, row in enumerate(shown, 1):
        cells = "".join(f"{_fmt(pairwise['agreement'][row][col], 2):>7}" for col in shown)
        print(f"{f'#{i}':<5}{cells}  {printable(names[row])}", file=out)
