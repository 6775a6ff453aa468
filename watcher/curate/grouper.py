"""Grouping and scoring: the curation job's second half, after a fingerprinting round.

For the sols the round's candidates were taken on (their new candidates only: a window,
never the whole table) it builds the frames, finds the groups (``groups.group``, heroes
by score) and scores each candidate against what is published and what is queued or
approved on those sols, its own group aside. A score is written only when the digest of
its inputs moved, a group only when it differs from the stored one; both in one plan,
one transaction.

When the ``[curate]`` rules or weights change (a restart with a new config), every
queued candidate's inputs changed: ``catch_up`` walks the queue a few windows a round
(``CATCH_UP_WINDOWS``) until all are grouped and scored by the new rules, remembering how
far it got, and then the rules' digest, in the site settings.

Scores come in two passes: first without groups (to choose each group's hero by score),
then with each candidate's group (a sequence scores; its own members do not count
against its novelty); the heroes are then chosen again by the final scores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import astuple, dataclass, fields
from datetime import timedelta

from watcher.config import CurateConfig
from watcher.curate.frames import GroupRules, frame_of
from watcher.curate.groups import by_score, group, group_of
from watcher.curate.score import ScoreContext, ScoreWeights, score, score_inputs_digest
from watcher.curate.store import CurateStore
from watcher.plans import CurationPlan, GroupRow, ScoreRow
from watcher.types import Candidate, CandidateStatus, Fingerprint, Group

RULES_KEY = "curate.rules"
PROGRESS_KEY = "curate.rules.progress"
CATCH_UP_WINDOWS = 20


@dataclass(frozen=True, slots=True)
class Regrouped:
    """What a grouping round found and wrote: the window's groups, the scores rewritten."""

    groups: int = 0
    scored: int = 0


def rules_of(config: CurateConfig) -> GroupRules:
    """The ``[curate]`` thresholds as the grouping rules take them."""
    return GroupRules(
        similar_distance=config.similar_distance,
        similar_window=timedelta(seconds=config.similar_window),
        sequence_gap=timedelta(seconds=config.sequence_gap),
        sequence_min_frames=config.sequence_min_frames,
        sequence_min_change=config.sequence_min_change,
        sequence_max_change=config.sequence_max_change,
    )


def weights_of(config: CurateConfig) -> ScoreWeights:
    """The ``[curate]`` weights as the score takes them."""
    return ScoreWeights(**{f.name: float(getattr(config, f.name)) for f in fields(ScoreWeights)})


def rules_digest(config: CurateConfig) -> str:
    """A digest of everything in ``[curate]`` that groups and scores: when it moves, the
    stored groups and scores are out of date."""
    described = repr((astuple(rules_of(config)), astuple(weights_of(config))))
    return hashlib.sha256(described.encode()).hexdigest()[:16]


def catch_up(config: CurateConfig, store: CurateStore) -> Regrouped:
    """Regroup the next ``CATCH_UP_WINDOWS`` windows of the queue if the rules changed
    since they were last applied to all of it (see the module docstring)."""
    digest = rules_digest(config)
    stored = store.get_settings(RULES_KEY, PROGRESS_KEY)
    if stored.get(RULES_KEY) == digest:
        return Regrouped()
    mark = stored.get(PROGRESS_KEY, "")
    after = (-1, 0)
    if mark.startswith(f"{digest}:"):
        at, _, last = mark.removeprefix(f"{digest}:").partition(",")
        after = (int(at), int(last))
    windows = store.queued_windows(after, CATCH_UP_WINDOWS)
    groups = scored = 0
    for sol, first in windows:
        done = regroup(config, store, [first])
        groups, scored = groups + done.groups, scored + done.scored
        store.set_setting(PROGRESS_KEY, f"{digest}:{sol},{first}")
    if len(windows) < CATCH_UP_WINDOWS:
        store.set_setting(RULES_KEY, digest)
    return Regrouped(groups=groups, scored=scored)


def regroup(config: CurateConfig, store: CurateStore, touched: Sequence[int]) -> Regrouped:
    """Group and score the window of ``touched`` (see the module docstring)."""
    if not touched:
        return Regrouped()
    window = store.curation_window(touched)
    if not window:
        return Regrouped()
    ids = [candidate.id for candidate in window]
    measured = store.fingerprints_for(ids)
    sols = sorted({c.sol for c in window if c.sol is not None})
    published = tuple(store.phashes_of([CandidateStatus.PUBLISHED]))
    today = tuple(store.phashes_of([CandidateStatus.NEW, CandidateStatus.APPROVED], sols))
    plan, groups = curation_plan(
        config, window, measured, published, today, store.score_digests(ids)
    )
    store.save_curation(plan)
    return Regrouped(groups=groups, scored=len(plan.scores))


def curation_plan(
    config: CurateConfig,
    window: Sequence[Candidate],
    measured: dict[int, Fingerprint],
    published: tuple[tuple[int, int], ...],
    today: tuple[tuple[int, int], ...],
    digests: dict[int, str | None],
) -> tuple[CurationPlan, int]:
    """The scores and groups of ``window`` that differ from the stored ones, and how many
    groups the window holds."""
    weights, rules = weights_of(config), rules_of(config)
    frames = [frame_of(c, measured.get(c.id)) for c in window]
    plain = ScoreContext(published=published, today=today)
    first = {c.id: score(c, measured.get(c.id), plain, weights).value for c in window}
    grouped = group_of(group(frames, rules, by_score(first)))
    final: dict[int, float] = {}
    scores: list[ScoreRow] = []
    for candidate in window:
        fingerprint = measured.get(candidate.id)
        context = ScoreContext(published=published, today=today, group=grouped.get(candidate.id))
        made = score(candidate, fingerprint, context, weights)
        final[candidate.id] = made.value
        digest = score_inputs_digest(candidate, fingerprint, context, weights)
        if digests.get(candidate.id) != digest:
            scores.append(ScoreRow(candidate.id, made.value, made.reasons, digest))
    found = group(frames, rules, by_score(final))
    heroes = group_of(found)
    rows = [_row(c.id, heroes.get(c.id)) for c in window]
    changed = tuple(row for row, c in zip(rows, window, strict=True) if _differs(row, c))
    return CurationPlan(scores=tuple(scores), groups=changed), len(found)


def _row(candidate_id: int, made: Group | None) -> GroupRow:
    if made is None:
        return GroupRow(candidate_id, None, None, 1, True)
    return GroupRow(
        candidate_id, made.leader, made.kind.value, len(made.members), made.hero == candidate_id
    )


def _differs(row: GroupRow, candidate: Candidate) -> bool:
    stored = (candidate.group_id, candidate.group_kind, candidate.group_size, candidate.group_hero)
    return stored != (row.group_id, row.kind, row.size, row.hero)
