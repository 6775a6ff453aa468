"""The credit table and the topic filter every adapter shares."""

from __future__ import annotations

import pytest

from watcher.polling.sources.common import Topic
from watcher.polling.sources.credits import (
    MAX_CREDIT,
    center_credit,
    credit_after,
    credit_in_element,
    credit_in_text,
    fallback_credit,
)
from watcher.polling.sources.html import read_html


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("A view of Jezero. Credit: NASA/JPL-Caltech", "NASA/JPL-Caltech"),
        ("Image Credit: NASA/JPL-Caltech/Univ. of Arizona", "NASA/JPL-Caltech/Univ. of Arizona"),
        ("Caption\nCredits: NASA/JPL-Caltech/ASU/MSSS\nMore text", "NASA/JPL-Caltech/ASU/MSSS"),
        ("Credit: NASA/JPL-Caltech. The rover drove on.", "NASA/JPL-Caltech"),
        ("image credit:  NASA ", "NASA"),
        ("Photo credit: NASA/Bill Ingalls", "NASA/Bill Ingalls"),
        ("A dune (Credit: NASA/JPL-Caltech/UArizona)", "NASA/JPL-Caltech/UArizona"),
        ("[Credit: NASA/JPL]", "NASA/JPL"),
        ("Credit: NASA, ESA, Amy Simon (NASA-GSFC)", "NASA, ESA, Amy Simon (NASA-GSFC)"),
        ("Accredited: somebody", None),
        ("no credit here", None),
        ("Credit:   ", None),
        (None, None),
    ],
)
def test_credit_lines_are_found_in_text(text: object, expected: str | None) -> None:
    assert credit_in_text(text) == expected


def test_the_last_credit_line_wins() -> None:
    text = "Left: Credit: NASA/JPL-Caltech/ASU\nRight: Credit: NASA/JPL-Caltech/MSSS"
    assert credit_in_text(text) == "NASA/JPL-Caltech/MSSS"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("NASA/Steve Freeman", "NASA/Steve Freeman"),
        ("Credits: NASA", "NASA"),
        ("  NASA, ESA, STScI,\n Amy Simon (NASA-GSFC) ", "NASA, ESA, STScI, Amy Simon (NASA-GSFC)"),
        ("x" * (MAX_CREDIT + 1), None),
        (" . ", None),
        (None, None),
    ],
)
def test_a_credits_element_names_its_credit(words: object, expected: str | None) -> None:
    assert credit_in_element(words) == expected


def test_the_credit_after_a_picture_stops_at_the_next_picture() -> None:
    page = read_html(
        "<p>Credit: A</p><img src='/1.jpg'><p>Caption one.</p><img src='/2.jpg'>"
        "<div class='hds-credits'>B</div><p>Credit: C</p>"
    )
    first, second = page.images
    assert credit_after(page, first) is None
    assert credit_after(page, second) == "B"
    assert credit_after(page) == "A"
    assert credit_after(read_html("<p>No one</p>")) is None


@pytest.mark.parametrize(
    ("center", "expected"),
    [("JPL", "NASA/JPL"), (" GSFC ", "NASA/GSFC"), ("HQ", "NASA"), ("NASA-JSC", "NASA-JSC"),
     ("", None), ("<b>JPL</b>", None), (7, None)],
)  # fmt: skip
def test_centers_are_written_as_nasa_writes_them(center: object, expected: str | None) -> None:
    assert center_credit(center) == expected


def test_the_fallback_table_follows_the_design() -> None:
    assert fallback_credit("raw_images") == "NASA/JPL-Caltech"
    assert fallback_credit("image_library") == "NASA"
    assert fallback_credit("rss") == "NASA"
    assert fallback_credit("something new") == "NASA"


def test_topic_keeps_any_keyword_and_drops_any_excluded_word() -> None:
    topic = Topic(["Perseverance", "Mars 2020", "rover"], ["Pathfinder", "resources for teachers"])
    assert topic.wanted(["NASA's Perseverance rover"])
    assert topic.wanted(["Mars  2020 launch"])  # any whitespace between words
    assert topic.wanted(["Two rovers"])  # a keyword matches the start of a word
    assert not topic.wanted(["Marshall", "xperseverance"])  # never inside a word
    assert not topic.wanted(["Pathfinder and Perseverance"])
    assert not topic.wanted(["Resources for Teachers", "Perseverance"])


def test_a_topic_without_keywords_keeps_everything_not_excluded() -> None:
    assert Topic([]).wanted(["anything"])
    assert not Topic([], ["Viking"]).wanted(["Viking 1 lander"])
