"""Numbers past what the database holds, wherever a request can carry one: ids in the
path, query parameters, JSON bodies, form fields and headers. A path id names nothing (404);
anything else is the caller's mistake (422, naming it). Never a 500, on SQLite and on
PostgreSQL, whose INTEGER columns (sols, versions, edition numbers) end at 2**31 - 1.

The sweeps read the app's own route table, so a route added later is covered too.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.routing import iter_route_contexts
from starlette.testclient import TestClient

from watcher.limits import MAX_ID, MAX_INTEGER
from watcher.types import Actor, Role

from .conftest import WebApp
from .test_web_security import UNSAFE, concrete, routes

PROBLEM = "application/problem+json"
# Past the 64-bit ids of every table (and far below them).
HUGE = (2**63, 2**64, -(2**63) - 1)
# Past PostgreSQL's INTEGER: a possible id, but no sol, version or edition number.
PAST_INTEGER = 2**31
NOT_IDS = (*HUGE, 0, -1, "abc", "1.5", PAST_INTEGER, MAX_ID)
# The numbers the editor's pages read from their query strings by hand (the API declares
# its own, and the sweep reads them from the route table).
PAGE_NUMBERS = (
    "before", "after", "at", "limit", "sol_min", "sol_max", "group", "edition", "ids",
    "entry", "candidate", "n",
)  # fmt: skip


class Admin:
    """The admin's session on a client that answers 500s instead of raising them, so a
    sweep lists every failure at once."""

    def __init__(self, web: WebApp):
        signed_in = web.browser("root")
        self.csrf = signed_in.csrf
        self.client = TestClient(
            web.app,
            base_url="http://127.0.0.1:8000",
            follow_redirects=False,
            raise_server_exceptions=False,
        )
        self.client.cookies = signed_in.client.cookies
        self.client.headers["X-CSRF-Token"] = self.csrf

    def call(self, method: str, url: str, **kwargs: Any) -> Any:
        if method in UNSAFE and "json" not in kwargs and not url.startswith("/api/"):
            kwargs["data"] = {"csrf_token": self.csrf, **kwargs.get("data", {})}
        return self.client.request(method, url, **kwargs)


def contexts(web: WebApp) -> list[Any]:
    return [c for c in iter_route_contexts(web.app.routes) if getattr(c, "dependant", None)]


def is_int(field: Any) -> bool:
    return "int" in str(field.field_info.annotation)


def bound(field: Any, name: str) -> int | None:
    values = [getattr(m, name) for m in field.field_info.metadata if hasattr(m, name)]
    return values[0] if values else None


@pytest.fixture
def admin(web: WebApp) -> Admin:
    return Admin(web)


def test_every_path_id_out_of_range_is_not_found(web: WebApp, admin: Admin) -> None:
    web.seed(2)
    failures, checked = [], 0
    for context in contexts(web):
        ids = [p for p in context.dependant.path_params if is_int(p)]
        for method in sorted(set(context.methods or ()) - {"HEAD"}):
            for param in ids:
                low, high = bound(param, "ge"), bound(param, "le")
                assert low == 1 and high is not None and high <= MAX_ID, context.path
                for value in NOT_IDS:
                    url = context.path.replace(f"{{{param.name}}}", str(value))
                    response = admin.call(method, concrete(url))
                    checked += 1
                    if not isinstance(value, int):
                        if response.status_code != 422:  # not a number: a malformed request
                            failures.append((method, url, response.status_code))
                    elif low <= value <= high:
                        if response.status_code >= 500:  # a possible id: anything but a failure
                            failures.append((method, url, response.status_code))
                    elif response.status_code != 404:
                        failures.append((method, url, response.status_code))
                    elif url.startswith("/api/"):
                        assert response.headers["content-type"].startswith(PROBLEM)
                        assert f"{param.name}: {value}" in response.json()["detail"], url
    assert not failures, failures
    assert checked > 20 * len(NOT_IDS)  # the sweep found the routes


def test_path_parameters_that_are_not_ids_never_fail(web: WebApp, admin: Admin) -> None:
    for context in contexts(web):
        others = [p.name for p in context.dependant.path_params if not is_int(p)]
        for method in sorted(set(context.methods or ()) - {"HEAD"}):
            for name in others:
                for value in ("x" * 300, "..%2F..%2Fetc", "%00", str(2**64)):
                    url = context.path.replace(f"{{{name}}}", value)
                    response = admin.call(method, concrete(url))
                    assert response.status_code < 500, (method, url)


def test_every_integer_query_parameter_out_of_range_is_refused(web: WebApp, admin: Admin) -> None:
    web.seed(2)
    checked = set()
    for context in contexts(web):
        numbers = [p for p in context.dependant.query_params if is_int(p)]
        for method in sorted(set(context.methods or ()) - {"HEAD"}):
            for param in numbers:
                low, high = bound(param, "ge"), bound(param, "le")
                where = f"{method} {context.path}?{param.alias}"
                assert high is not None and high <= MAX_ID, f"{where}: no upper bound declared"
                for value in (*HUGE, PAST_INTEGER):
                    url = f"{concrete(context.path)}?{param.alias}={value}"
                    response = admin.call(method, url)
                    if low is not None and low <= value <= high:
                        assert response.status_code < 500, (where, value, response.text)
                        continue
                    assert response.status_code == 422, (where, value, response.text)
                    assert param.alias in response.json()["errors"], (where, value)
                checked.add(where)
    # Among them the ones the issue named, so the sweep cannot pass by finding nothing.
    assert {"GET /api/v1/candidates?before", "GET /api/v1/candidates?sol_min"} <= checked
    assert len(checked) >= 10


def test_the_editor_pages_survive_any_number_in_their_query_strings(
    web: WebApp, admin: Admin
) -> None:
    web.seed(2)
    pages = [
        path
        for method, path in routes(web.app)
        if method == "GET" and path.startswith("/editor") and "{" not in path
    ]
    assert "/editor" in pages and "/editor/audit" in pages
    for path in pages:
        for name in PAGE_NUMBERS:
            for value in (*HUGE, PAST_INTEGER, 10**40):
                response = admin.call("GET", f"{path}?{name}={value}&done=approved")
                assert response.status_code < 500, (path, name, value)


QUEUE_MISTAKES = {
    f"before={2**63}": "this page link is broken",
    f"sol_min={2**63}": 'id="sol_min-error"',
    f"sol_max={PAST_INTEGER}": 'id="sol_max-error"',
    f"sol_min={-(2**63) - 1}": 'id="sol_min-error"',
}
# (method, path, body, the error's field): {c} is a new candidate, {e} an entry.
JSON_MISTAKES = [
    ("POST", "/api/v1/candidates/bulk", {"action": "reject", "ids": [2**63]}, "ids.0"),
    ("POST", "/api/v1/candidates/bulk", {"action": "reject", "ids": [0]}, "ids.0"),
    ("POST", "/api/v1/candidates/bulk", {"action": "approve", "ids": ["{c}", 2**64]}, "ids.1"),
    ("POST", "/api/v1/entries", {"candidate_ids": [-(2**63) - 1]}, "candidate_ids.0"),
    ("POST", "/api/v1/entries", {"candidate_ids": ["{c}"], "versions": {"{c}": 2**31}}, "versions"),
    ("POST", "/api/v1/entries", {"candidate_ids": ["{c}"], "versions": {"-5": 1}}, "versions"),
    ("PATCH", "/api/v1/entries/{e}", {"version": PAST_INTEGER}, "version"),
    ("PATCH", "/api/v1/entries/{e}", {"version": 1, "candidate_ids": [2**63]}, "candidate_ids.0"),
    ("PUT", "/api/v1/entries/order", {"order": ["{e}", 2**63]}, "order.1"),
    ("POST", "/api/v1/candidates/{c}/approve", {"version": 2**63}, "version"),
    ("POST", "/api/v1/candidates/{c}/reject", {"version": PAST_INTEGER}, "version"),
]  # fmt: skip
# (path, form): the pages' own forms, with numbers no row can have.
FORM_MISTAKES = [
    ("/editor/bulk", {"ids": [f"{{c}}:{PAST_INTEGER}"], "action": "reject"}),
    ("/editor/bulk", {"ids": [str(2**63)], "action": "approve_each"}),
    ("/editor/compare", {"ids": [str(2**63), str(2**64)]}),
    ("/editor/entries/order", {"order": f"{{e}}, {2**63}"}),
    ("/editor/entries/{e}", {"version": str(PAST_INTEGER), "frames": "{c}"}),
    ("/editor/entries/{e}", {"version": "1", "frames": f"{{c}}, {2**63}"}),
    ("/editor/entries/{e}/status", {"version": str(2**63), "status": "unpublished"}),
    ("/editor/entries/{e}/delete", {"version": str(PAST_INTEGER)}),
    ("/editor/preview", {"candidate_id": str(2**63)}),
    ("/editor/preview", {"entry_id": str(PAST_INTEGER)}),
]


def filled(value: Any, names: dict[str, int]) -> Any:
    """``value`` with ``{c}`` and ``{e}`` put in (a number alone becomes that number)."""
    if isinstance(value, dict):
        return {filled(k, names): filled(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [filled(v, names) for v in value]
    if isinstance(value, str) and value in ("{c}", "{e}"):
        return names[value[1]]
    return value.format(**names) if isinstance(value, str) else value


def test_the_queue_page_says_which_number_is_wrong(web: WebApp, admin: Admin) -> None:
    for query, said in QUEUE_MISTAKES.items():
        response = admin.call("GET", f"/editor?{query}")
        assert response.status_code == 422, query
        assert said in response.text, query


def test_numbers_in_json_bodies_out_of_range_are_422_naming_them(web: WebApp, admin: Admin) -> None:
    candidate, framed = web.seed(2)
    entry = web.watcher.approve([framed], None, Actor("root", Role.ADMIN))
    names = {"c": candidate, "e": entry.id}
    for method, path, body, field in JSON_MISTAKES:
        response = admin.call(method, filled(path, names), json=filled(body, names))
        assert response.status_code == 422, (path, body, response.text)
        assert response.headers["content-type"].startswith(PROBLEM)
        errors = response.json()["errors"]
        assert any(key.startswith(field) for key in errors), (path, body, errors)
    assert web.watcher.get_candidate(candidate).status.value == "new"
    assert web.watcher.get_entry(entry.id).version == entry.version


def test_an_if_match_version_past_any_version_is_422(web: WebApp, admin: Admin) -> None:
    [candidate] = web.seed(1)
    created = admin.call("POST", f"/api/v1/candidates/{candidate}/approve", json={})
    assert created.status_code == 201, created.text
    url = created.headers["location"]
    for tag in (f'"v{PAST_INTEGER}"', f'"v{2**63}"', f'"v{10**30}"'):
        response = admin.call("PATCH", url, json={"heading": "x"}, headers={"If-Match": tag})
        assert response.status_code == 422, (tag, response.text)
        assert "If-Match" in response.json()["errors"]
        deleted = admin.call("DELETE", url, headers={"If-Match": tag})
        assert deleted.status_code == 422, (tag, deleted.text)
    assert admin.call("GET", url).json()["version"] == 1


def test_a_form_version_no_candidate_can_have_is_refused(web: WebApp, admin: Admin) -> None:
    [candidate] = web.seed(1)
    for version in (str(PAST_INTEGER), str(2**63), "-1", "v1"):
        for action in ("approve", "reject"):
            response = admin.call(
                "POST",
                f"/editor/candidates/{candidate}/{action}",
                data={"version": version, "next": "/editor"},
            )
            assert response.status_code == 422, (version, action, response.text)
            assert "reload the page" in response.text
    assert web.watcher.get_candidate(candidate).status.value == "new"


def test_numbers_in_forms_out_of_range_change_nothing(web: WebApp, admin: Admin) -> None:
    candidate, framed = web.seed(2)
    entry = web.watcher.approve([framed], None, Actor("root", Role.ADMIN))
    names = {"c": candidate, "e": entry.id}
    for path, form in FORM_MISTAKES:
        response = admin.call("POST", filled(path, names), data=filled(form, names))
        assert response.status_code < 500, (path, form, response.text)
    assert web.watcher.get_candidate(candidate).status.value == "new"
    assert web.watcher.get_entry(entry.id).version == entry.version


def test_the_bounds_are_the_columns(web: WebApp) -> None:
    """The largest id and INTEGER value are accepted (404: nothing there) and one more is
    refused, on both databases: the bounds are the columns' own, not tighter."""
    admin = Admin(web)
    assert admin.call("GET", f"/api/v1/candidates/{MAX_ID}").status_code == 404
    assert admin.call("GET", f"/api/v1/editions/{MAX_INTEGER}").status_code == 404
    assert admin.call("GET", f"/api/v1/editions/{MAX_INTEGER + 1}").status_code == 404
    listed = admin.call("GET", f"/api/v1/candidates?sol_min={MAX_INTEGER}&before={MAX_ID}")
    assert listed.status_code == 200 and listed.json()["items"] == []
    assert admin.call("GET", f"/api/v1/candidates?sol_min={MAX_INTEGER + 1}").status_code == 422


def test_the_api_document_states_the_bounds_exactly(web: WebApp) -> None:
    """Clients and schema-driven tests read the bounds from the OpenAPI document: the
    largest id must be there as it is, not as the float 2**63 one past it."""
    document = Admin(web).call("GET", "/api/v1/openapi.json")
    assert "e+18" not in document.text and '"maximum":9223372036854775807' in document.text
    schemas = document.json()["components"]["schemas"]
    assert schemas["BulkIn"]["properties"]["ids"]["items"]["maximum"] == MAX_ID
    [version, _] = schemas["RejectIn"]["properties"]["version"]["anyOf"]
    assert version["maximum"] == MAX_INTEGER and isinstance(version["maximum"], int)
