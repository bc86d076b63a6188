"""The work behind ``ls-cleanlab audit`` and ``ls-cleanlab annotators``: inputs read and checked,
the shared pipeline run, the report and tables written. Private to :mod:`ls_cleanlab.cli.main`."""

from __future__ import annotations

import argparse
import logging
import threading
from collections.abc import Sequence
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Any

import numpy as np

from ls_cleanlab.audit import load_rules
from ls_cleanlab.cli import output as _cli_output
from ls_cleanlab.cli.box_output import box_annotators_summary
from ls_cleanlab.cli.reviewers import reviewers_given
from ls_cleanlab.engine import Engine, open_engine
from ls_cleanlab.errors import InvalidOptionError, NoTasksError, StudioError
from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import (
    AuditOptions,
    FoldCheckpoints,
    ProjectAudit,
    Workspace,
    annotation_skips,
    audit_tasks,
    check_model_version,
    run_project_audit,
    skip_report,
)
from ls_cleanlab.pipeline.runs import is_ours, remove_runs
from ls_cleanlab.report import write_report
from ls_cleanlab.studio import (
    ExportFile,
    LabelSchema,
    StudioClient,
    infer_schema,
    load_export,
    parse_label_config,
    prediction_versions,
)
from ls_cleanlab.validation import check_int, check_threshold

__all__ = ["annotators", "audit"]

logger = logging.getLogger("ls_cleanlab")

#: An export's predictions serve as probabilities when one version covers this share of tasks.
PREDICTION_COVERAGE = 0.5


def _client(url: str, key: str) -> StudioClient:
    return StudioClient(url, key, retries=2)


def _read_file(path: str, what: str) -> str:
    file = Path(path)
    if not file.is_file():
        raise InvalidOptionError(f"{what} {path!r} does not exist.")
    try:
        return file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InvalidOptionError(f"cannot read {what} {path!r}: {exc}") from exc


def _export_schema(args: argparse.Namespace, tasks: Sequence[dict[str, Any]]) -> tuple[Any, bool]:
    """(schema, inferred) of an export."""
    if args.label_config:
        return parse_label_config(
            _read_file(args.label_config, "label config"), args.choices
        ), False
    return infer_schema(tasks, args.choices), True


#: How every .npy file starts (NumPy's format, any version).
NPY_MAGIC = b"\x93NUMPY"


def _pred_probs(path: str) -> np.ndarray:
    """The array of a ``--pred-probs`` file, checked for what the file can say by itself: a
    ``.npy`` array, 2-D, numbers, finite, in [0, 1] (the shape is checked against the tasks)."""
    file = Path(path)
    if not file.is_file():
        raise InvalidOptionError(f"--pred-probs file {path!r} does not exist.")
    try:
        with file.open("rb") as handle:
            head = handle.read(len(NPY_MAGIC))
    except OSError as exc:
        raise InvalidOptionError(f"cannot read --pred-probs file {path!r}: {exc}") from exc
    if head != NPY_MAGIC:
        raise InvalidOptionError(
            f"--pred-probs file {path!r} is not a .npy file (it does not start with NumPy's "
            "header); save the array with numpy.save."
        )
    try:
        probs = np.load(file, allow_pickle=False)
    except OSError as exc:
        raise InvalidOptionError(f"cannot read --pred-probs file {path!r}: {exc}") from exc
    except ValueError as exc:
        why = str(exc)
        if "allow_pickle" in why:  # an object array: Python objects, not numbers
            why = "it holds Python objects, not numbers"
        elif "reshape" in why or "EOF" in why:
            why = "it holds fewer values than its header says (cut short?)"
        raise InvalidOptionError(f"--pred-probs file {path!r} is a broken .npy: {why}.") from exc
    if not isinstance(probs, np.ndarray) or probs.ndim != 2:
        shape = getattr(probs, "shape", None)
        raise InvalidOptionError(
            f"--pred-probs file {path!r} must hold one 2-D array (tasks, classes), got shape "
            f"{shape}."
        )
    if not np.issubdtype(probs.dtype, np.number) or np.issubdtype(probs.dtype, np.complexfloating):
        raise InvalidOptionError(
            f"--pred-probs file {path!r} holds {probs.dtype} values, not real numbers."
        )
    bad = np.argwhere(~np.isfinite(probs))
    if len(bad):
        row, column = (int(v) for v in bad[0])
        raise InvalidOptionError(
            f"--pred-probs file {path!r} holds {_count(len(bad), 'value')} that are not finite "
            f"numbers (NaN or infinite), the first at row {row}, column {column}: "
            f"{probs[row, column]}."
        )
    outside = np.argwhere((probs < 0) | (probs > 1))
    if len(outside):
        row, column = (int(v) for v in outside[0])
        raise InvalidOptionError(
            f"--pred-probs file {path!r} holds {_count(len(outside), 'value')} outside [0, 1], "
            f"the first at row {row}, column {column}: {probs[row, column]}."
        )
    return probs


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _options(args: argparse.Namespace, from_version: str | None) -> AuditOptions:
    if args.folds < 2:
        raise InvalidOptionError(f"--folds must be at least 2, got {args.folds}.")
    if args.threshold is not None:
        check_threshold(args.threshold, "--threshold")
    sources = {
        "--from-model-version": args.from_model_version,
        "--pred-probs": args.pred_probs,
        "--predictions": args.predictions,
    }
    given = [flag for flag, value in sources.items() if value]
    if len(given) == 2:
        raise InvalidOptionError(f"give {given[0]} or {given[1]}, not both.")
    if len(given) > 2:
        raise InvalidOptionError(f"give one of {', '.join(given)}, not several.")
    if args.embeddings_file is not None and not Path(args.embeddings_file).is_file():
        raise InvalidOptionError(f"--embeddings-file {args.embeddings_file!r} does not exist.")
    return AuditOptions(
        model_version=args.model_version,
        from_model_version=from_version,
        pred_probs=_pred_probs(args.pred_probs) if args.pred_probs else None,
        predictions_file=args.predictions,
        embedding_field=args.embedding_field,
        embeddings_file=args.embeddings_file,
        embedder=args.embedder,
        text_embedder=args.text_embedder,
        rules=args.rules,
        choices_name=args.choices,
        n_folds=args.folds,
        seed=args.seed,
        threshold=args.threshold,
        allowed_hosts=tuple(args.allowed_host),
        local_files_root=args.local_files_root,
        dry_run=args.dry_run,
        reviewers=reviewers_given(args.reviewer),
        work_dir=Workspace(_out_dir(args.data_dir, "--data-dir")).scratch
        if args.data_dir
        else None,
    )


def _check_rules(rules: str | None, schema: LabelSchema) -> None:
    """Refuse bad rules before any work (the audit would refuse them only at its end)."""
    if rules is not None:
        load_rules(
            rules,
            list(schema.classes),
            multi_label=schema.multi_label if schema.kind == "classification" else None,
        )


def _out_dir(path: str, what: str = "the output directory") -> Path:
    out = Path(path)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InvalidOptionError(f"cannot create {what} {path!r}: {exc}") from exc
    return out


def _write(
    result: ProjectAudit,
    args: argparse.Namespace,
    out: Path,
    url: str | None,
    fetcher: MediaFetcher | None,
    inferred: bool,
) -> dict[str, Path]:
    files = _cli_output.write_tables(result, out, url)
    notes = ["The labeling schema was inferred from the tasks."] if inferred else []
    files["report.html"] = write_report(
        result,
        out / "report.html",
        studio_url=url,
        fetcher=fetcher,
        top=args.top,
        notes=notes,
        threshold=args.threshold,
    )
    return {
        "report": files["report.html"],
        "issues": files["issues.csv"],
        "annotators": files["annotators.csv"],
        "classes": files["classes.csv"],
    }


def audit(
    args: argparse.Namespace, url: str | None, key: str | None, err: IO[str]
) -> dict[str, Any]:
    """Run ``ls-cleanlab audit``; return the summary."""
    show = bool(args.progress or (not args.json and err.isatty()))
    bars = _cli_output.StageBars(err, show)
    check_int(args.top, "--top", low=0)
    check_model_version(args.model_version, "--model-version")  # LS_CLEANLAB_MODEL_VERSION's rule
    with ExitStack() as stack:
        stack.callback(bars.close)
        engine = stack.enter_context(open_engine(args.dask))
        cleanup = None
        if args.project is not None:
            assert url is not None and key is not None  # checked by the caller
            result, fetcher, inferred = _audit_project(args, url, key, bars, stack, engine)
            if result.stale_versions and not args.keep_old_runs:
                cleanup = _OldRuns(url, key, args.project, result.stale_versions)
        else:
            result, fetcher, inferred = _audit_export(args, url, key, bars, stack, engine)
        bars.close()
        files = _write(result, args, _out_dir(args.out), url, fetcher, inferred)
        summary = _cli_output.audit_summary(
            result, files=files, schema_inferred=inferred, dry_run=args.dry_run
        )
        summary["engine"] = engine.description
        if cleanup is not None:
            summary["old_runs"] = cleanup.wait(err, show)
        elif result.stale_versions:
            summary["old_runs"] = {"versions": list(result.stale_versions), "deleted": 0}
    return summary


class _OldRuns:
    """Earlier runs' predictions deleted in a background thread (Label Studio deletes one
    prediction at a time), started as soon as the tabs show the new run; the command waits for
    it only after writing the report."""

    def __init__(self, url: str, key: str, project: int, versions: tuple[str, ...]) -> None:
        self.versions = versions
        self.deleted = 0
        self.error: str | None = None
        self._thread = threading.Thread(
            target=self._run, args=(url, key, project), name="ls-cleanlab-old-runs", daemon=True
        )
        self._thread.start()

    def _run(self, url: str, key: str, project: int) -> None:
        try:
            with _client(url, key) as client:
                self.deleted = remove_runs(client, project, self.versions)
        except StudioError as error:  # the next run removes them
            self.error = str(error)

    def wait(self, err: IO[str], show: bool) -> dict[str, Any]:
        if self._thread.is_alive() and show:
            print(f"removing the predictions of {len(self.versions)} earlier run(s) in the "
                  "background; Ctrl-C leaves them for the next run", file=err)  # fmt: skip
        self._thread.join()
        if self.error is not None:
            logger.warning("earlier runs' predictions were not all removed: %s", self.error)
        found: dict[str, Any] = {"versions": list(self.versions), "deleted": self.deleted}
        if self.error is not None:
            found["error"] = self.error
        return found


def _audit_project(
    args: argparse.Namespace, url: str, key: str, bars: Any, stack: ExitStack, engine: Engine
) -> tuple[ProjectAudit, MediaFetcher, bool]:
    options = _options(args, args.from_model_version)
    client = stack.enter_context(_client(url, key))
    if args.rules is not None:
        _check_rules(args.rules, client.label_schema(args.project, args.choices))
    _out_dir(args.out)
    executor = engine.executor
    folds = None  # with a data dir, finished folds are kept until the audit is whole
    if args.data_dir is not None:
        folds = FoldCheckpoints(Workspace(args.data_dir).folds(args.project), inner=executor)
        stack.callback(folds.shutdown)
        executor = folds
    result = run_project_audit(
        client, args.project, options=options, data_dir=args.data_dir, progress=bars,
        executor=executor,
    )  # fmt: skip
    if folds is not None:
        folds.clear()
    fetcher = stack.enter_context(
        MediaFetcher(
            session=client.session,
            allowed_hosts=options.allowed_hosts,
            local_files_root=options.local_files_root,
        )
    )
    return result, fetcher, False


def _audit_export(
    args: argparse.Namespace,
    url: str | None,
    key: str | None,
    bars: Any,
    stack: ExitStack,
    engine: Engine,
) -> tuple[ProjectAudit, MediaFetcher, bool]:
    if args.dry_run:
        logger.info("--dry-run has no effect offline: an export audit writes nothing anywhere")
    tasks = ExportFile(args.export)  # read from the file on each pass, never held whole
    schema, inferred = _export_schema(args, tasks)
    _check_rules(args.rules, schema)
    version = args.from_model_version
    if version is None and args.pred_probs is None and args.predictions is None:
        counts = prediction_versions(tasks, schema.from_name)
        for ours in [v for v in counts if is_ours(v, args.model_version)]:
            del counts[ours]  # an earlier audit's suggestions are no model of the labels
        if counts:
            best, covered = counts.most_common(1)[0]
            if covered >= PREDICTION_COVERAGE * len(tasks):
                version = best
    options = _options(args, version)
    _out_dir(args.out)
    fetcher = stack.enter_context(
        MediaFetcher(
            url,
            key if url else None,
            allowed_hosts=options.allowed_hosts,
            local_files_root=options.local_files_root,
        )
    )
    result = audit_tasks(
        tasks, schema, options=options, fetcher=fetcher, executor=engine.executor, progress=bars
    )
    return result, fetcher, inferred


def annotators(args: argparse.Namespace, url: str | None, key: str | None) -> dict[str, Any]:
    """Run ``ls-cleanlab annotators``: annotator quality and agreement from the annotations alone
    (no model), which needs several annotators on shared tasks."""
    from ls_cleanlab.audit import audit_labels
    from ls_cleanlab.studio import read_tasks

    if args.project is not None:
        assert url is not None and key is not None
        with _client(url, key) as client:
            schema = client.label_schema(args.project, args.choices)
            tasks: Any = client.fetch_tasks(args.project).tasks
            names = client.user_names()
    else:
        tasks = load_export(args.export)
        schema, _ = _export_schema(args, tasks)
        names = {}
    if schema.kind == "boxes":  # the annotators' boxes alone: no detector
        boxes = audit_tasks(tasks, schema, options=AuditOptions(dry_run=True), project=args.project)
        return {"kind": "boxes", "project": args.project, "tasks": len(boxes.table.task_ids),
                "annotators": box_annotators_summary(boxes.audit, names),
                "satisficers": [a["annotator"] for a in box_annotators_summary(boxes.audit)
                                if "satisficing" in a["flags"]],
                "skipped_reasons": [s.as_json() for s in skip_report(boxes).skips]}  # fmt: skip
    table = read_tasks(tasks, schema)
    if len(table.task_ids) == 0:  # "needs several annotators" would send one to pred_probs
        raise NoTasksError(args.project)
    result = audit_labels(
        None,
        annotations=table.annotations,
        class_names=list(schema.classes),
        multi_label=schema.multi_label,
        n_tasks=len(table.task_ids),
    )
    summary = _cli_output.annotators_summary(result, names)
    summary["project"] = args.project
    summary["tasks"] = len(table.task_ids)
    summary["skipped_reasons"] = [skip.as_json() for skip in annotation_skips(table.report)]
    return summary
