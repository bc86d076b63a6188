"""Record what a real Label Studio sends to an ML backend, as JSON fixtures for the protocol tests.

Run ``python -m tests.server.capture_payloads`` (needs ``.venv-studio``): it starts Label Studio,
a recording stand-in backend (stdlib HTTP server answering like a backend with no model), connects
it to a text project, asks for predictions through the Data Manager, annotates, deletes an
annotation and presses "Start training"; each first request per (path, action) is written to
``tests/server/payloads/`` with tokens scrubbed.
"""

from __future__ import annotations

import json
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

from ls_cleanlab.testing.admin import TEXT_MULTI, Admin
from ls_cleanlab.testing.label_studio import running_label_studio

OUT = Path(__file__).parent / "payloads"
SCRUB = ("access_token", "token", "Authorization")


def _scrub(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: ("<scrubbed>" if k in SCRUB else _scrub(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub(v) for v in value]
    return value


class Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[dict[str, Any]] = {}

    def _answer(self, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def _record(self, payload: Any) -> None:
        action = payload.get("action") if isinstance(payload, dict) else None
        name = self.path.strip("/").split("?")[0] + (f"-{action}" if action else "")
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization",)}
        Recorder.seen.setdefault(name, {"headers": headers, "body": _scrub(payload)})

    def do_GET(self) -> None:
        self._record(None)
        self._answer({"status": "UP"} if self.path.startswith("/health") else {"versions": []})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        payload = json.loads(self.rfile.read(length) or b"null")
        self._record(payload)
        if self.path.startswith("/setup"):
            self._answer({"model_version": "recorder"})
        elif self.path.startswith("/predict"):
            self._answer({"results": [{"result": [], "score": 0.0} for _ in payload["tasks"]]})
        else:
            self._answer({"status": "ok"})

    def log_message(self, *args: Any) -> None:
        pass


def main() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = ThreadingHTTPServer(("127.0.0.1", port), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    home = Path("/tmp/ls-capture")
    home.mkdir(exist_ok=True)
    with running_label_studio(home) as studio:
        admin = Admin(studio.url, studio.legacy_token)
        project = admin.project("capture", TEXT_MULTI)
        ids = admin.import_tasks(project, [{"text": f"text number {i}"} for i in range(3)])
        admin.call("POST", "/api/ml/", json={"url": f"http://127.0.0.1:{port}", "project": project,
                                             "title": "recorder"})  # fmt: skip
        admin.call("POST", f"/api/dm/actions?id=retrieve_tasks_predictions&project={project}",
                   json={"selectedItems": {"all": False, "included": ids[:2]}})  # fmt: skip
        made = admin.annotate(ids[0], ["sports"], from_name="topics", to_name="text")
        admin.call("PATCH", f"/api/annotations/{made['id']}/",
                   json={"result": made["result"], "lead_time": 3.0})  # fmt: skip
        admin.call("DELETE", f"/api/annotations/{made['id']}/")
        backend = admin.call("GET", "/api/ml/", params={"project": project})[0]
        admin.call("POST", f"/api/ml/{backend['id']}/train", json={})
        admin.call("GET", f"/api/ml/{backend['id']}/versions")
        admin.call("POST", f"/api/projects/{project}/import", json=[{"text": "late"}])
        time.sleep(3)
    server.shutdown()
    OUT.mkdir(exist_ok=True)
    for name, record in Recorder.seen.items():
        (OUT / f"{name}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
        print("wrote", name)


if __name__ == "__main__":
    main()
