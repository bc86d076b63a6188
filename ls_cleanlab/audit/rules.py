"""User rules about which labels go together, and their violations.

A project lead often knows facts the data cannot teach reliably: a runway implies an airport, an
image cannot be both "indoor" and "outdoor". Rules are given as a dict or a YAML file::

    implies:
      runway: [airport]
      airplane: [airport, runway]
    excludes:
      - [indoor, outdoor]

``implies: {A: [B, ...]}`` means every task labelled ``A`` must also carry each ``B``;
``excludes: [[A, C, ...]]`` means at most one class of each group may be given on one task.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ls_cleanlab.errors import InvalidOptionError

__all__ = ["RuleViolations", "Rules", "RulesError", "find_violations", "load_rules"]


class RulesError(InvalidOptionError):
    """The rules are malformed or name a class the project does not have."""


@dataclass(frozen=True)
class Rules:
    """Rules over class indices.

    Attributes
    ----------
    implies : tuple of (int, int)
        Pairs ``(a, b)``: a task given ``a`` must be given ``b``.
    excludes : tuple of tuple of int
        Groups of classes of which at most one may be given on a task.
    """

    implies: tuple[tuple[int, int], ...] = ()
    excludes: tuple[tuple[int, ...], ...] = ()

    def __bool__(self) -> bool:
        return bool(self.implies or self.excludes)


def _class_index(name: Any, position: Mapping[str, int], where: str) -> int:
    if not isinstance(name, str):
        raise RulesError(f"{where}: class names must be strings, got {name!r}.")
    if name not in position:
        known = ", ".join(repr(c) for c in list(position)[:20])
        raise RulesError(f"{where}: unknown class {name!r}; the classes are {known}.")
    return position[name]


def load_rules(rules: Any, class_names: Sequence[str], *, multi_label: bool | None = None) -> Rules:
    """Read rules from a dict, a YAML file path, or an existing :class:`Rules`.

    Raises
    ------
    RulesError
        On an unknown key, a malformed entry, a class not in ``class_names``, or an ``implies``
        rule for a tag known to be single-label (``multi_label=False``), where every task given
        its class would break it; the message names the entry.
    """
    if rules is None:
        return Rules()
    if isinstance(rules, Rules):
        return rules
    if isinstance(rules, (str, os.PathLike)):
        path = Path(rules)
        if not path.is_file():
            raise RulesError(f"rules file {str(path)!r} does not exist.")
        import yaml

        try:
            rules = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise RulesError(f"rules file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(rules, Mapping):
        raise RulesError(
            f"rules must be a mapping with 'implies' and/or 'excludes', got {type(rules).__name__}."
        )
    unknown = set(rules) - {"implies", "excludes"}
    if unknown:
        raise RulesError(
            f"unknown rule kind(s) {sorted(map(str, unknown))}; use 'implies' and 'excludes'."
        )
    position = {name: k for k, name in enumerate(class_names)}
    implies: list[tuple[int, int]] = []
    raw_implies = rules.get("implies") or {}
    if not isinstance(raw_implies, Mapping):
        raise RulesError("implies must map a class to the list of classes it implies.")
    for source, targets in raw_implies.items():
        a = _class_index(source, position, f"implies[{source!r}]")
        if isinstance(targets, str):
            targets = [targets]
        if not isinstance(targets, Sequence):
            raise RulesError(f"implies[{source!r}] must be a list of class names.")
        for target in targets:
            b = _class_index(target, position, f"implies[{source!r}]")
            if a == b:
                raise RulesError(f"implies[{source!r}]: a class cannot imply itself.")
            implies.append((a, b))
    excludes: list[tuple[int, ...]] = []
    raw_excludes = rules.get("excludes") or []
    if isinstance(raw_excludes, (str, Mapping)) or not isinstance(raw_excludes, Sequence):
        raise RulesError("excludes must be a list of groups, each a list of class names.")
    for g, group in enumerate(raw_excludes):
        if isinstance(group, str) or not isinstance(group, Sequence) or len(group) < 2:
            raise RulesError(f"excludes[{g}] must list at least two class names.")
        members = tuple(_class_index(c, position, f"excludes[{g}]") for c in group)
        if len(set(members)) != len(members):
            raise RulesError(f"excludes[{g}] names a class twice.")
        excludes.append(members)
    if multi_label is False and implies:
        name = class_names[implies[0][0]]
        raise RulesError(
            f"implies[{name!r}] needs a multi-label tag: on a single-label one each task has one "
            f"class, so every task given {name!r} would break it. Drop the rule."
        )
    return Rules(implies=tuple(implies), excludes=tuple(excludes))


@dataclass(frozen=True)
class RuleViolations:
    """Cells that break a rule, one row each.

    Attributes
    ----------
    task, cls : ndarray of int, shape (V,)
        The task, and the class whose given value the rule says is wrong (for ``implies`` the
        implied class when it is the likelier mistake, else the implying class).
    other : ndarray of int, shape (V,)
        The other class of the rule.
    kind : ndarray of str, shape (V,)
        ``"implies"`` or ``"excludes"``.
    """

    task: np.ndarray
    cls: np.ndarray
    other: np.ndarray
    kind: np.ndarray


def find_violations(labels: np.ndarray, rules: Rules, present: np.ndarray) -> RuleViolations:
    """Find every rule broken by an ``(n, K)`` 0/1 label matrix.

    ``present`` is the ``(n, K)`` estimated probability that each class is truly present; it
    decides which cell of a broken rule is blamed: for ``a implies b`` with ``b`` absent, ``b``
    is blamed (missing) when ``P(b) >= 1 - P(a)``, else ``a`` (spurious); for an excluded pair
    the class with the smaller ``P`` is blamed.
    """
    given = labels.astype(bool)
    tasks: list[np.ndarray] = []
    blamed: list[np.ndarray] = []
    others: list[np.ndarray] = []
    kinds: list[np.ndarray] = []
    for a, b in rules.implies:
        rows = np.flatnonzero(given[:, a] & ~given[:, b])
        blame_b = present[rows, b] >= 1 - present[rows, a]
        tasks.append(rows)
        blamed.append(np.where(blame_b, b, a))
        others.append(np.where(blame_b, a, b))
        kinds.append(np.full(len(rows), "implies"))
    for group in rules.excludes:
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                rows = np.flatnonzero(given[:, a] & given[:, b])
                blame_a = present[rows, a] < present[rows, b]
                tasks.append(rows)
                blamed.append(np.where(blame_a, a, b))
                others.append(np.where(blame_a, b, a))
                kinds.append(np.full(len(rows), "excludes"))

    def join(parts: list[np.ndarray], dtype: Any) -> np.ndarray:
        return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)

    return RuleViolations(
        task=join(tasks, np.int64),
        cls=join(blamed, np.int64),
        other=join(others, np.int64),
        kind=join(kinds, object),
    )
