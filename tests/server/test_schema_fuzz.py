"""The published API (the app factory's OpenAPI document) fuzzed by schemathesis: for every operation, data that fits
the schema and data that does not, sent with a kiosk's, a gate's and a cabinet's device token and with none. No
request may end in a server error, and every 4xx answer is the API's JSON error form
`{"error": {"code": ..., "message": ...}}`.

A fixed, derandomised number of examples per operation keeps this test short and repeatable; `make fuzz` runs the
same checks with many more (`ESTATE_FUZZ_EXAMPLES`). Server errors found and not yet fixed are kept in
KNOWN_SERVER_ERRORS as the smallest request that shows each, marked xfail(strict=True) with the defect's name, so
the test turns red when the fix lands and the entry must go.

The console is not in the OpenAPI document (its pages are HTML forms); the authorisation matrix covers it.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from server.db.models import Device
from tests.server.fuzzing import Known, backend_of, clear_of

OPENAPI = "/api/v1/openapi.json"
EXAMPLES = int(os.environ.get("ESTATE_FUZZ_EXAMPLES", "25"))
# Every operation of the published API. A new one fails test_every_operation_is_fuzzed until it is listed here.
OPERATIONS = [
    "GET /api/v1/health",
    "GET /api/v1/device",
    "POST /api/v1/device/heartbeat",
    "POST /api/v1/residents/identify",
    "POST /api/v1/slips",
    "POST /api/v1/slips/{number}/reprint",
    "GET /api/v1/kiosk/services",
    "GET /api/v1/kiosk/catalogue",
    "POST /api/v1/kiosk/my-slips",
    "POST /api/v1/gate/verify",
    "POST /api/v1/gate/releases",
    "POST /api/v1/gate/sync",
    "GET /api/v1/gate/keys",
    "GET /api/v1/gate/revocations",
    "POST /api/v1/gate/guards/sign-in",
    "GET /api/v1/gate/guards",
    "GET /api/v1/gate/slips",
    "POST /api/v1/cabinet/events",
]


# Server errors the fuzzing found, each marked xfail (strict) until fixed; fixed ones are dropped, and the fuzz test
# then covers inputs of that kind again. None is known today.
KNOWN_SERVER_ERRORS: list[Known] = []
DEVICE_OF = {"/api/v1/gate/": "gate", "/api/v1/slips": "kiosk"}  # which device's token sends a known request


def error_form(_ctx: object, response: schemathesis.Response, case: schemathesis.Case) -> None:
    """Every 4xx is `{"error": {"code": str, "message": str}}` (ARCHITECTURE: API conventions)."""
    if not 400 <= response.status_code < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{response.status_code} answer is not JSON: {response.content[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not (isinstance(error, dict) and isinstance(error.get("code"), str) and isinstance(error.get("message"), str)):
        raise AssertionError(f"{response.status_code} answer is not the error form: {body!r:.300}")


@pytest.fixture
def device_tokens(make_device: Callable[..., tuple[Device, str]]) -> dict[str, str]:
    return {kind: make_device(kind, f"fuzz-{kind}")[1] for kind in ("kiosk", "gate", "cabinet")}


def test_every_operation_is_fuzzed(app: FastAPI) -> None:
    published = {f"{method.upper()} {path}" for path, ops in app.openapi()["paths"].items() for method in ops}
    assert published == set(OPERATIONS)


@pytest.mark.parametrize("operation", OPERATIONS)
def test_no_server_error_and_every_refusal_in_the_error_form(
    operation: str, app: FastAPI, device_tokens: dict[str, str], database_url: str
) -> None:
    method, path = operation.split(" ", 1)
    api = schemathesis.openapi.from_asgi(OPENAPI, app)[path][method]
    clear = clear_of(KNOWN_SERVER_ERRORS, operation, backend_of(database_url))
    cases = st.one_of(api.as_strategy(GenerationMode.POSITIVE), api.as_strategy(GenerationMode.NEGATIVE)).filter(
        lambda case: clear([case.body, case.query, case.path_parameters, case.headers])
    )

    @given(case=cases)
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(case: schemathesis.Case) -> None:
        for token in [*device_tokens.values(), None]:
            headers = {"Authorization": f"Bearer {token}"} if token else {}
            response = case.call(headers=headers)
            case.validate_response(response, checks=[not_a_server_error, error_form], headers=headers)

    run()


@pytest.mark.parametrize("known", KNOWN_SERVER_ERRORS, ids=[k.defect.split(":")[0] for k in KNOWN_SERVER_ERRORS])
def test_no_server_error_on_inputs_fuzzing_found(
    known: Known,
    app: FastAPI,
    device_tokens: dict[str, str],
    database_url: str,
    request: pytest.FixtureRequest,
) -> None:
    if backend_of(database_url) in known.backends:
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=known.defect))
    device = next(kind for prefix, kind in DEVICE_OF.items() if known.url.startswith(prefix))
    headers = {"Authorization": f"Bearer {device_tokens[device]}"}
    with TestClient(app, raise_server_exceptions=False) as client:  # a server error as the client sees it
        response = client.request(known.method, known.url, json=known.json, headers=headers)
    assert response.status_code < 500, response.text
    if response.status_code >= 400:
        assert set(response.json()["error"]) >= {"code", "message"}
