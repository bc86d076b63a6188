"""Bad input to ``ls-cleanlab``, one probe per check: every one exits 2 (3 when Label Studio is
unreachable) with exactly one ``error:`` line naming the real cause and one ``fix:`` line, no
traceback, and nothing on stdout."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG, annotation, make_images
from tests.reliability.helpers import run_cli, traceback_free

N = 12


@pytest.fixture(scope="module")
def root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An export of 12 labelled image tasks (two annotators), its config, and bad files."""
    root = tmp_path_factory.mktemp("cli-inputs")
    _, truth = make_images(N, seed=3, side=32)
    tasks = [{"id": i + 1, "data": {"image": f"/x/{i}.png"},
              "annotations": [annotation(1, truth[i]), annotation(2, truth[i])]}
             for i in range(N)]  # fmt: skip
    (root / "export.json").write_text(json.dumps(tasks))
    (root / "config.xml").write_text(LABEL_CONFIG)
    probs = np.clip(truth * 0.8 + 0.1, 0, 1)
    np.save(root / "probs.npy", probs)
    nan = probs.copy()
    nan[3, 2] = np.nan
    np.save(root / "nan.npy", nan)
    np.save(root / "above.npy", probs * 2)
    np.save(root / "flat.npy", probs.ravel())
    np.save(root / "narrow.npy", probs[:, :3])
    np.save(root / "objects.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    (root / "junk.npy").write_bytes(b"junk")
    (root / "short.npy").write_bytes((root / "probs.npy").read_bytes()[:140])
    (root / "a-file").write_text("")
    files = {
        "not-json.json": '[{"id": 1, "data": ',
        "dict.json": '{"tasks": []}',
        "numbers.json": "[1, 2]",
        "no-id.json": '[{"data": {"image": "/x.png"}}]',
        "twice.json": '[{"id": 1, "data": {}}, {"id": 1, "data": {}}]',
        "no-data.json": '[{"id": 1}]',
        "json-min.json": '[{"id": 1, "image": "/x.png", "objects": "sun", "annotator": 1}]',
        "json-lines.json": '{"id": 1, "data": {}}\n{"id": 2, "data": {}}\n',
        "no-user.json": json.dumps([{"id": 1, "data": {"image": "/x"}, "annotations": [{}]}]),
        "bad-result.json": json.dumps(
            [{"id": 1, "data": {"image": "/x"}, "annotations": [{"completed_by": 1, "result": 3}]}]
        ),
        "no-choices.json": '[{"id": 1, "data": {"text": "x"}, "annotations": []}]',
        "latin1.json": "",
        "not-xml.xml": "<View><Choices",
        "no-choices.xml": '<View><Text name="t" value="$t"/></View>',
        "single.xml": LABEL_CONFIG.replace(' choice="multiple"', ""),
        "one-choice.xml": '<View><Image name="image" value="$image"/><Choices name="objects" '
        'toName="image"><Choice value="sun"/></Choices></View>',
        "rules.yaml": "implies:\n  sun: [airport]\n",
        "implies.yaml": "implies:\n  sun: [grass]\n",
        "broken-rules.yaml": "implies: [: :\n",
    }
    for name, text in files.items():
        (root / name).write_text(text)
    (root / "latin1.json").write_bytes('[{"id": 1, "data": {"t": "caf\xe9"}}]'.encode("latin-1"))
    (root / "unlabelled.json").write_text(
        json.dumps(
            [{"id": i + 1, "data": {"image": f"/x/{i}.png"}, "annotations": []} for i in range(N)]
        )
    )
    np.savez(root / "ids.npz", task_ids=np.arange(N) + 1, embeddings=np.eye(N)[:, :4])
    np.savez(root / "ids-off.npz", task_ids=np.arange(N) + 500, embeddings=np.ones((N, 3)))
    (root / "texts.json").write_text(json.dumps(
        [{"id": i, "data": {"text": f"text {i}"}, "annotations": [{"completed_by": 1, "result": [
            {"from_name": "topic", "to_name": "text", "type": "choices",
             "value": {"choices": ["ab"[i % 2]]}}]}]} for i in range(3)]))  # fmt: skip
    unknown = [annotation(1, truth[i]) for i in range(N)]
    for given in unknown:
        given["result"][0]["value"]["choices"] = ["unicorn"]
    cancelled = [{**annotation(1, truth[i]), "was_cancelled": True} for i in range(N)]
    for name, given in (("unknown-choices", unknown), ("cancelled", cancelled)):
        (root / f"{name}.json").write_text(json.dumps(
            [{"id": i + 1, "data": {"image": f"/x/{i}.png"}, "annotations": [given[i]]}
             for i in range(N)]))  # fmt: skip
    (root / "one-annotator.json").write_text(json.dumps(
        [{"id": i, "data": {"image": "/x"}, "annotations": [annotation(1, truth[i])]}
         for i in range(N)]))  # fmt: skip
    return root


Probe = tuple[list[str], int, str]
#: name -> (arguments, with {root} for the probe's folder; exit code; the cause, in the error)
PROBES: dict[str, Probe] = {
    "export-missing": (["audit", "{root}/missing.json"], 2, "does not exist"),
    "export-not-json": (["audit", "{root}/not-json.json"], 2, "not valid JSON (line 1"),
    "export-not-utf8": (["audit", "{root}/latin1.json"], 2, "cannot read export file"),
    "export-not-a-list": (["audit", "{root}/dict.json"], 2, "not the list of tasks"),
    "export-item-not-object": (["audit", "{root}/numbers.json"], 2, "item 0 is a int"),
    "export-json-min": (["audit", "{root}/json-min.json"], 2,
                        "sit at the top level, as in a JSON-MIN or CSV export"),
    "export-json-lines": (["audit", "{root}/json-lines.json"], 2,
                          "holds a JSON dict and more after it (JSON lines?)"),
    "task-without-id": (["audit", "{root}/no-id.json", "--label-config", "{root}/config.xml"], 2,
                        "no integer 'id'"),
    "task-twice": (["audit", "{root}/twice.json", "--label-config", "{root}/config.xml"], 2,
                   "task 1 appears twice"),
    "task-without-data": (["audit", "{root}/no-data.json", "--label-config", "{root}/config.xml"],
                          2, "no 'data' object"),
    "annotation-without-user": (["audit", "{root}/no-user.json", "--label-config",
                                 "{root}/config.xml"], 2, "no user id in 'completed_by'"),
    "result-not-a-list": (["audit", "{root}/bad-result.json", "--label-config",
                           "{root}/config.xml"], 2, "'result' that is not a list"),
    "schema-not-inferable": (["audit", "{root}/no-choices.json"], 2, "hold no choices results"),
    "config-missing": (["audit", "{root}/export.json", "--label-config", "{root}/nope.xml"], 2,
                       "label config"),
    "config-not-xml": (["audit", "{root}/export.json", "--label-config", "{root}/not-xml.xml"],
                       2, "XML"),
    "config-without-choices": (["audit", "{root}/export.json", "--label-config",
                                "{root}/no-choices.xml"], 2, "Choices"),
    "config-one-single-choice": (["audit", "{root}/export.json", "--label-config",
                                  "{root}/one-choice.xml"], 2,
                                 "single-label Choices tag 'objects' has one choice ('sun')"),
    "choices-unknown": (["audit", "{root}/export.json", "--choices", "nope"], 2, "'nope'"),
    "rules-unknown-class": (["audit", "{root}/export.json", "--rules", "{root}/rules.yaml"], 2,
                            "airport"),
    "rules-implies-single-label": (["audit", "{root}/export.json", "--label-config",
                                    "{root}/single.xml", "--rules", "{root}/implies.yaml"], 2,
                                   "implies['sun'] needs a multi-label tag"),
    "rules-broken-yaml": (["audit", "{root}/export.json", "--rules", "{root}/broken-rules.yaml"],
                          2, "rules"),
    "rules-missing": (["audit", "{root}/export.json", "--rules", "{root}/none.yaml"], 2, "none"),
    "probs-missing": (["audit", "{root}/export.json", "--pred-probs", "{root}/none.npy"], 2,
                      "does not exist"),
    "probs-junk": (["audit", "{root}/export.json", "--pred-probs", "{root}/junk.npy"], 2,
                   "is not a .npy file"),
    "probs-cut-short": (["audit", "{root}/export.json", "--pred-probs", "{root}/short.npy"], 2,
                        "fewer values than its header says"),
    "probs-objects": (["audit", "{root}/export.json", "--pred-probs", "{root}/objects.npy"], 2,
                      "Python objects, not numbers"),
    "probs-nan": (["audit", "{root}/export.json", "--pred-probs", "{root}/nan.npy"], 2,
                  "not finite numbers (NaN or infinite), the first at row 3, column 2"),
    "probs-above-one": (["audit", "{root}/export.json", "--pred-probs", "{root}/above.npy"], 2,
                        "outside [0, 1]"),
    "probs-one-dimension": (["audit", "{root}/export.json", "--pred-probs", "{root}/flat.npy"],
                            2, "2-D array"),
    "probs-wrong-shape": (["audit", "{root}/export.json", "--pred-probs", "{root}/narrow.npy"],
                          2, "shape (12, 5)"),
    "probs-rows-not-summing": (["audit", "{root}/export.json", "--label-config",
                                "{root}/single.xml", "--pred-probs", "{root}/probs.npy"], 2,
                               "pred_probs rows must sum to 1 for the single-label tag 'objects'"),
    "probs-and-version": (["audit", "{root}/export.json", "--pred-probs", "{root}/probs.npy",
                           "--from-model-version", "v"], 2, "not both"),
    "folds-above-labelled": (["audit", "{root}/export.json", "--embeddings-file",
                              "{root}/ids.npz", "--folds", "7"], 2,
                             "needs at least 14 (2 for each of n_folds=7)"),
    "folds-one": (["audit", "{root}/export.json", "--folds", "1"], 2, "--folds must be at least 2"),
    "threshold-above-one": (["audit", "{root}/export.json", "--threshold", "1.5"], 2,
                            "--threshold"),
    "threshold-nan": (["audit", "{root}/export.json", "--threshold", "nan"], 2, "--threshold"),
    "top-negative": (["audit", "{root}/export.json", "--top", "-1"], 2, "--top"),
    "seed-negative": (["audit", "{root}/export.json", "--seed", "-1"], 2, "seed"),
    "model-version-blank": (["audit", "{root}/export.json", "--model-version", " "], 2,
                            "--model-version must be 1-100 letters"),
    "model-version-slash": (["audit", "{root}/export.json", "--model-version", "a b/c"], 2,
                            "--model-version must be 1-100 letters, digits, '-', '_' or '.', "
                            "got 'a b/c'"),
    "allowed-host-url": (["audit", "{root}/export.json", "--allowed-host", "http://x/"], 2,
                         "'http://x/' is not a host name"),
    "local-root-missing": (["audit", "{root}/export.json", "--local-files-root", "{root}/none"],
                           2, "is not a directory"),
    "embedder-unknown": (["audit", "{root}/export.json", "--embedder", "magic"], 2, "magic"),
    "embedder-unknown-texts": (["audit", "{root}/texts.json", "--embedder", "magic"], 2,
                               "unknown image embedder 'magic'; choose one of ['auto', "
                               "'descriptors', 'efficientnet_lite0', 'torchvision', 'open_clip']"),
    "embeddings-file-missing": (["audit", "{root}/export.json", "--embeddings-file",
                                 "{root}/none.npz"], 2, "none.npz"),
    "out-under-a-file": (["audit", "{root}/export.json", "--pred-probs", "{root}/probs.npy",
                          "--out", "{root}/a-file/out"], 2, "cannot create the output directory"),
    "data-dir-under-a-file": (["audit", "{root}/export.json", "--pred-probs", "{root}/probs.npy",
                               "--data-dir", "{root}/a-file/data"], 2, "cannot create --data-dir"),
    "url-not-http": (["audit", "--project", "3", "--url", "ftp://x", "--api-key", "k"], 2,
                     "--url is not an http:// or https:// URL of a host (scheme 'ftp')"),
    "url-without-host": (["audit", "--project", "3", "--url", "http://", "--api-key", "k"], 2,
                         "--url is not an http"),
    "url-bad-port": (["audit", "--project", "3", "--url", "http://h:port", "--api-key", "k"], 2,
                     "--url is not an http"),
    "key-missing": (["audit", "--project", "3", "--url", "http://127.0.0.1:9"], 2,
                    "no Label Studio API key"),
    "source-both": (["audit", "{root}/export.json", "--project", "3"], 2, "not both"),
    "source-neither": (["audit"], 2, "either --project ID or an EXPORT.json"),
    "studio-unreachable": (["audit", "--project", "3", "--url", "http://127.0.0.1:1",
                            "--api-key", "k"], 3, "could not reach Label Studio"),
    "nothing-labelled": (["audit", "{root}/unlabelled.json", "--label-config",
                          "{root}/config.xml"], 2, "only 0 of the 12 tasks are labelled"),
    "choices-unknown-to-config": (["audit", "{root}/unknown-choices.json", "--label-config",
                                   "{root}/config.xml"], 2, "Left out: 12 annotations (hold "
                                  "choices the label config does not know, 'unicorn' x12)"),
    "annotations-all-cancelled": (["audit", "{root}/cancelled.json", "--label-config",
                                   "{root}/config.xml"], 2, "Left out: 12 annotations (skipped "
                                  "by the annotator"),
    "embeddings-ids-off": (["audit", "{root}/export.json", "--embeddings-file",
                            "{root}/ids-off.npz"], 2,
                           "none of the 12 tasks (ids 1..12) is among its task_ids (ids 500..511)"),
    "annotators-without-shared-tasks": (["annotators", "{root}/one-annotator.json"], 2,
                                        "annotator"),
}  # fmt: skip


#: name -> what its ``fix:`` line must say, where the generic fix of its error type misleads.
FIXES = {
    "config-without-choices": "needs a <Choices> (or <RectangleLabels>) tag",
    "nothing-labelled": "fix: label more tasks, or give probabilities",
    # the cause named is the annotations left out: labelling more tasks is not the fix
    "choices-unknown-to-config": "fix: add the unknown choices named above to the labeling "
    "config (an export's --label-config), or relabel those annotations, or give probabilities",
    "annotations-all-cancelled": "fix: annotate the tasks whose annotations were skipped "
    "(cancelled annotations are never used), or give probabilities",
}


@pytest.mark.parametrize("name", list(PROBES))
def test_bad_input(name: str, root: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    monkeypatch.delenv("LABEL_STUDIO_API_KEY", raising=False)
    argv, expected, cause = PROBES[name]
    args = [a.format(root=root) for a in argv]
    if "--out" not in args and args[0] == "audit":
        args += ["--out", str(tmp_path / "out")]
    code, stdout, stderr = run_cli(*args)
    assert (code, stdout) == (expected, ""), stderr
    assert traceback_free(stderr), stderr
    error = next(line for line in stderr.splitlines() if line.startswith("error: "))
    assert cause in error, stderr
    fix = next(line for line in stderr.splitlines() if line.startswith("fix: "))
    assert FIXES.get(name, "") in fix, stderr


def test_the_environment_url_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LABEL_STUDIO_URL", "ftp://studio")
    code, _, stderr = run_cli("audit", "--project", "3", "--api-key", "k")
    assert code == 2 and traceback_free(stderr)
    assert "LABEL_STUDIO_URL is not an http" in stderr and "fix: give Label Studio's" in stderr
