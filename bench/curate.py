"""Curation on a replayed busy sol: fingerprint throughput, cards, scenes lost, sequences, rank.

The sol is the demo's generator made busy (``watcher.demo.busy.busy_sol``): its hand-made
scenes (a dust devil crossing a Navcam sequence, Ingenuity's shadow, stereo twins, Hazcam
repeats), V views shot two to five times each in stereo or alone, L lone frames and G
Mastcam-Z stereo views at golden hour (default: at least 500 frames in all). Its records
are replayed through the raw-image source's own normaliser into candidates, and every
frame's ``small`` picture is rendered to a local file first (not timed).

- ``fingerprint``: the fingerprinting job's own code (``watcher.curate.fingerprint``) over
  those files, read and measured one after another in this one process: frames/s.
- ``cards``: the frames grouped by the default rules (``groups.group``, ``GroupRules()``)
  into groups plus frames of their own; ``collapse`` is frames per card. Target >= 5x.
- ``views_lost``: views (what the generator says each frame shows) that no card's hero
  shows, because a card folded them into another view's. Target 0. ``mixed_cards`` counts
  the cards holding frames of two views or more, ``views_split`` the views shown on more
  than one card (not lost, only fewer frames folded).
- ``sequences``: the planted sequences found exactly (one sequence card, the same frames
  in the same order), of those planted. Target: all.
- ``spectacular``: each frame is scored (``score.score``, default weights, the sol's other
  frames as today's queue, its group as context); a card's score is its hero's (the
  group's best by score), cards sorted by score. The rank of each view the generator calls
  spectacular (the two sequences, the golden-hour views) is the place of the first card
  whose hero shows it. Target: all within the first screen of the queue (24 cards).

    .venv/bin/python bench/curate.py [--views V] [--lone L] [--golden G] [--seed S]

JSON on stdout, a short table on stderr; ``run(...)`` returns the results dict.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import report

from watcher.config import SourceConfig
from watcher.curate.fingerprint import fingerprint
from watcher.curate.frames import CurateFrame, GroupRules, frame_of
from watcher.curate.groups import by_score, group
from watcher.curate.score import ScoreContext, ScoreWeights, score
from watcher.demo import Pictures
from watcher.demo.busy import BusySol, busy_sol
from watcher.demo.packaged import DEMO_LATEST_SOL
from watcher.polling.sources import RawImagesAdapter
from watcher.types import Candidate, CandidateData, CandidateStatus, Fingerprint, Group, GroupKind

FIRST_SCREEN = 24  # cards on the queue's first screen
TARGET_COLLAPSE = 5.0
MEASURED_AT = datetime(2026, 12, 1, tzinfo=UTC)
HOSTS = ("nasa.gov", "*.nasa.gov")


def candidates_of(records: Sequence[Mapping[str, Any]]) -> list[Candidate]:
    """The records as the raw-image source stores them, with ids from 1."""
    adapters = {
        category: RawImagesAdapter(
            SourceConfig(
                name=category,
                kind="raw_images",
                url="",
                interval=600,
                jitter=0,
                category=category,
            ),
            HOSTS,
        )
        for category in ("mars2020", "ingenuity")
    }
    made = []
    for number, record in enumerate(records, start=1):
        category = "ingenuity" if "category=ingenuity" in str(record["json_link"]) else "mars2020"
        data = adapters[category].normalise(dict(record))
        if not isinstance(data, CandidateData):
            raise ValueError(f"the source skipped a busy sol's record: {data}")
        fields_of = {f.name: getattr(data, f.name) for f in fields(CandidateData)}
        made.append(
            Candidate(**fields_of, id=number, status=CandidateStatus.NEW, first_seen_at=MEASURED_AT)
        )
    return made


def rendered(sol: BusySol, folder: Path) -> list[Path]:
    """Every frame's ``small`` picture as a local file, in the records' order."""
    pictures = Pictures(folder, shots=sol.shots)
    paths = []
    for record in sol.records:
        imageid = str(record["imageid"])
        pictures.get(imageid, "small")
        path = pictures.path(imageid, "small")
        assert path is not None
        paths.append(path)
    return paths


def measured(paths: Sequence[Path]) -> tuple[list[Fingerprint], float]:
    """Each file read and fingerprinted (candidate ids from 1), and the seconds it took."""
    started = time.perf_counter()
    found = [fingerprint(n, path.read_bytes(), MEASURED_AT) for n, path in enumerate(paths, 1)]
    return found, time.perf_counter() - started


def scored(
    candidates: Sequence[Candidate], prints: Sequence[Fingerprint], groups: Sequence[Group]
) -> dict[int, float]:
    """Each candidate's score, its group as context and the sol's frames as today's."""
    today = tuple((found.candidate_id, found.phash) for found in prints)
    group_of = {member: made for made in groups for member in made.members}
    weights = ScoreWeights()

    def context(candidate_id: int) -> ScoreContext:
        return ScoreContext(today=today, group=group_of.get(candidate_id))

    return {
        each.id: score(each, found, context(each.id), weights).value
        for each, found in zip(candidates, prints, strict=True)
    }


def cards_of(frames: Sequence[CurateFrame], groups: Sequence[Group]) -> list[tuple[int, ...]]:
    """Every card's members, its hero first: the groups, then each frame in none."""
    grouped = {member for made in groups for member in made.members}
    cards = [(made.hero, *(m for m in made.members if m != made.hero)) for made in groups]
    cards += [(frame.candidate_id,) for frame in frames if frame.candidate_id not in grouped]
    return cards


def curation(
    sol: BusySol,
    frames: Sequence[CurateFrame],
    groups: Sequence[Group],
    scores: Mapping[int, float],
) -> dict[str, Any]:
    """The figures of the grouped and scored sol (see the module docstring)."""
    view = {frame.candidate_id: sol.scene_of[frame.external_id] for frame in frames}
    external = {frame.candidate_id: frame.external_id for frame in frames}
    order = {frame.candidate_id: frame.order for frame in frames}
    cards = cards_of(frames, groups)
    shown = {view[card[0]] for card in cards}
    views = set(view.values())
    heroes = Counter(view[card[0]] for card in cards)
    found = {
        tuple(external[m] for m in made.members)
        for made in groups
        if made.kind is GroupKind.SEQUENCE
    }
    ranked = sorted(cards, key=lambda card: (-scores[card[0]], order[card[0]]))
    first_place: dict[str, int] = {}
    for place, card in enumerate(ranked, start=1):
        first_place.setdefault(view[card[0]], place)
    ranks = {name: first_place.get(name) for name in sol.spectacular}
    known = [rank for rank in ranks.values() if rank is not None]
    return {
        "frames": len(frames),
        "views": len(views),
        "cards": len(cards),
        "groups": len(groups),
        "collapse": round(len(frames) / len(cards), 2),
        "views_lost": len(views - shown),
        "mixed_cards": sum(len({view[m] for m in card}) > 1 for card in cards),
        "views_split": sum(count > 1 for count in heroes.values()),
        "sequences_planted": len(sol.sequences),
        "sequences_found_exactly": len(found & set(sol.sequences)),
        "sequence_cards": len(found),
        "spectacular_ranks": ranks,
        "spectacular_worst_rank": max(known) if len(known) == len(ranks) else None,
        "spectacular_scores": {
            name: None if rank is None else scores[ranked[rank - 1][0]]
            for name, rank in ranks.items()
        },
        "first_screen": FIRST_SCREEN,
        "first_screen_last_score": scores[ranked[min(FIRST_SCREEN, len(ranked)) - 1][0]],
    }


def run(*, views: int, lone: int, golden: int, seed: int = DEMO_LATEST_SOL) -> dict[str, Any]:
    """Build, render, measure, group and score the busy sol; the results dict."""
    sol = busy_sol(views=views, lone=lone, golden=golden, seed=seed)
    candidates = candidates_of(sol.records)
    with tempfile.TemporaryDirectory(prefix="watcher-bench-curate-") as folder:
        prints, seconds = measured(rendered(sol, Path(folder)))
    frames = [frame_of(each, found) for each, found in zip(candidates, prints, strict=True)]
    rules = GroupRules()
    started = time.perf_counter()
    groups = group(frames, rules)
    scores = scored(candidates, prints, groups)
    groups = group(frames, rules, by_score(scores))
    curating = time.perf_counter() - started
    results = {
        "fingerprinted": len(prints),
        "fingerprint_seconds": round(seconds, 2),
        "fingerprints_per_s": round(len(prints) / seconds, 1),
        "group_and_score_seconds": round(curating, 2),
        **curation(sol, frames, groups, scores),
    }
    ranks = results["spectacular_ranks"].values()
    met = {
        "collapse": results["collapse"] >= TARGET_COLLAPSE,
        "views_lost": results["views_lost"] == 0,
        "sequences": results["sequences_found_exactly"] == results["sequences_planted"],
        "spectacular": all(rank is not None and rank <= FIRST_SCREEN for rank in ranks),
    }
    return {
        **results,
        "target_collapse": TARGET_COLLAPSE,
        "target_views_lost": 0,
        "target_sequences": "all planted",
        "target_spectacular_rank": FIRST_SCREEN,
        "met": met,
        "meets_target": all(met.values()),
    }


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--views", type=int, default=76, help="views shot 2-5 times each")
    parser.add_argument("--lone", type=int, default=16, help="frames of their own")
    parser.add_argument("--golden", type=int, default=4, help="Mastcam-Z views at golden hour")
    parser.add_argument("--seed", type=int, default=DEMO_LATEST_SOL)
    args = parser.parse_args(argv)
    results = run(views=args.views, lone=args.lone, golden=args.golden, seed=args.seed)
    report("curate", results)
    return results


if __name__ == "__main__":
    main()
