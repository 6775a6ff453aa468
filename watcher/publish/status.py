"""The page's status line: when the list last changed, and why it may be quiet.

Readers who see no new picture for days deserve a reason, but only a true one: a note is
shown when a feed has been failing for a while (from source health), or when Mars is near
solar conjunction (the Sun between Earth and Mars; missions then send little or nothing
for about two weeks). The wording is stable over time (a date, never "for 3 hours"), so
the page is not rewritten at every poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from watcher.config import SourceConfig
from watcher.types import Health, SourceHealth

# Mars solar conjunctions (approximate dates of the Sun-Mars alignment). Missions pause
# commanding for roughly two weeks around each. Extend when a new one is announced.
SOLAR_CONJUNCTIONS = (
    date(2021, 10, 8),
    date(2023, 11, 18),
    date(2026, 1, 9),
)
CONJUNCTION_WINDOW = timedelta(days=14)
# A feed counts as quiet-making only after failing this long (a blip is not news).
FAILING_FOR = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class QuietSource:
    """A source as the status line names it (``label``: "Perseverance's raw-image feed")."""

    label: str
    health: SourceHealth


def source_label(source: SourceConfig) -> str:
    """How the status line names a source: "Perseverance's raw-image feed"."""
    if source.kind == "raw_images":
        mission = "Ingenuity" if source.category == "ingenuity" else "Perseverance"
        return f"{mission}'s raw-image feed"
    if source.kind == "image_library":
        return "NASA's Image and Video Library"
    if source.kind == "rss":
        return "the nasa.gov news feed"
    return f"The {source.name} feed"


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def source_note(source: QuietSource, now: datetime) -> str | None:
    """A note for one failing source, or None while it is healthy (or failed only just)."""
    health = source.health
    if health.health is not Health.FAILING:
        return None
    label = source.label[:1].upper() + source.label[1:]
    since = health.last_success_at
    if since is not None:
        if now - since < max(FAILING_FOR, timedelta(seconds=3 * health.interval_seconds)):
            return None
        return f"{label} has been unreachable since {_when(since)}; new pictures may be late."
    if health.consecutive_failures < 3:
        return None
    return f"{label} could not be reached yet; new pictures may be late."


def conjunction_note(
    now: datetime, conjunctions: Sequence[date] = SOLAR_CONJUNCTIONS
) -> str | None:
    today = now.astimezone(UTC).date()
    for day in conjunctions:
        if abs(today - day) <= CONJUNCTION_WINDOW:
            return (
                f"Mars is near solar conjunction (around {day.isoformat()}): with the Sun "
                "between Earth and Mars, the missions send few or no pictures for about two "
                "weeks."
            )
    return None


def quiet_notes(sources: Sequence[QuietSource], now: datetime) -> tuple[str, ...]:
    """Every note the status line should carry now, conjunction first."""
    notes = [conjunction_note(now)]
    notes.extend(source_note(source, now) for source in sources)
    return tuple(note for note in notes if note)
