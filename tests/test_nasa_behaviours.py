"""The emulator answers as NASA does: every row of ``watcher.demo.behaviours`` against the
emulator, and the rows with a recorded fixture against that fixture too."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from watcher.demo import NasaEmulator, demo_emulator
from watcher.demo.behaviours import BEHAVIOURS, Answer, Behaviour

WITH_FIXTURES = [b for b in BEHAVIOURS if b.fixture]


@pytest.fixture(scope="module")
def nasa() -> Iterator[NasaEmulator]:
    with demo_emulator(release_every=0, rewrite_images=False) as emulator:
        yield emulator


def ask(nasa: NasaEmulator, behaviour: Behaviour) -> list[Answer]:
    answers = []
    with httpx.Client(timeout=10) as client:
        for query in behaviour.requests:
            response = client.get(nasa.base_url + behaviour.path, params=query)
            headers = {name.lower(): value for name, value in response.headers.items()}
            answers.append(Answer(response.status_code, response.content, headers))
    return answers


@pytest.mark.parametrize("behaviour", BEHAVIOURS, ids=[b.key for b in BEHAVIOURS])
def test_the_emulator_shows_each_behaviour(nasa: NasaEmulator, behaviour: Behaviour) -> None:
    assert behaviour.check(ask(nasa, behaviour)) == [], behaviour.claim


@pytest.mark.parametrize("behaviour", WITH_FIXTURES, ids=[b.key for b in WITH_FIXTURES])
def test_the_recorded_fixture_shows_the_same_behaviour(
    nasa_fixtures: Path, behaviour: Behaviour
) -> None:
    assert behaviour.fixture is not None
    body = (nasa_fixtures / behaviour.fixture).read_bytes()
    assert behaviour.check([Answer(200, body)]) == [], behaviour.claim


def test_every_behaviour_names_its_evidence() -> None:
    keys = [b.key for b in BEHAVIOURS]
    assert len(keys) == len(set(keys))
    for behaviour in BEHAVIOURS:
        assert behaviour.source in ("capture", "reported", "facts", "gallery", "assumed"), (
            behaviour.key
        )
        if behaviour.source == "capture":
            assert behaviour.fixture, f"{behaviour.key}: a capture row names its fixture"


def test_a_check_notices_a_wrong_answer() -> None:
    by_key = {b.key: b for b in BEHAVIOURS}
    listing = b'{"images": [], "per_page": "3", "page": 0, "total_results": 0}'
    assert by_key["latest-is-a-summary"].check([Answer(200, listing)])
    assert by_key["unknown-category-404"].check([Answer(200, b"<html></html>")])
    assert by_key["max-age-60-no-validators"].check(
        [Answer(200, b"{}", {"cache-control": "max-age=60", "etag": '"x"'})]
    )


def test_the_reported_behaviours_all_have_a_row() -> None:
    """Each bullet of the fixtures README's "Reported behaviours" is covered by a row."""
    keys = {b.key for b in BEHAVIOURS if b.source == "reported"}
    assert keys >= {
        "latest-is-a-summary",
        "empty-sol-answers-other-sols",
        "id-answers-image",
        "num-capped-at-100",
        "pages-from-0",
        "past-the-last-page",
        "repeated-key-dropped",
        "condition-1-range-ignored",
        "unknown-category-404",
        "max-age-60-no-validators",
    }
