"""The console's pages and forms fuzzed with a signed-in admin's session: every query, form and path parameter a
console route declares, filled by Hypothesis with odd text (NUL, very long, any script), huge and negative numbers
and values of the wrong type. No answer may be a server error. The console is not in the OpenAPI document, so this
reads each route's declared parameters from the app itself.

`ESTATE_FUZZ_EXAMPLES` sets the examples per route, as for the API fuzz (`make fuzz` runs many more).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, get_args
from urllib.parse import quote

import pytest
from fastapi import FastAPI
from fastapi.routing import iter_route_contexts
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from server.db.models import StaffUser
from tests.conftest import csrf_of, sign_in
from tests.server.fuzzing import Known, backend_of, clear_of
from tests.server.test_authorisation_matrix import ROUTES

EXAMPLES = int(os.environ.get("ESTATE_FUZZ_EXAMPLES", "25"))
PASSWORD = "correct-horse-1"
# Routes that end the session the fuzzing uses, or read their form themselves (covered by their own tests).
SKIPPED = {("POST", "/console/logout"), ("POST", "/console/login"), ("POST", "/console/residents/import")}
# Every console route but those: the authorisation matrix keeps ROUTES complete.
FUZZED = [key for key in ROUTES if key[1].startswith("/console") and key not in SKIPPED]
# Server errors the fuzzing found, each marked xfail (strict) until fixed; fixed ones are dropped, and the fuzz test
# then covers inputs of that kind again. None is known today.
KNOWN_SERVER_ERRORS: list[Known] = []

TEXT = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.characters(codec="utf-8"), min_size=200, max_size=3000),
    st.sampled_from(["\x00", "a\x00b", "0001-01-01", "9999-12-31", "2026-02-30", "-1", "1e309", "../../etc/passwd"]),
)
NUMBER = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from(["0", "-1", "9223372036854775808", "1.5", "", "abc"]),
)
FLAG = st.sampled_from(["true", "false", "on", "1", "0", "maybe", ""])


def _strategy(annotation: Any) -> st.SearchStrategy[Any]:
    text = str(annotation)
    if "list[int]" in text:
        return st.lists(NUMBER, max_size=3)
    if "Literal" in text:
        return st.one_of(st.sampled_from([str(v) for v in get_args(annotation)]), TEXT)
    if "int" in text:
        return NUMBER
    if "bool" in text:
        return FLAG
    return TEXT


def console_routes(app: FastAPI) -> dict[tuple[str, str], dict[str, tuple[str, Any]]]:
    """{(method, path): {parameter: (where, annotation)}} of every console route, from what FastAPI knows of it."""
    found = {}
    for context in iter_route_contexts(app.router.routes):
        if not context.path.startswith("/console"):
            continue
        params: dict[str, tuple[str, Any]] = {}
        pending = [context.original_route.dependant]
        while pending:
            dependant = pending.pop()
            pending.extend(dependant.dependencies)
            for where, fields in (("query", dependant.query_params), ("path", dependant.path_params)):
                params.update({f.name: (where, f.field_info.annotation) for f in fields})
            params.update({f.name: ("form", f.field_info.annotation) for f in dependant.body_params})
        for method in sorted(context.methods):
            if (method, context.path) not in SKIPPED:
                found[(method, context.path)] = params
    return found


@pytest.fixture
def admin(app: FastAPI, make_user: Callable[..., StaffUser]) -> Callable[[], tuple[TestClient, str]]:
    """A signed-in admin's client and CSRF token; called again to sign in anew when the fuzzing ended the session."""
    make_user("admin", username="fuzz_admin", password=PASSWORD)
    client = TestClient(app, raise_server_exceptions=False)

    def _signed_in() -> tuple[TestClient, str]:
        signed = sign_in(client, "fuzz_admin", PASSWORD)
        return client, csrf_of(signed.text)

    return _signed_in


def test_console_routes_are_found(app: FastAPI) -> None:
    routes = console_routes(app)
    assert set(routes) == set(FUZZED)
    assert routes[("POST", "/console/staff")]["estate_ids"][0] == "form"


@pytest.mark.parametrize("key", FUZZED, ids=[f"{m} {p}" for m, p in FUZZED])
def test_no_console_route_answers_with_a_server_error(
    key: tuple[str, str], app: FastAPI, admin: Callable[[], tuple[TestClient, str]], database_url: str
) -> None:
    method, path = key
    params = console_routes(app)[key]
    session = list(admin())
    clear = clear_of(KNOWN_SERVER_ERRORS, f"{method} {path}", backend_of(database_url))
    values = st.fixed_dictionaries({name: _strategy(annotation) for name, (_w, annotation) in params.items()})

    @given(values=values.filter(clear))
    @settings(
        max_examples=EXAMPLES,
        derandomize=True,
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
    )
    def run(values: dict[str, Any]) -> None:
        client, csrf = session
        where = {name: params[name][0] for name in values}
        url = path.format(**{n: quote(v, safe="") or "0" for n, v in values.items() if where[n] == "path"})
        query = {n: v for n, v in values.items() if where[n] == "query"}
        form = {n: v for n, v in values.items() if where[n] == "form"}
        response = client.request(
            method, url, params=query, data=form or None, headers={"X-CSRF-Token": csrf}, follow_redirects=False
        )
        if response.is_redirect and response.headers["location"].startswith("/console/login?next="):
            session[:] = admin()  # e.g. the admin's own password was reset: sign in again
        assert response.status_code < 500, f"{method} {url} {query} {form!r:.300}"

    run()


@pytest.mark.parametrize("known", KNOWN_SERVER_ERRORS, ids=[k.defect.split(":")[0] for k in KNOWN_SERVER_ERRORS])
def test_no_console_server_error_on_inputs_fuzzing_found(
    known: Known, admin: Callable[[], tuple[TestClient, str]], database_url: str, request: pytest.FixtureRequest
) -> None:
    if backend_of(database_url) in known.backends:
        request.applymarker(pytest.mark.xfail(strict=True, raises=AssertionError, reason=known.defect))
    client, csrf = admin()
    response = client.request(known.method, known.url, data=known.form, headers={"X-CSRF-Token": csrf})
    assert response.status_code < 500
