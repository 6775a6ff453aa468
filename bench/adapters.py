"""Result rows for the scripts that print their own JSON shape (written before
``common.result``): each adapter reads one script's JSON object and returns its rows for
``bench/run.py``. A new script adds ``rows=[result(...), ...]`` to its ``report`` instead
and needs no adapter."""

from __future__ import annotations

from typing import Any

from common import result

Rows = list[dict[str, Any]]


def ingest(found: dict[str, Any]) -> Rows:
    records = f"{found['records']:,} records"
    watcher, plain = (
        found["watcher_normalise_store_records_per_s"],
        found["baseline_executemany_records_per_s"],
    )
    return [
        result(
            "ingest: watcher vs plain sqlite3.executemany (records/s ratio)",
            found["ratio"],
            "x",
            target=f">= {found['target_ratio']}",
            met=found["meets_target"],
            detail=f"{watcher:,} vs {plain:,} records/s, {records}, best of "
            f"{found['repeat']}; {found['ratio_with_json_decoding']} with JSON decoding",
            better="higher",
        ),
        result(
            "ingest: plain sqlite3.executemany into the same table (the limit)",
            plain,
            "records/s",
            detail=f"{records}, rows already built, same schema, indexes and FTS trigger",
            better="higher",
        ),
        result(
            "ingest: watcher normalise + store",
            watcher,
            "records/s",
            detail=f"{records}; {found['watcher_parse_normalise_store_records_per_s']:,} "
            "records/s with JSON decoding",
            better="higher",
        ),
    ]


def backfill(found: dict[str, Any]) -> Rows:
    size = f"{found['records']:,} records"
    complete = found["stored"] == found["records"]
    return [
        result(
            f"backfill: peak RSS ({size})",
            found["peak_rss_mb"],
            "MB",
            target=f"< {found['target_peak_rss_mb']} MB",
            met=found["meets_target"],
            detail=f"{found['requests']:,} requests to the loopback emulator; "
            f"{'all stored once' if complete else 'NOT all stored'}",
            better="lower",
        ),
        result(
            f"backfill: records/s ({size})",
            found["records_per_s"],
            "records/s",
            detail=f"{found['seconds']} s, database {found['database_mb']} MB",
            better="higher",
        ),
    ]


def editor(found: dict[str, Any]) -> Rows:
    size = f"{found['records']:,} candidates"
    p95 = {k[: -len(" p95_ms")]: v for k, v in found.items() if k.endswith(" p95_ms")}
    worst = max(p95, key=lambda k: p95[k])
    return [
        result(
            f"queue page: worst p95 of {len(p95)} scenarios ({size})",
            found["worst_p95_ms"],
            "ms",
            target=f"< {found['target_p95_ms']} ms",
            met=found["meets_target"],
            detail=f"worst: {worst}; Server-Timing, {found['requests_per_scenario']} "
            "requests a scenario",
            better="lower",
        ),
        result(
            f"queue page: first page p50 ({size})",
            found["first page p50_ms"],
            "ms",
            detail="GET /editor as a signed-in editor, Server-Timing",
            better="lower",
        ),
    ]


def status(found: dict[str, Any]) -> Rows:
    return [
        result(
            f"status page: p95 ({found['records']:,} candidates)",
            found["page_p95_ms"],
            "ms",
            target=f"< {found['target_p95_ms']} ms",
            met=found["meets_target"],
            detail=f"p50 {found['page_p50_ms']} ms, figures' queries p50 "
            f"{found['figures_p50_ms']} ms, {found['requests']} requests",
            better="lower",
        )
    ]


REPUBLISH_TARGET = 0.5  # issue 14: a whole republish after one edit, at 10,000 entries
APPROVAL_TARGET = 0.5  # issue 14: approval -> public page p50, debounce 0
MAIL_TARGET = 300


def publish(found: dict[str, Any]) -> Rows:
    size = f"{found['entries']:,} entries"
    again = found["republish"]
    phases = ", ".join(
        f"{k} {again[k]}"
        for k in ("read", "diff", "commit", "render", "write", "sync", "cache")
        if k in again
    )
    rows = [
        result(
            f"publish: whole republish after one edit ({size})",
            again["total"],
            "s",
            target=f"< {REPUBLISH_TARGET} s",
            met=again["total"] < REPUBLISH_TARGET,
            detail=f"{phases}; {again.get('files_written')} files written, "
            f"{again.get('files_linked')} linked",
            better="lower",
        ),
        result(
            f"publish: first publish after a restart ({size})",
            found["restart"]["total"],
            "s",
            detail="one entry edited, caches kept on disk, process state gone",
            better="lower",
        ),
        result(
            f"publish: first publish ever ({size})",
            found["cold"]["total"],
            "s",
            detail=f"{found['cold'].get('files_written')} files written",
            better="lower",
        ),
    ]
    if "approval_to_page_p50_s" in found:
        rows.append(
            result(
                "publish: approval -> public page p50 (debounce 0)",
                found["approval_to_page_p50_s"],
                "s",
                target=f"< {APPROVAL_TARGET} s",
                met=found["approval_to_page_p50_s"] < APPROVAL_TARGET,
                detail=f"{found['approvals']} approvals on {size}; p95 "
                f"{found['approval_to_page_p95_s']} s",
                better="lower",
            )
        )
    mail = found.get("mail")
    if mail:
        for path, key, what in (
            ("SMTP channel", "channel", "stamped mails through SmtpChannel"),
            ("whole outbox worker", "worker", "claim, build, send, mark sent"),
        ):
            rate = mail[f"{key}_messages_per_s"]
            rows.append(
                result(
                    f"mail fan-out: {path} (messages/s)",
                    rate,
                    "messages/s",
                    target=f">= {MAIL_TARGET}/s",
                    met=rate >= MAIL_TARGET,
                    detail=f"{mail['mails']:,} mails to a loopback aiosmtpd sink; {what}",
                    better="higher",
                )
            )
    return rows


def curate(found: dict[str, Any]) -> Rows:
    met = found["met"]
    return [
        result(
            "curate: frames per card on a busy sol",
            found["collapse"],
            "x",
            target=f">= {found['target_collapse']}",
            met=met["collapse"],
            detail=f"{found['frames']} frames, {found['cards']} cards",
            better="higher",
        ),
        result(
            "curate: views lost (no card shows them)",
            found["views_lost"],
            "views",
            target="0",
            met=met["views_lost"],
            detail=f"{found['mixed_cards']} mixed cards, {found['views_split']} views split",
        ),
        result(
            "curate: planted sequences found exactly",
            found["sequences_found_exactly"],
            "sequences",
            target=f"all {found['sequences_planted']}",
            met=met["sequences"],
        ),
        result(
            "curate: worst rank of a spectacular view",
            found["spectacular_worst_rank"],
            "rank",
            target=f"<= {found['target_spectacular_rank']}",
            met=met["spectacular"],
            detail=", ".join(f"{k} {v}" for k, v in found["spectacular_ranks"].items()),
        ),
        result(
            "curate: fingerprints/s (one process, local files)",
            found["fingerprints_per_s"],
            "frames/s",
            detail=f"{found['fingerprinted']} frames",
            better="higher",
        ),
    ]
