"""The JSON API against its own OpenAPI document, fuzzed by schemathesis.

Every operation of ``/api/v1/openapi.json`` is called with requests schemathesis makes
from the document, valid ones (positive) and deliberately wrong ones (negative), against
the real app on the real PostgreSQL. The database is seeded first, and half of the
examples of an operation with ids in its path name rows that exist, so the routes get past
their 404s. Each answer must not be a server error, must have a status, content type,
headers and body the document gives for the operation, and wrong input must be refused.
The callers are a write token (the programs' operations) and a signed-in admin's session
with its CSRF header (the operations tagged ``admin``, which tokens never reach).

Not checked: schemathesis' ``positive_data_acceptance``, which wants every schema-valid
request accepted. Some rules hold across fields or need the database, and no JSON schema
can say them (``sol_min`` above ``sol_max``, a control character in an editor's text,
publishing without words, an id that names nothing): the document lists their 404, 409
and 422 answers, and the other checks hold those to the document.

Bounded for CI: EXAMPLES per operation and mode, derandomized (the same requests on every
run), no deadline. The run's figures are printed (``-s`` shows them).
"""

from __future__ import annotations

import os
import random
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis import APIOperation, BaseSchema, Case, GenerationMode
from schemathesis.checks import load_all_checks
from schemathesis.core.failures import FailureGroup
from schemathesis.core.result import Ok
from schemathesis.specs.openapi.checks import positive_data_acceptance

from watcher.core import make_watcher
from watcher.types import Actor, EntryDraft, Role, TokenScope
from watcher.web.auth import SESSION_COOKIE

from .conftest import PASSWORD, Clock, WebApp, build_settings, reset_postgres, run

OPENAPI = "/api/v1/openapi.json"
Operation = APIOperation[Any, Any, Any, Any]
# A deeper run by hand: WATCHER_FUZZ_EXAMPLES=500 (the same seed, more requests).
EXAMPLES = int(os.environ.get("WATCHER_FUZZ_EXAMPLES", "25"))

# Explicit, so no schemathesis.toml lying about is read; the requests follow from the
# document alone, not from literals schemathesis would gather from the app's modules.
CONFIG = schemathesis.Config.from_dict({"analysis": {"constants": {"enabled": False}}})
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    # Requests over a real database are slow for hypothesis' taste, and strategies that
    # name seeded rows filter much; neither is a problem here.
    suppress_health_check=list(HealthCheck),
)


@dataclass
class Api:
    """The app, the ids of its seeded rows by path parameter name, and the callers."""

    web: WebApp
    ids: dict[str, list[int]]
    token: dict[str, str]
    admin: dict[str, str]


def seed(web: WebApp) -> dict[str, list[int]]:
    """Rows every kind of id in a path can name: candidates (new, approved, rejected), two
    published entries (stills: a sequence would make the publisher fetch NASA's frames),
    an edition, a subscriber, a webhook and a token the fuzzer may revoke. Its ids, by the
    name of the path parameter that takes them."""
    watcher = web.watcher
    root = Actor("root", Role.ADMIN)
    candidates = web.seed(40)
    entries = [
        watcher.approve(candidates[i : i + 1], EntryDraft(heading="Dust", body="Words."), root)
        for i in range(2)
    ]
    watcher.reject(candidates[2], root, reason="blurred")
    run(watcher.publish())
    subscriber = watcher.add_subscriber("reader@example.org", root, confirmed=True)
    webhook, _ = watcher.add_webhook("http://127.0.0.1:9/hook", root)
    token, _ = watcher.create_api_token("spare", TokenScope.READ, root)
    return {
        "candidate_id": candidates,
        "entry_id": [e.id for e in entries],
        "number": [e.number for e in watcher.list_editions(limit=10)],
        "subscriber_id": [subscriber.id],
        "webhook_id": [webhook.id],
        "token_id": [token.id],
    }


@pytest.fixture
def api(tmp_path: Path, clock: Clock, postgres_database: str) -> Iterator[Api]:
    """The app on the session's PostgreSQL database, emptied and seeded. Skips, saying
    why, when PostgreSQL is unreachable, unless WATCHER_REQUIRE_POSTGRES is set."""
    reset_postgres(postgres_database)
    # The webhook a test registers points at the loopback's discard port; never called.
    config = build_settings(tmp_path, postgres_database, webhooks={"allow_private": True})
    watcher = make_watcher(config, clock=clock, rand=lambda: 0.0)
    watcher.prepare_database()
    watcher.add_editor("root", PASSWORD, Role.ADMIN)
    web = WebApp(watcher)
    ids = seed(web)
    _, secret = watcher.create_api_token("fuzzer", TokenScope.WRITE)
    browser = web.browser("root")
    cookie = f"{SESSION_COOKIE}={browser.client.cookies.get(SESSION_COOKIE)}"
    admin = {"Cookie": cookie, "X-CSRF-Token": browser.csrf}
    yield Api(web, ids, {"Authorization": f"Bearer {secret}"}, admin)
    run(watcher.aclose())


@dataclass
class Outcome:
    operations: int = 0
    examples: int = 0
    statuses: Counter[int] = field(default_factory=Counter)
    let_in: set[str] = field(default_factory=set)
    failures: list[str] = field(default_factory=list)


def cases(operation: Operation, mode: GenerationMode, ids: dict[str, list[int]]) -> Any:
    """Schemathesis' examples of ``operation``, and as many again whose path ids name
    seeded rows (a path id drawn from the whole range names nothing, so the route would
    never get past its 404)."""
    made = operation.as_strategy(generation_mode=mode)
    names = [p.name for p in operation.path_parameters]
    if not names:
        return made
    assert all(name in ids for name in names), f"seed rows for {operation.label}: {names}"
    real = st.fixed_dictionaries({name: st.sampled_from(ids[name]) for name in names}).flatmap(
        lambda given_ids: operation.as_strategy(generation_mode=mode, path_parameters=given_ids)
    )
    return st.one_of(made, real)


def fuzz(
    operation: Operation,
    mode: GenerationMode,
    headers: dict[str, str],
    ids: dict[str, list[int]],
    outcome: Outcome,
) -> None:
    """``operation`` called with FUZZ's examples of ``mode``. A failure is recorded with the
    smallest example hypothesis finds (and a curl line to repeat it), and the run goes on
    to the next operation, so one run reports every failure."""

    # Schemathesis draws from the global ``random`` while it builds strategies, outside the
    # examples hypothesis seeds: seeded here, the run makes the same requests whatever ran
    # before it in the process, and the state is given back after.
    state = random.getstate()
    random.seed(f"{operation.label} {mode.value}")

    @given(cases(operation, mode, ids))
    @FUZZ
    def check(case: Case[Operation]) -> None:
        outcome.examples += 1
        # The caller's credentials, not random ones for the document's security schemes
        # (a made-up Bearer header is refused with 401 before anything else is looked at).
        if case.headers:
            case.headers.pop("Authorization", None)
        if case.cookies:
            case.cookies.pop(SESSION_COOKIE, None)
        response = case.call_and_validate(
            headers=headers, excluded_checks=[positive_data_acceptance]
        )
        outcome.statuses[response.status_code] += 1
        if response.status_code not in (401, 403):
            outcome.let_in.add(operation.label)

    try:
        check()
    except (Exception, FailureGroup) as exc:  # reported together at the end
        outcome.failures.append(f"{operation.label} ({mode.value}): {exc}")
    finally:
        random.setstate(state)


def operations(schema: BaseSchema) -> list[Operation]:
    """Every operation of the document; one schemathesis cannot read fails the test."""
    found = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"schemathesis cannot read an operation: {result.err()}"
        found.append(result.ok())
    return found


@pytest.mark.postgres
@pytest.mark.slow
@pytest.mark.timeout(900)
def test_the_api_answers_as_its_openapi_document_says(api: Api) -> None:
    load_all_checks()
    schema = schemathesis.openapi.from_asgi(OPENAPI, api.web.app, config=CONFIG)
    outcome = Outcome()
    every = operations(schema)
    for operation in every:
        outcome.operations += 1
        caller = api.admin if "admin" in (operation.tags or ()) else api.token
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            fuzz(operation, mode, caller, api.ids, outcome)
    by_class = Counter(f"{status // 100}xx" for status in outcome.statuses.elements())
    print(
        f"\nschemathesis: {outcome.operations} operations, {outcome.examples} examples "
        f"({dict(sorted(by_class.items()))}), {len(outcome.failures)} failures"
    )
    assert outcome.failures == [], "\n\n".join(outcome.failures)
    assert outcome.operations == 33
    # Each operation was fuzzed by a caller it lets in (admins' by the ``admin`` tag).
    assert outcome.let_in == {operation.label for operation in every}
    assert outcome.examples >= outcome.operations * 2 * min(EXAMPLES, 10)
    assert by_class["2xx"] >= outcome.operations, "too few examples got past validation"
    assert api.web.watcher.health()["status"] != "unavailable"
