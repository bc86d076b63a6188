"""The gold variant of the robustness benchmark: real crowds with the truth of a few tasks known.

On the real crowd sets (CIFAR-10N with its three human labelings, the five single-label crowd
sets) a random ``GOLD_SHARE`` of the labelled tasks is gold (their truth revealed, no gold
annotation among the crowd's), and the audit is run again. Its calibration is then fitted to
gold instead of the held-out votes (:mod:`ls_cleanlab.annotators.tempering`); the expected
calibration error of the cell scores is measured on the other tasks, beside the same number
without gold, and the consensus cell accuracy there too.
"""

from __future__ import annotations

from typing import Any

import _robust_metrics as rm
import numpy as np

__all__ = ["GOLD_SHARE", "gold_cell", "gold_record", "print_gold"]

GOLD_SHARE = 0.05


def gold_cell(name: str) -> bool:
    """Whether the cell is a real crowd with truth: the variant runs there (with a library
    whose audit takes gold)."""
    import inspect

    from ls_cleanlab import audit_labels

    if "gold" not in inspect.signature(audit_labels).parameters:
        return False
    return name.startswith("crowd/") or name == "cifar10n Y_random1..3"


def gold_record(case: Any, plain: Any, seed: int, run: Any) -> dict[str, float]:
    """ECE and accuracy on the non-gold tasks without gold (``plain``, the audit already run)
    and with ``GOLD_SHARE`` of the tasks gold (``run(case, seed, gold=...)``)."""
    from ls_cleanlab.annotators.gold import Gold

    labelled = np.flatnonzero(np.bincount(case.task, minlength=case.n) > 0)
    rng = np.random.default_rng(seed)
    picked = rng.choice(labelled, size=max(1, round(GOLD_SHARE * len(labelled))), replace=False)
    tasks = np.zeros(case.n, dtype=bool)
    tasks[picked] = True
    labels = np.where(tasks[:, None], case.truth, False).astype(np.int8)
    with_gold = run(case, seed, gold=Gold(np.zeros(len(case.task), dtype=bool), tasks, labels))
    rows = np.zeros(case.n, dtype=bool)
    rows[labelled] = True
    rows &= ~tasks
    out: dict[str, float] = {"gold_tasks": int(tasks.sum()), "scored_tasks": int(rows.sum())}
    for key, res in (("plain", plain), ("gold", with_gold)):
        cons = res.consensus.astype(bool)
        out[f"ece_{key}"] = rm.ece(res.cell_scores[rows], cons[rows] != case.truth[rows])
        out[f"accuracy_{key}"] = rm.cell_accuracy(cons, case.truth, rows)
    return out


def print_gold(records: list[dict]) -> None:
    rows = [r for r in records if "gold" in r]
    if not rows:
        return
    print(f"\n== calibration from gold: {GOLD_SHARE:.0%} of the tasks gold, measured on the others")
    print(f"   {'cell':34s} {'gold':>5s} {'ECE no gold':>12s} {'ECE gold':>9s} {'acc no gold':>12s}"
          f" {'acc gold':>9s}")  # fmt: skip
    for r in rows:
        g = r["gold"]
        mark = "" if g["ece_gold"] <= rm.ECE_TARGET else "!"
        print(
            f"   {r['name']:34s} {g['gold_tasks']:5d} {g['ece_plain']:12.3f} "
            f"{g['ece_gold']:8.3f}{mark:1s} {g['accuracy_plain']:12.4f} {g['accuracy_gold']:9.4f}"
        )
    met = sum(r["gold"]["ece_gold"] <= rm.ECE_TARGET for r in rows)
    print(f"   ECE <= {rm.ECE_TARGET} with gold on {met} of {len(rows)} sets")
