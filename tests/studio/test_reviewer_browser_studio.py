"""The reviewer's loop in a real browser (Debian's ``chromium`` and ``chromedriver`` driven by
selenium): log in to a real Label Studio, open each review tab, check its columns and its first
tasks' order, open a task and see the tab's reasons in the task list beside it (widened once, as
Label Studio remembers) and, the project having opted in (``ls-cleanlab reasons --enable``), the
task's own reasons in the labeling view on the ls-cleanlab prediction's tab; after a ground-truth
annotation arrives through the API and the project is refreshed, the task leaves the tab (polled
for up to 10 s); ``ls-cleanlab reasons --disable`` then restores the labeling config exactly.
Screenshots are kept in ``test-artifacts/`` (gitignored)."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from ls_cleanlab import StudioClient
from ls_cleanlab.cli.main import main
from ls_cleanlab.pipeline import (
    QUEUES,
    AuditOptions,
    Workspace,
    refresh_project,
    run_project_audit,
    save_audit_state,
)
from ls_cleanlab.testing.admin import Admin
from ls_cleanlab.testing.label_studio import EMAIL, PASSWORD, Studio
from ls_cleanlab.testing.synthetic_images import CLASSES, label_config, make_images

pytestmark = pytest.mark.studio

CONFIG = label_config("tags")  # the name Admin.annotate writes

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
SHOWN = ("ID", "Annotated by", "Prediction score", "Prediction results", "image")
HIDDEN = ("Inner ID", "Created at", "Updated at", "Upload filename", "Prediction model versions")


@pytest.fixture(scope="module")
def driver() -> Iterator[Any]:
    chromium, chromedriver = shutil.which("chromium"), shutil.which("chromedriver")
    if chromium is None or chromedriver is None:
        pytest.skip("needs Debian's chromium and chromium-driver (make chromium)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                 "--window-size=1500,950", "--disable-gpu"):  # fmt: skip
        options.add_argument(flag)
    browser = webdriver.Chrome(service=Service(chromedriver), options=options)
    browser.set_page_load_timeout(120)
    try:
        yield browser
    finally:
        browser.quit()


def wait_for(check: Callable[[], Any], timeout: float, what: str, every: float = 0.5) -> Any:
    end = time.monotonic() + timeout
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def text(browser: Any) -> str:
    return str(browser.execute_script("return document.body.innerText"))


def headers(browser: Any) -> list[str]:
    """The column titles of the tab's table (the annotation count's is an icon, untitled)."""
    found = browser.execute_script(
        "const h = document.querySelector('[class*=\"table-head\"]');return h ? h.innerText : ''"
    )
    return [line.strip() for line in str(found).splitlines() if line.strip()]


def shown_ids(browser: Any) -> list[int]:
    """Task ids in the order the tab's table shows them (its ID column)."""
    script = (
        'return Array.from(document.querySelectorAll(\'[class*="row-wrapper"], '
        '[class*="table__row"]\')).map(r => r.innerText)'
    )
    ids = []
    for row in browser.execute_script(script):
        first = str(row).split()[:1]
        if first and first[0].isdigit() and int(first[0]) not in ids:
            ids.append(int(first[0]))
    return ids


@pytest.fixture(scope="module")
def reviewed(studio: Studio, admin: Admin, client: StudioClient,
             tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:  # fmt: skip
    """40 image tasks, 32 labelled by a careful and a hasty annotator, audited and pushed."""
    images, truth = make_images(40, seed=11)
    folder = studio.local_files_root / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    for i, image in enumerate(images):
        image.save(folder / f"{i}.png")
    project = admin.project("reviewer in a browser", CONFIG)
    cli = ["--project", str(project), "--url", studio.url, "--api-key", studio.personal_token]
    assert main(["reasons", "--enable", *cli]) == 0  # the reasons in the labeling view
    storage = {"project": project, "path": str(folder), "title": "images", "use_blob_urls": True}
    admin.call("POST", "/api/storages/localfiles", json=storage)  # so the browser gets them
    ids = admin.import_tasks(
        project, [{"image": f"/data/local-files/?d=browser/{i}.png"} for i in range(40)]
    )
    careful = admin.user("careful.browser@example.com", "Carla", "Careful")
    hasty = admin.user("hasty.browser@example.com", "Hal", "Hasty")
    for i, task in enumerate(ids[:32]):
        labels = [CLASSES[k] for k in np.flatnonzero(truth[i])]
        admin.annotate(task, labels, completed_by=careful, lead_time=8.0)
        admin.annotate(task, labels[:1], completed_by=hasty, lead_time=2.0)
    data = tmp_path_factory.mktemp("browser-data")
    options = AuditOptions(local_files_root=str(studio.local_files_root), n_folds=3)
    result = run_project_audit(client, project, options=options, data_dir=data)
    save_audit_state(Workspace(data), result)
    return {"project": project, "result": result, "data": data, "options": options,
            "truth": dict(zip(ids, truth, strict=True)), "cli": cli}  # fmt: skip


def open_prediction(browser: Any) -> bool:
    """Select the prediction's tab among a task's annotations in the labeling view (a real
    click: Label Studio ignores a scripted one)."""
    picture = "[class*='annotation-button__userpic_prediction']"
    found = browser.find_elements("css selector", picture)
    if found:
        found[0].click()
    return bool(found)


def test_a_reviewer_works_through_the_tabs(
    driver: Any, studio: Studio, admin: Admin, client: StudioClient, reviewed: dict[str, Any]
) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    project, result = reviewed["project"], reviewed["result"]
    driver.get(f"{studio.url}/user/login/")
    driver.find_element("name", "email").send_keys(EMAIL)
    driver.find_element("name", "password").send_keys(PASSWORD)
    driver.find_element("css selector", "button[type=submit], input[type=submit]").click()
    wait_for(lambda: "/user/login" not in driver.current_url, 60, "the login")

    for queue in QUEUES:
        members = result.queues[queue.key].tolist()
        driver.get(f"{studio.url}/projects/{project}/data?tab={result.views[queue.title]}")
        if not members:
            continue
        wait_for(lambda: shown_ids(driver), 90, f"the rows of {queue.title!r}")
        columns = headers(driver)
        assert all(name in columns for name in SHOWN), columns
        assert not any(name in columns for name in HIDDEN), columns
        first = shown_ids(driver)[:3]
        scores = {int(p["task"]): p["score"] for p in result.predictions}
        assert [scores[t] for t in first] == sorted((scores[t] for t in members), reverse=True)[
            : len(first)
        ], (first, members[:3])
        driver.save_screenshot(str(ARTIFACTS / f"tab-{queue.key}.png"))

    # the first task of a tab (the first with two) opened: the list beside the labeling view
    # shows the tab's tasks with their suggested labels and reasons (Label Studio 1.23.2 leaves
    # the open task's own row blank: it swaps in the full task, which lacks the column)
    queue = next(q for q in QUEUES if q.key != "uncertain" and len(result.queues[q.key]) >= 2)
    errors = result.views[queue.title]
    task, neighbour = (int(t) for t in result.queues[queue.key][:2])
    prediction = next(p for p in result.predictions if p["task"] == neighbour)
    reason = prediction["result"][0]["meta"]["reasons"][0]
    # the reviewer widened the task list once (Label Studio keeps the width in localStorage)
    driver.execute_script("localStorage.setItem('labelingTableWidth', '520')")
    driver.get(f"{studio.url}/projects/{project}/data?tab={errors}&task={task}")
    wait_for(lambda: reason in text(driver), 90, "the next task's reasons beside the task")
    time.sleep(2)  # the image and the prediction settle
    driver.save_screenshot(str(ARTIFACTS / "task-reasons.png"))
    # the task's own reasons, in the labeling view on the ls-cleanlab prediction's tab
    own = next(p for p in result.predictions if p["task"] == task)["result"][0]["meta"]["reasons"]
    assert own and len(next(p for p in result.predictions if p["task"] == task)["result"]) == 2
    wait_for(lambda: open_prediction(driver), 30, "the prediction's tab of the open task")
    shown = wait_for(lambda: all(r in text(driver) for r in own) and text(driver), 30,
                     "the task's reasons in the labeling view")  # fmt: skip
    assert "Why ls-cleanlab put this task in a review tab" in shown
    # for the screenshot: the reasons in view, the pointer off the tab (its tooltip gone)
    from selenium.webdriver.common.action_chains import ActionChains

    area = driver.find_element("css selector", "[data-testid='textarea-control']")
    ActionChains(driver).move_to_element(area).perform()
    driver.execute_script(  # the labeling view scrolled to its end, where the reasons are
        "let e = arguments[0];"
        "while (e && e.scrollHeight <= e.clientHeight + 1) e = e.parentElement;"
        "if (e) e.scrollTop = e.scrollHeight;",
        area,
    )
    time.sleep(1)
    driver.save_screenshot(str(ARTIFACTS / "task-own-reasons.png"))

    # a reviewer's ground truth arrives through the API; the refresh takes the task off the tab
    labels = [CLASSES[k] for k in np.flatnonzero(reviewed["truth"][task])]
    admin.annotate(task, labels, ground_truth=True)
    refresh_project(client, project, workspace=Workspace(reviewed["data"]),
                    options=reviewed["options"])  # fmt: skip

    def gone() -> bool:
        driver.get(f"{studio.url}/projects/{project}/data?tab={errors}")
        wait_for(lambda: shown_ids(driver) or "no tasks" in text(driver).lower(), 10, "rows")
        return task not in shown_ids(driver)

    wait_for(gone, 10, "the reviewed task to leave its tab", every=1.0)
    driver.save_screenshot(str(ARTIFACTS / f"tab-{queue.key}-after-review.png"))

    # opting out restores the labeling config byte for byte, annotations and all
    assert main(["reasons", "--disable", *reviewed["cli"]]) == 0
    assert client.label_config(project) == CONFIG
