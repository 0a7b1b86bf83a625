"""The JSON API under schemathesis: cases generated from /api/openapi.json, sent with a key that
has every scope to the app served by uvicorn; none may answer 5xx."""

from __future__ import annotations

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings

from mailflow.auth import SCOPES, create_api_key
from storage.engine import session_scope

CASES_PER_OPERATION = 60


def test_no_generated_request_gets_a_server_error(site):
    with session_scope(site.engine) as session:
        key = create_api_key(session, "fuzz", list(SCOPES))
    base = site.settings.web.base_url
    document = httpx.get(f"{base}/api/openapi.json", timeout=10).json()
    schema = schemathesis.openapi.from_dict(document)
    auth = {"Authorization": f"Bearer {key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/events", "/api/reports/figures"}
    seen: list[tuple[str, int]] = []

    for operation in operations:

        @settings(
            max_examples=CASES_PER_OPERATION,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=operation.as_strategy())
        def check(case) -> None:
            response = case.call(base_url=base, headers=auth, timeout=10)
            seen.append((case.path, response.status_code))
            assert response.status_code < 500, (case.path, case.query, response.text[:300])

        check()
    assert len(seen) >= len(operations) * 10  # the run really sent requests
