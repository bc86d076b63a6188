"""Tests of user rules: parsing from dicts and YAML, errors, violations."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ls_cleanlab.audit.rules import Rules, RulesError, find_violations, load_rules

NAMES = ["airplane", "airport", "runway", "indoor", "outdoor"]


def test_dict_and_yaml_give_the_same_rules(tmp_path: Path) -> None:
    spec = {
        "implies": {"runway": ["airport"], "airplane": "airport"},
        "excludes": [["indoor", "outdoor"]],
    }
    path = tmp_path / "rules.yaml"
    path.write_text(
        "implies:\n  runway: [airport]\n  airplane: airport\nexcludes:\n  - [indoor, outdoor]\n"
    )
    from_dict = load_rules(spec, NAMES)
    assert from_dict == load_rules(path, NAMES) == load_rules(str(path), NAMES)
    assert from_dict.implies == ((2, 1), (0, 1))
    assert from_dict.excludes == ((3, 4),)
    assert load_rules(from_dict, NAMES) is from_dict
    assert not load_rules(None, NAMES)


@pytest.mark.parametrize(
    ("spec", "match"),
    [
        pytest.param(
            {"implies": {"runway": ["hangar"]}}, "unknown class 'hangar'", id="unknown-target"
        ),
        pytest.param(
            {"implies": {"ship": ["airport"]}},
            r"implies\['ship'\]: unknown class",
            id="unknown-source",
        ),
        pytest.param(
            {"excludes": [["indoor", "cave"]]},
            r"excludes\[0\]: unknown class 'cave'",
            id="unknown-exclude",
        ),
        pytest.param({"implies": {"runway": ["runway"]}}, "cannot imply itself", id="self"),
        pytest.param({"excludes": [["indoor"]]}, "at least two", id="short-group"),
        pytest.param({"excludes": [["indoor", "indoor"]]}, "names a class twice", id="twice"),
        pytest.param({"excludes": "indoor"}, "list of groups", id="excludes-string"),
        pytest.param({"implies": ["runway"]}, "map a class", id="implies-list"),
        pytest.param({"requires": {}}, r"unknown rule kind\(s\) \['requires'\]", id="kind"),
        pytest.param(["implies"], "must be a mapping", id="not-mapping"),
        pytest.param({"implies": {"runway": [3]}}, "must be strings", id="not-string"),
    ],
)
def test_bad_rules_are_named(spec: object, match: str) -> None:
    with pytest.raises(RulesError, match=match):
        load_rules(spec, NAMES)


def test_implies_needs_a_multi_label_tag() -> None:
    spec = {"implies": {"runway": ["airport"]}, "excludes": [["indoor", "outdoor"]]}
    with pytest.raises(RulesError, match=r"implies\['runway'\] needs a multi-label tag"):
        load_rules(spec, NAMES, multi_label=False)
    assert load_rules(spec, NAMES, multi_label=True).implies == ((2, 1),)
    only_excludes = {"excludes": [["indoor", "outdoor"]]}
    assert load_rules(only_excludes, NAMES, multi_label=False).excludes == ((3, 4),)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(RulesError, match="does not exist"):
        load_rules(tmp_path / "missing.yaml", NAMES)
    broken = tmp_path / "broken.yaml"
    broken.write_text("implies: [unclosed\n")
    with pytest.raises(RulesError, match="not valid YAML"):
        load_rules(broken, NAMES)


def test_violations_blame_the_likelier_cell() -> None:
    rules = load_rules(
        {"implies": {"runway": ["airport"]}, "excludes": [["indoor", "outdoor"]]}, NAMES
    )
    labels = np.array(
        [
            [0, 0, 1, 0, 0],  # runway without airport: airport likely -> airport missing
            [0, 0, 1, 0, 0],  # runway without airport: airport unlikely -> runway spurious
            [0, 1, 1, 0, 0],  # fine
            [0, 0, 0, 1, 1],  # indoor and outdoor: indoor less likely -> blamed
        ]
    )
    present = np.full(labels.shape, 0.5)
    present[0, 1], present[0, 2] = 0.8, 0.9
    present[1, 1], present[1, 2] = 0.05, 0.3
    present[3, 3], present[3, 4] = 0.2, 0.9
    found = find_violations(labels, rules, present)
    assert list(found.task) == [0, 1, 3]
    assert list(found.cls) == [1, 2, 3]
    assert list(found.other) == [2, 1, 4]
    assert list(found.kind) == ["implies", "implies", "excludes"]
    none = find_violations(labels, Rules(), present)
    assert len(none.task) == 0
