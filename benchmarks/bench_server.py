"""ML backend speed: ``/predict`` latency for 1 and 100 image tasks whose features are cached, and
webhook throughput, against ``ls-cleanlab``'s server running under uvicorn (one process).

A project of 300 generated images (local files) is audited offline, its model (with its encoder)
stored in a data dir as a full audit stores them, and its images described once into the feature
cache; the server then answers over HTTP with keep-alive, as Label Studio calls it.

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_server.py
"""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import requests

from ls_cleanlab.media import MediaFetcher
from ls_cleanlab.model import ModelStore
from ls_cleanlab.pipeline import AuditOptions, audit_tasks
from ls_cleanlab.pipeline.workspace import Workspace
from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER
from ls_cleanlab.studio import parse_label_config
from ls_cleanlab.testing.synthetic_images import LABEL_CONFIG as CONFIG
from ls_cleanlab.testing.synthetic_images import annotation, make_images

N = 300


def prepare(root: Path) -> tuple[Settings, list[dict[str, Any]]]:
    media = root / "media"
    media.mkdir()
    images, truth = make_images(N, seed=5)
    tasks = []
    for i, (image, labels) in enumerate(zip(images, truth, strict=True)):
        image.save(media / f"{i}.png")
        annotations = [annotation(1, labels)] if i < 240 else []
        tasks.append({"id": i + 1, "data": {"image": f"/data/local-files/?d={i}.png"},
                      "annotations": annotations})  # fmt: skip
    settings = Settings(data_dir=root / "data", local_files_root=str(media),
                        register_webhooks=False, debounce_seconds=60.0)  # fmt: skip
    schema = parse_label_config(CONFIG)
    with Workspace(settings.data_dir).feature_cache() as cache:
        audit = audit_tasks(tasks, schema, options=AuditOptions(), cache=cache,
                            fetcher=MediaFetcher(local_files_root=media), project=1)  # fmt: skip
        assert audit.trained is not None
        ModelStore(settings.data_dir / "models").save(1, "ls-cleanlab", audit.trained)
    return settings, tasks


def percentiles(seconds: list[float]) -> str:
    ms = np.asarray(seconds) * 1000
    return f"p50 {np.percentile(ms, 50):.1f} ms, p99 {np.percentile(ms, 99):.1f} ms"


def main() -> None:
    import uvicorn

    with tempfile.TemporaryDirectory() as folder:
        settings, tasks = prepare(Path(folder))
        app = create_app(settings)
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{port}"
        http = requests.Session()
        while True:
            try:
                http.get(f"{url}/health", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.1)
        http.post(f"{url}/setup", json={"project": "1.1", "schema": CONFIG}).raise_for_status()

        def predict(batch: list[dict[str, Any]]) -> float:
            body = {"tasks": batch, "project": "1.1", "label_config": CONFIG,
                    "params": {"context": None}}  # fmt: skip
            start = time.perf_counter()
            answer = http.post(f"{url}/predict", json=body)
            took = time.perf_counter() - start
            answer.raise_for_status()
            results = answer.json()["results"]
            assert len(results) == len(batch) and all(r["result"] for r in results)
            return took

        rng = np.random.default_rng(0)
        for _ in range(20):
            predict([tasks[int(rng.integers(N))]])  # warm up
        one = [predict([tasks[int(rng.integers(N))]]) for _ in range(300)]
        hundred = [predict([tasks[int(i)] for i in rng.choice(N, 100, replace=False)])
                   for _ in range(40)]  # fmt: skip
        print(f"/predict, 1 task (cached features):    {percentiles(one)}")
        print(f"/predict, 100 tasks (cached features): {percentiles(hundred)}, "
              f"{100 / np.median(hundred):,.0f} tasks/s")  # fmt: skip

        event = {"action": "ANNOTATION_CREATED", "project": {"id": 1}, "task": {"id": 1},
                 "annotation": {"id": 1}}  # fmt: skip
        headers = {SECRET_HEADER: settings.secret()}
        took = []
        start = time.perf_counter()
        for _ in range(1000):
            t0 = time.perf_counter()
            http.post(f"{url}/webhook", json=event, headers=headers).raise_for_status()
            took.append(time.perf_counter() - t0)
        rate = 1000 / (time.perf_counter() - start)
        print(f"/webhook, 1,000 events in a row: {rate:,.0f} events/s, {percentiles(took)}")
        server.should_exit = True
        thread.join(10)


if __name__ == "__main__":
    main()
