"""Why ``watcher queue`` found nothing, in one line: a bare "0 candidates" leaves a person
guessing whether watcher is broken, idle, or simply done. Pure: it reads the sources'
health (what ``watcher sources`` shows, with each source's candidates of any status) and
the filters asked for."""

from __future__ import annotations

from collections.abc import Sequence

from watcher.types import CandidateStatus, Health, SourceHealth

ERROR_CHARS = 60
NOT_POLLED = "no source has been polled yet: run `watcher poll --once` or `make run`"


def why_empty(
    sources: Sequence[SourceHealth], *, status: CandidateStatus | None, source: str | None
) -> str:
    """The reason an empty answer to ``watcher queue --status STATUS --source SOURCE`` is
    empty (``status`` None: every status), the most telling first. Polling explains an
    empty list of new candidates (or of any, when there are none at all): nothing polled
    yet, or every source failing. Else the candidates are all decided already, or the
    filters leave out what there is."""
    asked = [s for s in sources if source is None or s.name == source]
    enabled = [s for s in asked if s.health is not Health.DISABLED]
    failing = [s for s in enabled if s.health is Health.FAILING]
    total = sum(s.candidates for s in asked)
    about_polling = total == 0 or status in (None, CandidateStatus.NEW)
    if not asked:
        return "no source is configured: add a [[sources]] table to the config"
    if about_polling and not enabled:
        every = "every source is" if source is None else f"{source} is"
        return f"{every} disabled (enabled = false in the config)"
    if total == 0 and all(s.last_attempt_at is None for s in enabled):
        if source is not None:
            return f"{source} has not been polled yet: run `watcher poll --once -s {source}`"
        return NOT_POLLED
    if about_polling and len(failing) == len(enabled):
        every = "every source is" if source is None else f"{source} is"
        return f"{every} failing: {', '.join(map(_failure, failing))}; see `watcher sources`"
    if total > 0 and status is not None:
        shown = f"{_count(total)} in other statuses (--status all lists them)"
        if about_polling and failing:
            shown += f"; failing: {', '.join(map(_failure, failing))}"
        return f"nothing {status.value}: {shown}"
    everywhere = sum(s.candidates for s in sources)
    if everywhere > 0:
        return f"no candidate matches these filters ({_count(everywhere)} in all)"
    return "no candidate yet: the sources were polled and kept nothing; see `watcher sources`"


def _failure(source: SourceHealth) -> str:
    error = " ".join((source.last_error or "no message").split())
    if len(error) > ERROR_CHARS:
        error = error[: ERROR_CHARS - 1].rstrip() + "…"
    return f"{source.name} (last error {error})"


def _count(n: int) -> str:
    return f"{n} candidate{'' if n == 1 else 's'}"
