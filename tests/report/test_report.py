"""The HTML report: content, escaping, links and thumbnails; and it opens in headless Chromium
(Debian's ``chromium``, ``make chromium``) with no console errors, its charts and issue rows in
the rendered DOM, and a screenshot."""

from __future__ import annotations

import base64
import dataclasses
import re
import shutil
import struct
import subprocess
import warnings
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.pipeline import AuditOptions, ProjectAudit, audit_tasks
from ls_cleanlab.report import figures, render_report, task_link, write_report
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.synthetic_images import CLASSES, annotation, make_images
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG

TEXT_CONFIG = (
    '<View><Text name="text" value="$text"/><Choices name="sentiment" toName="text">'
    '<Choice value="good"/><Choice value="&lt;bad&gt;"/></Choices></View>'
)


@pytest.fixture(scope="module")
def image_audit(tmp_path_factory: pytest.TempPathFactory) -> tuple[ProjectAudit, Path]:
    """60 labelled image tasks from three annotators (the third drops labels) and 10 unlabelled,
    audited with near-true probabilities."""
    root = tmp_path_factory.mktemp("report-media")
    images, truth = make_images(70, seed=5)
    rng = np.random.default_rng(1)
    tasks = []
    for i, image in enumerate(images):
        image.save(root / f"{i}.png")
        task: dict[str, Any] = {"id": 500 + i, "data": {"image": f"/data/local-files/?d={i}.png"}}
        task["annotations"] = []
        if i < 60:
            for user in (11, 12, 13):
                given = truth[i].copy()
                if user == 13 and given.sum() >= 2:
                    given[rng.choice(np.flatnonzero(given))] = 0
                task["annotations"].append(annotation(user, given, lead=1.5 * user))
        tasks.append(task)
    probs = np.clip(truth * 0.85 + rng.uniform(0.02, 0.1, truth.shape), 0, 1)
    result = audit_tasks(
        tasks, parse_label_config(CONFIG), options=AuditOptions(pred_probs=probs), project=7
    )
    return result, root


def text_audit() -> ProjectAudit:
    rng = np.random.default_rng(0)
    tasks = []
    for i in range(40):
        good = i % 2 == 0
        text = f"<script>alert({i})</script> review {i}" if i == 3 else f"review {i} " * 60
        annotations = []
        for u in (1, 2, 3):
            chosen = "good" if (good or (u == 3 and i < 8)) else "<bad>"
            result = {"from_name": "sentiment", "to_name": "text", "type": "choices",
                      "value": {"choices": [chosen]}}  # fmt: skip
            annotations.append({"completed_by": u, "lead_time": 3.0, "result": [result]})
        tasks.append({"id": i + 1, "data": {"text": text}, "annotations": annotations})
    probs = np.array([[0.9, 0.1] if i % 2 == 0 else [0.1, 0.9] for i in range(40)])
    probs = np.abs(probs + rng.normal(0, 0.02, probs.shape))
    probs /= probs.sum(axis=1, keepdims=True)
    return audit_tasks(
        tasks, parse_label_config(TEXT_CONFIG), options=AuditOptions(pred_probs=probs)
    )


class _Dom(HTMLParser):
    """Counts what the tests look for in (rendered) HTML."""

    def __init__(self) -> None:
        super().__init__()
        self.charts: list[str] = []
        self.issue_rows = 0
        self.links: list[str] = []
        self.sources: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        classes = found.get("class", "").split()
        if tag == "img":
            self.sources.append(found.get("src", ""))
            if "chart" in classes:
                self.charts.append(found.get("id", ""))
        if tag == "tr" and "issue" in classes:
            self.issue_rows += 1
        if tag == "a":
            self.links.append(found.get("href", ""))
        if tag in ("script", "link", "iframe") and (found.get("src") or found.get("href")):
            self.sources.append(found.get("src") or found.get("href") or "")


def parse(text: str) -> _Dom:
    dom = _Dom()
    dom.feed(text)
    return dom


CHARTS = ["fig-overview", "fig-quality", "fig-cooccurrence", "fig-agreement", "fig-lead-time"]


def test_report_content(image_audit: tuple[ProjectAudit, Path]) -> None:
    result, root = image_audit
    with MediaFetcher(local_files_root=root) as fetcher:
        text = render_report(result, studio_url="http://ls.example:8080/", fetcher=fetcher, top=25)
    dom = parse(text)
    assert dom.charts == CHARTS
    tasks_with_issues = result.audit.issues["task"].nunique()
    assert dom.issue_rows == min(25, tasks_with_issues) > 0
    assert all(s.startswith("data:image/") for s in dom.sources)  # self-contained
    thumbs = [s for s in dom.sources if s.startswith("data:image/jpeg")]
    assert len(thumbs) == dom.issue_rows
    assert all(
        link.startswith("http://ls.example:8080/projects/7/data?task=") for link in dom.links
    )
    assert len(dom.links) == dom.issue_rows
    for name in CLASSES:
        assert f"<td>{name}" in text  # the class table
    assert 'class="annotator-row"><td>13</td>' in text and "satisficing" in text


def test_report_without_media_or_url_shows_references(
    image_audit: tuple[ProjectAudit, Path],
) -> None:
    result, _ = image_audit
    dom = parse(render_report(result))
    assert dom.links == [] and not any(s.startswith("data:image/jpeg") for s in dom.sources)
    assert "/data/local-files/?d=" in render_report(result, top=3)


def test_text_report_escapes_user_strings() -> None:
    result = text_audit()
    text = render_report(result, top=100)
    assert "<script>alert" not in text and "&lt;script&gt;alert(3)&lt;/script&gt;" in text
    assert "&lt;bad&gt;" in text and "<bad>" not in text
    dom = parse(text)
    assert "fig-cooccurrence" in dom.charts  # single-label: given vs suggested classes
    assert dom.issue_rows > 0 and 'class="snippet"' in text
    assert "…" in text  # long texts are cut


def test_base64_texts_are_shown_decoded() -> None:
    config = TEXT_CONFIG.replace('value="$text"', 'value="$text" encoding="base64unicode"')
    tasks = []
    for i in range(12):
        text = base64.b64encode(f"critique n° {i}".encode()).decode()
        annotations = []
        for u, chosen in ((1, "good"), (2, "<bad>")):  # they disagree on every task
            result = {"from_name": "sentiment", "to_name": "text", "type": "choices",
                      "value": {"choices": [chosen]}}  # fmt: skip
            annotations.append({"completed_by": u, "result": [result]})
        tasks.append({"id": i + 1, "data": {"text": text}, "annotations": annotations})
    probs = np.full((12, 2), 0.5)
    audit = audit_tasks(tasks, parse_label_config(config), options=AuditOptions(pred_probs=probs))
    snippets = re.findall(r'class="snippet">([^<]*)<', render_report(audit, top=12))
    assert snippets and all(s.startswith("critique n° ") for s in snippets)


def test_annotators_appear_by_name_where_known() -> None:
    result = dataclasses.replace(
        text_audit(), annotator_names={1: "Ann <b>Lee</b> <ann@example.com>", 2: "Bo <bo@x.org>"}
    )
    text = render_report(result, top=10)
    cells = re.findall(r'<tr class="annotator-row"><td>([^<]*)</td>', text)
    assert sorted(cells) == ["3", "Ann &lt;b&gt;Lee&lt;/b&gt; &lt;ann@example.com&gt;",
                             "Bo &lt;bo@x.org&gt;"]  # fmt: skip


NAMES = [
    "\U0001f600 joy",
    "\u2728 spark",
    "猫",
    "\U0001f44d\U0001f3fd ok",
    "$\\frac$",
    "$5 or $6",
    "\u0600\u0661\u0662",  # a format character that prints
    "tab\there",  # a control without a glyph
    "\U00013430\U0001bca0",  # format controls a chart draws
]


def test_names_the_font_lacks_or_with_dollars_are_charted_without_warnings() -> None:
    n = len(NAMES)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # matplotlib's "Glyph ... missing from font(s)"
        pngs = [
            figures.overview_bars(dict.fromkeys(NAMES, 1), {"errors": 2}),
            figures.agreement_heatmap(np.full((n, n), 0.5), NAMES),
            figures.quality_vs_lead_time(np.full(n, 0.5), np.arange(float(n)), np.ones(n), NAMES),
        ]
    assert all(base64.b64decode(png).startswith(b"\x89PNG") for png in pngs)


@pytest.mark.parametrize(
    ("name", "drawn"),
    [
        ("plain é", "plain é"),  # in DejaVu Sans, drawn as is
        ("cost $x$", "cost \\$x\\$"),  # a name, never mathtext
        ("猫 \U0001f44d\U0001f3fd", "□ □"),  # one box per character the font lacks, marks in it
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467!", "□!"),  # a ZWJ family, one box
        ("\u2764\ufe0f", "\u2764\ufe0f"),  # the font's heart, the selector drawn as nothing
        ("猫^2 猫`", "□^2 □`"),  # modifier symbols after a box are characters, not marks
        ("\u0600\u0661", "□\u0661"),  # the Arabic number sign prints: boxed, not passed on
        ("a\U00013430b\U0001bca0", "a□b□"),  # Egyptian and shorthand format controls print
        ("a\tb\nc", "a□b\nc"),  # a tab has no glyph; a newline breaks the line
    ],
    ids=[
        "latin",
        "dollars",
        "cjk-and-skin-tone",
        "zwj-sequence",
        "variation-selector",
        "modifier-symbols",
        "prepended-format-character",
        "drawn-format-controls",
        "controls",
    ],
)
def test_chart_labels(name: str, drawn: str) -> None:
    assert figures._label(name) == drawn


def test_task_link() -> None:
    assert task_link("http://h:8080/", 3, 9) == "http://h:8080/projects/3/data?task=9"
    assert task_link(None, 3, 9) is None and task_link("http://h", None, 9) is None


# -- in a browser ---------------------------------------------------------------------------------


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("no chromium; run `make chromium`")
    return found


def open_in_chromium(page: Path, screenshot: Path) -> tuple[str, list[str]]:
    """(rendered DOM, console messages) of the page in headless Chromium; takes a screenshot."""
    common = [
        chromium(), "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run",
        "--enable-logging=stderr", "--v=0", "--hide-scrollbars",
        f"--user-data-dir={page.parent / 'profile'}",
    ]  # fmt: skip
    dumped = subprocess.run(
        [*common, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120
    )
    shot = subprocess.run(
        [*common, "--window-size=1280,3000", f"--screenshot={screenshot}", page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    console = [
        line for run in (dumped, shot) for line in run.stderr.splitlines() if ":CONSOLE" in line
    ]
    return dumped.stdout, console


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", header[16:24])


def test_report_opens_in_chromium(image_audit: tuple[ProjectAudit, Path], tmp_path: Path) -> None:
    result, root = image_audit
    page = tmp_path / "report.html"
    with MediaFetcher(local_files_root=root) as fetcher:
        write_report(result, page, studio_url="http://ls.example:8080", fetcher=fetcher)
    screenshot = tmp_path / "report.png"
    dom_text, console = open_in_chromium(page, screenshot)
    assert console == []
    dom = parse(dom_text)
    assert dom.charts == CHARTS
    assert dom.issue_rows == result.audit.issues["task"].nunique() > 0
    assert png_size(screenshot) == (1280, 3000)
    assert screenshot.stat().st_size > 50_000  # charts and thumbnails, not a blank page


def test_the_console_check_catches_broken_images(tmp_path: Path) -> None:
    """The harness itself: a broken inline image and a script error reach the console lines."""
    page = tmp_path / "bad.html"
    result = text_audit()
    text = render_report(result).replace("data:image/png;base64,", "data:image/png;base64,AAAA", 1)
    page.write_text(text.replace("</main>", "<script>undefinedFunction()</script></main>"))
    _, console = open_in_chromium(page, tmp_path / "bad.png")
    assert any("broken image: fig-" in line for line in console)
    assert any("undefinedFunction" in line for line in console)
