"""The Status page's chart geometry, as numbers: values in, boxes and labels out (no
browser, no markup), and what the page chooses to chart from the stored figures."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise

import pytest

from watcher.types import EditionDeliveries, MissionSols, PollOutcome, PollRecord, SolCount
from watcher.web.charts import MIN_BAR, Series, nice_step, number, stacked_bars
from watcher.web.pages_status import COLOURS, deliveries_chart, images_chart, polls_chart

pytestmark = pytest.mark.timeout(10)

T0 = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)


def test_bars_stack_from_the_baseline_in_proportion_to_their_values() -> None:
    made = stacked_bars(
        ident="c",
        title="t",
        desc="d",
        unit="images",
        categories=["1", "2"],
        series=[Series("A", "s0", (10, 20)), Series("B", "s1", (30, None))],
        category_name="sol",
    )
    assert [(b.key, b.label) for b in made.bars] == [
        ("s0", "1 · A: 10 images"),
        ("s1", "1 · B: 30 images"),
        ("s0", "2 · A: 20 images"),
    ]
    a1, b1, a2 = made.bars
    assert a1.y + a1.height == pytest.approx(made.bottom, abs=0.1)  # on the baseline
    assert b1.y + b1.height == pytest.approx(a1.y, abs=0.1)  # B sits on A
    assert b1.height == pytest.approx(3 * a1.height, abs=0.2)
    assert a2.height == pytest.approx(2 * a1.height, abs=0.2)
    assert a1.x < a2.x and a1.width == a2.width and a1.x == b1.x
    assert made.left <= a1.x and a2.x + a2.width <= made.right
    # The axis reaches a round number at or above the highest stack (40): 0, 10, ..., 40.
    assert [t.label for t in made.ticks] == ["0", "10", "20", "30", "40"]
    assert made.ticks[0].y == made.bottom and made.ticks[-1].y == pytest.approx(made.top)
    assert b1.y == pytest.approx(made.top, abs=0.1)  # the highest stack touches the top


def test_a_value_that_is_there_is_never_invisible_and_none_draws_nothing() -> None:
    made = stacked_bars(
        ident="c",
        title="t",
        desc="d",
        unit="ms",
        categories=["a", "b", "c"],
        series=[Series("ok", "ok", (0, 5000, None))],
        category_name="poll",
    )
    assert len(made.bars) == 2
    assert made.bars[0].height == MIN_BAR and made.bars[1].height > 100
    assert made.rows == (("a", "0", "0"), ("b", "5,000", "5,000"), ("c", "0", "0"))
    assert made.columns == ("poll", "ok", "total")
    assert made.legend[0].total == "5,000"


def test_grid_steps_are_round_numbers() -> None:
    assert [nice_step(m) for m in (0, 3, 40, 41, 95, 1234, 99_999)] == [
        1.0,
        1.0,
        10.0,
        20.0,
        25.0,
        500.0,
        25_000.0,
    ]
    assert number(1234) == "1,234" and number(2.5) == "2.5" and number(None) == "0"


def test_x_labels_are_thinned_so_they_never_overlap() -> None:
    sols = [str(1900 + i) for i in range(30)]
    made = stacked_bars(
        ident="c",
        title="t",
        desc="d",
        unit="images",
        categories=sols,
        series=[Series("A", "s0", tuple(1 for _ in sols))],
        category_name="sol",
    )
    xs = [label.x for label in made.labels]
    assert 5 <= len(xs) < 30 and made.labels[0].text == "1900"
    assert min(b - a for a, b in pairwise(xs)) >= 4 * 6.2


def test_an_empty_chart_has_no_bars_and_no_rows() -> None:
    made = stacked_bars(
        ident="c", title="t", desc="d", unit="ms", categories=[], series=[], category_name="x"
    )
    assert made.empty and made.bars == () and made.labels == ()


def test_a_series_of_the_wrong_length_is_refused() -> None:
    with pytest.raises(ValueError, match="'A': 1 values, 2 bars"):
        stacked_bars(
            ident="c",
            title="t",
            desc="d",
            unit="ms",
            categories=["1", "2"],
            series=[Series("A", "s0", (1,))],
            category_name="x",
        )


def test_images_chart_gives_every_sol_of_the_window_a_slot_and_the_busiest_cameras_colours() -> (
    None
):
    cameras = [f"CAM_{i}" for i in range(COLOURS + 2)]
    counts = [SolCount(101, camera, 100 - i) for i, camera in enumerate(cameras)]
    counts.append(SolCount(103, None, 4))
    figures = MissionSols(mission="perseverance", first=100, last=104, counts=tuple(counts))
    made = images_chart(figures)
    assert [row[0] for row in made.rows] == ["100", "101", "102", "103", "104"]
    keys = [item.key for item in made.legend]
    assert keys == [f"s{i}" for i in range(COLOURS - 1)] + ["other"]
    assert made.legend[0].name == "Cam 0 (CAM_0)" and made.legend[-1].name == "4 other cameras"
    # Sol 101: seven named cameras and one "other" layer; sol 103: the camera not given,
    # which has the fewest images, is among the others.
    assert [b.label.split(" · ")[0] for b in made.bars] == ["101"] * COLOURS + ["103"]
    assert made.bars[-1].key == "other" and made.bars[-1].label.endswith(": 4 images")
    assert "on sols 100 to 104; the most on sol 101" in made.desc


def test_images_chart_names_known_cameras_in_words() -> None:
    figures = MissionSols(
        mission="perseverance", first=7, last=7, counts=(SolCount(7, "NAVCAM_LEFT", 3),)
    )
    assert images_chart(figures).legend[0].name == "Navcam left (NAVCAM_LEFT)"


def test_polls_chart_is_one_bar_per_poll_coloured_by_outcome_and_as_tall_as_it_took() -> None:
    outcomes = [PollOutcome.OK, PollOutcome.FAILED, PollOutcome.NOT_MODIFIED, PollOutcome.OK]
    polls = tuple(
        PollRecord(
            source="perseverance",
            started_at=T0 + timedelta(minutes=10 * i),
            finished_at=T0 + timedelta(minutes=10 * i, milliseconds=200 * (i + 1)),
            outcome=outcome,
            requests=2,
            inserted=i,
            error="HTTPStatusError: 503" if outcome is PollOutcome.FAILED else None,
        )
        for i, outcome in enumerate(outcomes)
    )
    made = polls_chart("perseverance", polls)
    assert [b.key for b in made.bars] == ["ok", "failed", "unchanged", "ok"]
    heights = [b.height for b in made.bars]
    assert heights == sorted(heights) and heights[3] == pytest.approx(4 * heights[0], abs=0.5)
    assert made.columns == ("finished", "outcome", "ms", "requests", "new", "error")
    assert made.rows[1] == (
        "2026-11-25 12:10:00 UTC",
        "failed",
        "400",
        "2",
        "1",
        "HTTPStatusError: 503",
    )
    assert "2 ok, 1 not modified, 1 failed; the slowest took 800 ms" in made.desc


def test_deliveries_chart_stacks_sent_pending_and_failed_per_edition() -> None:
    editions = (
        EditionDeliveries(edition=4, sent=3, pending=0, failed=1),
        EditionDeliveries(edition=5),
        EditionDeliveries(edition=6, pending=2),
    )
    made = deliveries_chart(editions)
    assert [(b.key, b.label) for b in made.bars] == [
        ("sent", "4 · sent: 3 messages"),
        ("failed", "4 · failed: 1 messages"),
        ("pending", "6 · pending: 2 messages"),
    ]
    assert made.rows[1] == ("5", "0", "0", "0", "0")
    assert made.desc == "Editions 4 to 6: 3 messages sent, 2 pending, 1 failed."
