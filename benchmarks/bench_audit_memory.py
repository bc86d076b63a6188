"""Peak memory of the audit and of "Needs another annotator" at scale (they run in blocks).

A generated multi-label project like ``bench_scale.py``'s, without the model: N tasks (default
1,000,000), K = 50 classes, 90% labelled by 3 of 20 annotators (2% cell flips, lead times and
timestamps), probabilities from a noisy model. Each stage runs in a fresh process:
``audit_labels`` (the calibrated consensus, scores, issues, tables, bias tests) and
``next_annotator_rows``; reported are the wall time and the peak of the process's anonymous
resident memory (RssAnon, sampled every 20 ms) above what the inputs held before the call (the
probabilities, 400 MB at a million tasks, and the annotations). ``--reference PATH`` runs the
same with another checkout's ``ls_cleanlab`` first on ``PYTHONPATH`` (e.g. ``git archive`` of
main before the blocks) and prints the ratio, and whether both produced the same outputs.

Target (issue 16): each under 4 GB at 1,000,000 tasks, so an in-process audit fits the driver's
budget. Run with ``OPENBLAS_NUM_THREADS=1``:

    python benchmarks/bench_audit_memory.py --n 1000000 [--reference /tmp/main-before]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from typing import Any

import numpy as np

K, ANNOTATORS, PER_TASK = 50, 20, 3
TARGET_GB = 4.0


def make_inputs(n: int, seed: int = 0) -> tuple[np.ndarray, Any, np.ndarray]:
    """Probabilities, annotations and which tasks are labelled."""
    from ls_cleanlab import Annotations

    rng = np.random.default_rng(seed)
    truth = rng.random((n, K)) < np.linspace(0.15, 0.01, K)
    probs = 1 / (1 + np.exp(-(np.where(truth, 2.5, -2.5) + rng.normal(0, 1.5, (n, K)))))
    labelled = rng.random(n) < 0.9
    task = np.repeat(np.flatnonzero(labelled), PER_TASK)
    who = np.argsort(rng.random((int(labelled.sum()), ANNOTATORS)), axis=1)[:, :PER_TASK]
    labels = truth[task] ^ (rng.random((len(task), K)) < 0.02)
    names = np.array([f"annotator{j:02d}" for j in range(ANNOTATORS)])
    ann = Annotations(
        task=task,
        annotator=names[who.ravel()],
        labels=labels.astype(np.int8),
        lead_time=rng.gamma(3, 3, len(task)),
        created_at=rng.exponential(20, len(task)).cumsum(),
    )
    return probs, ann, labelled


def _anon() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("RssAnon"):
                return int(line.split()[1]) * 1024
    return 0


def run_stage(stage: str, n: int) -> dict[str, Any]:
    """One stage in this process: its wall time, peak RssAnon above the inputs, a digest."""
    import ls_cleanlab.audit.label_audit  # noqa: F401  (imports are not the stage's memory)
    from ls_cleanlab import audit_labels
    from ls_cleanlab.pipeline.next_annotator import next_annotator_rows

    probs, ann, labelled = make_inputs(n)
    before, peak, done = _anon(), [0], threading.Event()

    def sample() -> None:
        while not done.is_set():
            peak[0] = max(peak[0], _anon())
            time.sleep(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    if stage == "audit":
        audit = audit_labels(probs, annotations=ann)
        arrays = [audit.priority, audit.cell_scores, audit.present, audit.suggested]
    else:
        arrays = [next_annotator_rows(probs, labelled, ann, multi_label=True)]
    wall = time.perf_counter() - start
    done.set()
    sampler.join()
    made = hashlib.sha256()
    for array in arrays:
        made.update(np.ascontiguousarray(array).tobytes())
    return {"wall": wall, "inputs": before, "peak": max(peak[0], _anon()) - before,
            "digest": made.hexdigest()[:16]}  # fmt: skip


def _fresh(stage: str, n: int, path: str | None) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": path} if path else dict(os.environ)
    done = subprocess.run(
        [sys.executable, __file__, "--stage", stage, "--n", str(n)],
        capture_output=True, text=True, env=env, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--stages", nargs="+", default=["audit", "next"])
    parser.add_argument("--reference", help="a checkout whose ls_cleanlab to compare with")
    parser.add_argument("--stage", help=argparse.SUPPRESS)  # internal: one stage, here
    args = parser.parse_args()
    if args.stage:
        print(json.dumps(run_stage(args.stage, args.n)))
        return
    print(f"N={args.n:,} K={K}, {PER_TASK} of {ANNOTATORS} annotators on 90% of the tasks")
    for stage in args.stages:
        ours = _fresh(stage, args.n, None)
        line = (f"  {stage:6s} ours: {ours['wall']:6.0f} s, peak {ours['peak'] / 1e9:5.2f} GB "
                f"above the inputs ({ours['inputs'] / 1e9:.2f} GB)")  # fmt: skip
        if args.reference:
            ref = _fresh(stage, args.n, args.reference)
            same = "same outputs" if ref["digest"] == ours["digest"] else "OUTPUTS DIFFER"
            line += (f"; reference: {ref['wall']:6.0f} s, peak {ref['peak'] / 1e9:5.2f} GB, "
                     f"ratio {ref['peak'] / max(ours['peak'], 1):.2f}x; {same}")  # fmt: skip
        verdict = "PASS" if ours["peak"] / 1e9 <= TARGET_GB else "FAIL"
        print(f"{line}; target <= {TARGET_GB} GB: {verdict}", flush=True)


if __name__ == "__main__":
    main()
