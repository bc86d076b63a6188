"""Single-label crowds with few answers per task and no model: ours against the plurality vote.

The five single-label crowd sets (:mod:`_realsets`: Duck, Dog, Face, Product, Emotion) cut to
two answers per task, to three, and to 1-6 (each task keeps a number drawn uniformly from 1-6),
the answers kept chosen at random; and generated crowds (:func:`generated`): three classes,
150 tasks, three of 15 workers per task whose accuracy is drawn from 0.4-0.9, errors spread
evenly; five classes of Dirichlet shares, 50/100/400 tasks, three of nine workers. Each at seeds
0-2 (generated: 0-7), audited by ``audit_labels`` without a model, against the plurality vote
and Dawid-Skene (:mod:`_baselines`), with the robustness benchmark's metrics
(:func:`bench_robustness.evaluate`): task accuracy, tasks left with a wrong consensus after
reviewing the top 10%, annotator Spearman against the workers' true accuracy (workers with at
least 10 answers), and the expected calibration error of the cell scores. Prints each cell and
the ratio of ours to the vote's accuracy, and the means per cut.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_sparse_crowds.py            # a few minutes
    python benchmarks/bench_sparse_crowds.py --only emotion --seeds 0 --json /tmp/sparse.json
    python benchmarks/bench_sparse_crowds.py --split     # where ours and the vote part, per cut
"""

from __future__ import annotations

import argparse
import json
import warnings
from pathlib import Path

import _realsets as realsets
import _regimes as regimes
import bench_robustness as br
import numpy as np
import pandas as pd
from _robust_cases import Case, _case

CUTS = (2, 3, 0)  # answers per task; 0: 1-6 per task
METHODS = ("ours", "vote", "dawid_skene")


def crowd_cut(root: Path, key: str, per: int, seed: int) -> Case:
    """A crowd set with ``per`` answers per task (0: 1-6 each), answers and counts at random."""
    s = realsets.load_single_label(root, key, None, seed)
    rng = regimes.rng_for(seed, f"cut {key} {per}")
    order = rng.permutation(len(s.task))
    frame = pd.DataFrame({"t": s.task[order], "w": s.worker[order], "a": s.answer[order]})
    rank = frame.groupby("t").cumcount().to_numpy()
    keep = np.full(len(s.truth), per) if per else rng.integers(1, 7, len(s.truth))
    frame = frame[rank < keep[frame["t"].to_numpy()]]
    task, answer = frame["t"].to_numpy(), frame["a"].to_numpy()
    k = len(s.class_names)
    right = pd.Series(answer == s.truth[task]).groupby(frame["w"].to_numpy())
    quality = right.mean()[right.size() >= 10]
    name = f"{key} r={per or '1-6'}"
    return _case(
        name, "sparse", name, np.eye(k, dtype=bool)[s.truth], None, task, frame["w"].to_numpy(),
        np.eye(k, dtype=bool)[answer], s.class_names, annotator_truth=quality,
        single_label=True, real=True,
    )  # fmt: skip


def generated(k: int, n: int, workers: int, seed: int, even: bool) -> Case:
    """``n`` tasks of ``k`` classes (even shares, or Dirichlet(2) shares), three distinct
    workers of ``workers`` per task, each right with its own probability from 0.4-0.9 (even) or
    0.5-0.95, its errors spread evenly over the other classes."""
    rng = regimes.rng_for(seed, f"generated {k} {n} {workers} {even}")
    shares = np.full(k, 1.0 / k) if even else rng.dirichlet(np.full(k, 2.0))
    truth = rng.choice(k, n, p=shares)
    accuracy = rng.uniform(0.4, 0.9, workers) if even else rng.uniform(0.5, 0.95, workers)
    who = np.argsort(rng.random((n, workers)), axis=1)[:, :3]
    task = np.repeat(np.arange(n), 3)
    worker = who.ravel()
    wrong = rng.random(len(task)) >= accuracy[worker]
    answer = np.where(wrong, (truth[task] + rng.integers(1, k, len(task))) % k, truth[task])
    quality = pd.Series(accuracy, index=[f"w{j}" for j in range(workers)])
    name = f"generated K={k} n={n} m={workers}"
    return _case(
        name, "sparse", name, np.eye(k, dtype=bool)[truth], None, task,
        np.array([f"w{j}" for j in worker], dtype=object), np.eye(k, dtype=bool)[answer],
        [f"c{j}" for j in range(k)], annotator_truth=quality, single_label=True,
    )  # fmt: skip


def cases(root: Path, seeds: list[int], only: str | None) -> list[tuple[str, int, object]]:
    out: list[tuple[str, int, object]] = []
    for key in realsets.SINGLE_LABEL_SETS:
        for per in CUTS:
            for seed in seeds:
                out.append((f"{key} r={per or '1-6'}", seed, (crowd_cut, root, key, per, seed)))
    for k, n, m, even in ((3, 150, 15, True), (5, 50, 9, False), (5, 100, 9, False)):
        for seed in range(8):
            out.append((f"generated K={k} n={n} m={m}", seed, (generated, k, n, m, seed, even)))
    for seed in range(8):
        out.append(("generated K=5 n=400 m=9", seed, (generated, 5, 400, 9, seed, False)))
    return [c for c in out if not only or only in c[0]]


def _row(rec: dict) -> dict:
    left, rho, ece = rec["left10"], rec["spearman"], rec["ece"]
    row = {"cell": rec["name"]}
    for m in METHODS:
        row[f"acc_{m}"] = 1.0 - rec["wrong_tasks"][m] / rec["n"]
        row[f"left10_{m}"] = left.get(m)
        row[f"rho_{m}"] = rho.get(m)
        row[f"ece_{m}"] = ece.get(m)
    return row


def split(case: Case, seed: int) -> np.ndarray:
    """Where ours and the plurality vote part on one cell: ``(6,)`` counts of tasks with a
    strict plurality that ours overrules (ours right, vote right) and of ties that ours breaks
    otherwise than the vote's coin (ours right, coin right)."""
    import _baselines as baselines

    truth = case.truth.argmax(axis=1)
    ours = br.run_ours(case, seed).consensus.argmax(axis=1)
    vote = baselines.vote(
        case.task, case.annotator, case.labels, case.n, None, single_label=True, seed=seed
    ).consensus.argmax(axis=1)
    counts = np.zeros((case.n, case.labels.shape[1]))
    np.add.at(counts, case.task, case.labels)
    strict = (counts == counts.max(axis=1, keepdims=True)).sum(axis=1) == 1
    part = (ours != vote) & (counts.sum(axis=1) > 0)
    out = []
    for where in (part & strict, part & ~strict):
        out += [where.sum(), (where & (ours == truth)).sum(), (where & (vote == truth)).sum()]
    return np.array(out)


def print_split(root: Path, seeds: list[int], only: str | None) -> None:
    sums: dict[str, np.ndarray] = {}
    for name, seed, (build, *params) in cases(root, seeds, only):
        case = build(*params)  # type: ignore[operator]
        sums[name] = sums.get(name, np.zeros(6, dtype=int)) + split(case, seed)
    print(f"{'cut':28s} strict plurality overruled: n, ours, vote | ties: n, ours, coin")
    for name, s in sums.items():
        print(f"{name:28s} {s[0]:5d} {s[1]:5d} {s[2]:5d} | {s[3]:5d} {s[4]:5d} {s[5]:5d}")


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--data", type=Path, default=br.DEFAULT_DATA)
    parser.add_argument("--seeds", default="0,1,2", help="seeds of the crowd-set cuts")
    parser.add_argument("--only", help="run the cells whose name contains this substring")
    parser.add_argument("--json", type=Path, help="write every row to this file")
    parser.add_argument("--split", action="store_true", help="where ours and the vote part")
    args = parser.parse_args()
    from threadpoolctl import threadpool_limits

    warnings.simplefilter("ignore")
    seeds = [int(s) for s in args.seeds.split(",")]
    if args.split:
        with threadpool_limits(1):
            print_split(args.data, seeds, args.only)
        return
    tabs, _ = br.tab_kinds()
    rows = []
    print(f"{'cell':28s} seed  acc ours/vote/DS        ours/vote  left10 o/v  rho o/v      ECE o/v")
    with threadpool_limits(1):
        for name, seed, (build, *params) in cases(args.data, seeds, args.only):
            case = build(*params)  # type: ignore[operator]
            rec, _ = br.evaluate(case, seed, tabs)
            row = {**_row(rec), "seed": seed}
            rows.append(row)
            print(
                f"{name:28s} {seed:4d}  {row['acc_ours']:.3f}/{row['acc_vote']:.3f}/"
                f"{row['acc_dawid_skene']:.3f}  {row['acc_ours'] / row['acc_vote']:9.3f}  "
                f"{row['left10_ours']:4d}/{row['left10_vote']:<4d}  "
                f"{row['rho_ours']:5.2f}/{row['rho_vote']:5.2f}  "
                f"{row['ece_ours']:.3f}/{row['ece_vote']:.3f}",
                flush=True,
            )
    frame = pd.DataFrame(rows)
    print("\nmeans per cut: accuracy ours / vote / Dawid-Skene, ratio ours/vote")
    means = frame.groupby("cell", sort=False)[["acc_ours", "acc_vote", "acc_dawid_skene"]].mean()
    for cell, m in means.iterrows():
        print(
            f"   {cell:28s} {m['acc_ours']:.3f} / {m['acc_vote']:.3f} / {m['acc_dawid_skene']:.3f}"
            f"   {m['acc_ours'] / m['acc_vote']:.3f}"
        )
    if args.json:
        args.json.write_text(json.dumps(rows, indent=1, default=float))
        print(f"   rows written to {args.json}")


if __name__ == "__main__":
    main()
