"""Scale: a generated multi-label project audited in process and on a Dask LocalCluster.

The project (made once per size, cached in ``--data``): a Label Studio JSON export of N tasks
(K = 50 classes, 90% labelled by 3 of 20 annotators with their own slips and omissions, 10%
unlabelled), a label config, and an ``.npz`` of 128-dimensional embeddings by task id that carry
the true labels under noise. Each configuration runs ``audit_tasks`` on the export (read as a
stream) with the embeddings file, in a fresh process, then writes every prediction to a JSON
Lines file (streamed), and reports:

* wall time, the driver's CPU time and the workers' (their processes' CPU once they exit);
* the driver's peak memory: the peak of its anonymous resident memory (RssAnon, sampled every
  20 ms: what it holds, without the page cache of memory-mapped files) and ``ru_maxrss``;
* per task kind on the workers (features are read from the file by the driver here; folds,
  final fit, predictions, audit): count, longest wall time and largest peak (tracemalloc);
* a digest of the outputs (probabilities, audit arrays, issues, predictions file), which must be
  the same in every configuration.

Target (issue 16): N = 1,000,000 completes with the driver's peak at most 4 GB; outputs
identical in process and on Dask.

    python benchmarks/bench_scale.py --tasks 100000 1000000
    python benchmarks/bench_scale.py --tasks 20000 --modes in-process local:1   # a quick look
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

K = 50
DIM = 128
ANNOTATORS = 20
CONFIG = (
    '<View><Image name="image" value="$image"/><Choices name="labels" toName="image" '
    'choice="multiple">' + "".join(f'<Choice value="class{k:02d}"/>' for k in range(K))
    + "</Choices></View>"
)  # fmt: skip
TARGET_GB = 4.0


# -- the project --------------------------------------------------------------------------------


def generate(folder: Path, n: int, seed: int = 0) -> dict[str, Path]:
    """Write (once) the export, the label config and the embeddings of an ``n``-task project."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "export": folder / f"export-{n}.json",
        "embeddings": folder / f"embeddings-{n}.npz",
        "config": folder / "config.xml",
    }
    paths["config"].write_text(CONFIG)
    if paths["export"].is_file() and paths["embeddings"].is_file():
        return paths
    rng = np.random.default_rng(seed)
    prevalence = np.linspace(0.15, 0.01, K)
    mixing = rng.normal(0, 1, (K, DIM)) / np.sqrt(4)
    flip = rng.uniform(0.002, 0.02, ANNOTATORS)  # each annotator's slips (adds and misses)
    omit = np.where(np.arange(ANNOTATORS) < 5, 0.25, 0.02)  # five hasty annotators miss labels
    ids = np.arange(1, n + 1) * 3 + 7  # task ids with gaps
    block = 50_000
    embeddings = np.empty((n, DIM), dtype=np.float32)
    names = [f"class{k:02d}" for k in range(K)]
    with paths["export"].open("w", encoding="utf-8") as out:
        out.write("[")
        for start in range(0, n, block):
            m = min(block, n - start)
            truth = rng.random((m, K)) < prevalence
            embeddings[start : start + m] = truth @ mixing + rng.normal(0, 1, (m, DIM))
            who = np.argsort(rng.random((m, ANNOTATORS)), axis=1)[:, :3]
            labelled = rng.random(m) >= 0.1
            slips = rng.random((m, 3, K))
            for i in range(m):
                row = start + i
                annotations = []
                if labelled[i]:
                    for j, user in enumerate(who[i]):
                        given = truth[i] & (slips[i, j] >= omit[user])
                        given ^= slips[i, j] < flip[user]
                        chosen = [names[c] for c in np.flatnonzero(given)]
                        annotations.append({
                            "id": 3 * row + j + 1, "completed_by": int(user) + 1,
                            "result": [{"from_name": "labels", "to_name": "image",
                                        "type": "choices", "value": {"choices": chosen}}],
                            "was_cancelled": False, "ground_truth": False,
                            "lead_time": round(float(5 + 10 * slips[i, j, 0]), 3),
                            "created_at": f"2026-01-{1 + row % 28:02d}T{row % 24:02d}:"
                            f"{row % 60:02d}:{(row * 7 + j) % 60:02d}.000000Z",
                        })  # fmt: skip
                task = {"id": int(ids[row]), "data": {"image": f"/data/upload/1/{row}.jpg"},
                        "annotations": annotations, "predictions": [], "drafts": []}  # fmt: skip
                out.write(("," if row else "") + "\n" + json.dumps(task))
        out.write("\n]\n")
    np.savez(paths["embeddings"], task_ids=ids, embeddings=embeddings)
    return paths


# -- one configuration, in its own process ------------------------------------------------------


class MemorySampler:
    """The peak of this process's anonymous resident memory (RssAnon), sampled every 20 ms."""

    def __init__(self) -> None:
        self.peak = 0  # bytes
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    @staticmethod
    def now() -> int:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("RssAnon:"):
                    return int(line.split()[1]) * 1024
        return 0

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, self.now())

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return max(self.peak, self.now())


def digest(*arrays: Any) -> str:
    made = hashlib.sha256()
    for array in arrays:
        made.update(np.ascontiguousarray(array).tobytes())
    return made.hexdigest()[:16]


def run_one(mode: str, paths: dict[str, Path], out: Path) -> dict[str, Any]:
    import pandas as pd

    from ls_cleanlab.engine import open_engine, task_stats
    from ls_cleanlab.pipeline import AuditOptions, audit_tasks
    from ls_cleanlab.studio import ExportFile, parse_label_config

    sampler = MemorySampler()
    start, cpu = time.perf_counter(), time.process_time()
    schema = parse_label_config(paths["config"].read_text())
    options = AuditOptions(embeddings_file=paths["embeddings"], work_dir=out / "scratch")
    stats: list[Any] = []
    with open_engine(None if mode == "in-process" else mode, profile=True) as engine:
        opened = time.perf_counter() - start
        result = audit_tasks(ExportFile(paths["export"]), schema, options=options,
                             executor=engine.executor)  # fmt: skip
        stats = task_stats(engine.executor)
    audited = time.perf_counter() - start
    predictions = out / f"predictions-{mode.replace(':', '-')}.jsonl"
    written = hashlib.sha256()
    with predictions.open("w", encoding="utf-8") as handle:
        for prediction in result.predictions:
            line = json.dumps(prediction, sort_keys=True) + "\n"
            written.update(line.encode())
            handle.write(line)
    predictions.unlink()
    wall = time.perf_counter() - start
    audit = result.audit
    issues = pd.util.hash_pandas_object(audit.issues, index=False).to_numpy()
    tasks: dict[str, dict[str, float]] = {}
    for item in stats:
        entry = tasks.setdefault(item.name, {"count": 0, "wall": 0.0, "peak": 0})
        entry["count"] += 1
        entry["wall"] = max(entry["wall"], item.wall)
        entry["peak"] = max(entry["peak"], item.peak)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "mode": mode,
        "tasks": len(result.table.task_ids),
        "audited": len(result.task_ids),
        "issues": len(audit.issues),
        "wall": wall,
        "engine_start": opened,
        "audit_done": audited,
        "seconds": result.seconds,
        "driver_cpu": time.process_time() - cpu,
        "workers_cpu": children.ru_utime + children.ru_stime,
        "peak_anon": sampler.stop(),
        "max_rss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
        "task_stats": tasks,
        "digest": {
            "probs": digest(result.pred_probs),
            "audit": digest(
                audit.priority,
                audit.cell_scores,
                audit.consensus,
                audit.suggested,
                audit.present,
                audit.uncertainty,
            ),
            "issues": digest(issues),
            "predictions": written.hexdigest()[:16],
            "thresholds": digest(result.trained.thresholds) if result.trained else "",
        },
    }


# -- the table ----------------------------------------------------------------------------------


def gb(value: float) -> str:
    return f"{value / 1e9:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--tasks", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--modes", nargs="+", default=["in-process", "local:1", "local:2"])
    parser.add_argument("--data", type=Path, default=Path("/tmp/ls-cleanlab-bench-scale"))
    parser.add_argument("--run", help=argparse.SUPPRESS)  # internal: one configuration
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.run:
        paths = generate(args.data, args.n)
        out = args.data / f"run-{args.n}-{args.run.replace(':', '-')}"
        out.mkdir(parents=True, exist_ok=True)
        print(json.dumps(run_one(args.run, paths, out)))
        return
    rows = []
    for n in args.tasks:
        start = time.perf_counter()
        generate(args.data, n)
        print(f"project of {n:,} tasks ready ({time.perf_counter() - start:.0f} s)", flush=True)
        for mode in args.modes:
            env = {**os.environ, "PYTHONHASHSEED": "0"}
            done = subprocess.run(
                [sys.executable, __file__, "--run", mode, "--n", str(n), "--data", str(args.data)],
                capture_output=True, text=True, env=env, check=False,
            )  # fmt: skip
            if done.returncode != 0:
                print(f"{n:,} {mode}: FAILED\n{done.stderr[-3000:]}", flush=True)
                continue
            found = json.loads(done.stdout.strip().splitlines()[-1])
            rows.append(found)
            print(json.dumps(found), flush=True)
    print("\n| tasks | engine | wall s | driver CPU s | workers CPU s | driver peak RssAnon GB "
          "| driver max RSS GB | outputs |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    verdict = True
    for n in args.tasks:
        mine = [r for r in rows if r["tasks"] == n]
        base = mine[0]["digest"] if mine else None
        for r in mine:
            same = "identical" if r["digest"] == base else "DIFFER"
            verdict &= r["digest"] == base
            print(f"| {n:,} | {r['mode']} | {r['wall']:.0f} | {r['driver_cpu']:.0f} | "
                  f"{r['workers_cpu']:.0f} | {gb(r['peak_anon'])} | {gb(r['max_rss'])} | "
                  f"{same} |")  # fmt: skip
    print("\nper task (LocalCluster runs): kind, count, longest wall s, largest peak GB")
    for r in rows:
        for name, s in sorted(r["task_stats"].items()):
            print(f"  {r['tasks']:,} {r['mode']}: {name} x{s['count']}  {s['wall']:.1f} s  "
                  f"{gb(s['peak'])} GB")  # fmt: skip
    big = [r for r in rows if r["tasks"] >= 1_000_000 and r["mode"] != "in-process"]
    if big:
        ok = all(r["peak_anon"] <= TARGET_GB * 1e9 for r in big)
        same = "identical" if verdict else "DIFFER"
        print(
            f"\ntarget: 1M tasks on Dask, driver peak <= {TARGET_GB} GB: "
            f"{'met' if ok else 'MISSED'}; outputs {same}"
        )


if __name__ == "__main__":
    main()
