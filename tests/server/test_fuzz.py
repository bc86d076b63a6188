"""Fuzz the backend's OpenAPI schema with schemathesis, in process: no input gives a 5xx, and
every answer is one the schema describes (status code, content type, body).

Webhooks are sent signed (the header schemathesis cannot know), so the fuzzer reaches the code
behind the signature check; Label Studio is not configured, so jobs fail fast with a reason.
(The schemathesis pytest plugin does not run under this pytest, so each operation's strategy is
driven by hypothesis directly.)"""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import checks

from ls_cleanlab.server import Settings, create_app
from ls_cleanlab.server.auth import SECRET_HEADER

CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
]
PATHS = ["/health", "/setup", "/predict", "/webhook", "/versions", "/jobs", "/jobs/{job_id}",
         "/metrics", "/report/{project}"]  # fmt: skip


@pytest.mark.parametrize("mode", ["positive", "negative"])
def test_no_input_gives_a_server_error(tmp_path: Path, mode: str) -> None:
    app = create_app(Settings(data_dir=tmp_path, register_webhooks=False, debounce_seconds=60.0))
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    headers = {SECRET_HEADER: app.state.backend.secret}
    seen = set()
    for result in schema.get_all_operations():
        operation = result.ok()
        seen.add(operation.path)
        kind = schemathesis.GenerationMode(mode)

        @given(case=operation.as_strategy(generation_mode=kind))
        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        def check(case: schemathesis.Case) -> None:
            response = case.call(headers=headers)
            assert response.status_code < 500, (case.path, case.body, response.text[:300])
            case.validate_response(response, checks=CHECKS)

        try:
            check()
        except Unsatisfiable:  # no invalid input exists for an operation without parameters
            assert mode == "negative"
    assert seen == set(PATHS)
