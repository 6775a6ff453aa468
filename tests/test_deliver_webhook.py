"""Webhooks, WebSub pings and team notices against real loopback HTTP receivers: signed
bodies, retries, timeouts that never delay other receivers, auto-disable, the SSRF guard."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs

import orjson
import pytest

from tests.conftest import Clock, run
from tests.deliver_support import ADMIN, approve_one, http_receiver, publish_edition
from watcher.deliver.signing import verify_webhook
from watcher.exceptions import InvalidInput, PermissionDenied
from watcher.types import Actor, DeliveryChannel, DeliveryStatus, Role


def hook_watcher(watcher_for: Any, database_url: str | None, **sections: Any) -> Any:
    webhooks = {"allow_private": True, "timeout": "1s", "max_failures": 3}
    webhooks.update(sections.pop("webhooks", {}))
    return watcher_for(
        [],
        database_url=database_url,
        server={"public_url": "https://mars.example.org"},
        webhooks=webhooks,
        delivery={"retry_base": "10s", "retry_max": "1m", "lease": "60s"},
        **sections,
    )


def test_webhook_is_signed_verifiable_and_carries_the_edition(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with http_receiver() as receiver:
        watcher = hook_watcher(watcher_for, database_url)
        hook, secret = watcher.add_webhook(receiver.url("/hook"), ADMIN)
        assert secret.startswith("whsec_") and hook.enabled
        entry_id = approve_one(watcher, 7, "Sunset")
        assert publish_edition(watcher, 1, (entry_id,)) == 1
        report = run(watcher.deliver_pending())
        assert (report.claimed, report.sent) == (1, 1)
        [request] = receiver.to("/hook")
        assert verify_webhook(secret, request.body, request.headers["X-Watcher-Signature"], clock())
        assert not verify_webhook(
            "whsec_other", request.body, request.headers["X-Watcher-Signature"], clock()
        )
        assert request.headers["X-Watcher-Delivery"] == f"e1-webhook-w{hook.id}"
        assert request.headers["X-Watcher-Event"] == "edition"
        assert request.headers["Content-Type"] == "application/json"
        body = orjson.loads(request.body)
        assert body["edition"]["number"] == 1 and body["edition"]["added"] == [entry_id]
        assert body["site"] == "https://mars.example.org"
        assert [e["heading"] for e in body["entries"]] == ["Sunset 7"]
        assert body["entries"][0]["images"][0]["full"].endswith("NRF_00007.png")
        assert run(watcher.deliver_pending()).claimed == 0
        assert len(receiver.requests) == 1


def test_a_500_is_retried_later_with_the_same_delivery_key(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with http_receiver() as receiver:
        watcher = hook_watcher(watcher_for, database_url)
        hook, _ = watcher.add_webhook(receiver.url("/hook"), ADMIN)
        receiver.answers["/hook"] = [500]
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        report = run(watcher.deliver_pending())
        assert (report.sent, report.failed) == (0, 1)
        [row] = watcher.list_deliveries(channel=DeliveryChannel.WEBHOOK)
        assert row.status is DeliveryStatus.PENDING and "500" in (row.last_error or "")
        assert row.next_attempt_at > clock()
        assert watcher.list_webhooks()[0].consecutive_failures == 1
        assert run(watcher.deliver_pending()).claimed == 0  # not due yet
        clock.advance(60)
        assert run(watcher.deliver_pending()).sent == 1
        keys = [r.headers["X-Watcher-Delivery"] for r in receiver.to("/hook")]
        assert keys == [f"e1-webhook-w{hook.id}"] * 2
        again = watcher.list_webhooks()[0]
        assert again.consecutive_failures == 0 and again.last_success_at == clock()


def test_a_4xx_is_permanent(watcher_for: Any, database_url: str) -> None:
    with http_receiver() as receiver:
        watcher = hook_watcher(watcher_for, database_url)
        watcher.add_webhook(receiver.url("/hook"), ADMIN)
        receiver.answers["/hook"] = [404]
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        assert run(watcher.deliver_pending()).dead == 1
        [row] = watcher.list_deliveries()
        assert row.status is DeliveryStatus.DEAD and (row.last_error or "").startswith("gave up")


def test_a_hanging_receiver_does_not_delay_another(watcher_for: Any, database_url: str) -> None:
    with http_receiver() as slow, http_receiver() as fast:
        watcher = hook_watcher(watcher_for, database_url)
        slow.hang.add("/hook")
        watcher.add_webhook(slow.url("/hook"), ADMIN)
        watcher.add_webhook(fast.url("/hook"), ADMIN)
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        started = time.monotonic()
        report = run(watcher.deliver_pending())
        elapsed = time.monotonic() - started
        assert (report.sent, report.failed) == (1, 1)
        assert elapsed < 4.0  # the 1 s webhook timeout, not the receiver's 30 s
        statuses = {
            row.target: row.status
            for row in watcher.list_deliveries(channel=DeliveryChannel.WEBHOOK)
        }
        assert sorted(statuses.values()) == [DeliveryStatus.PENDING, DeliveryStatus.SENT]
        assert len(fast.requests) == 1


def test_repeated_failures_disable_a_webhook_until_an_admin_enables_it(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with http_receiver() as receiver:
        watcher = hook_watcher(watcher_for, database_url, webhooks={"max_failures": 2})
        hook, _ = watcher.add_webhook(receiver.url("/hook"), ADMIN)
        receiver.answers["/hook"] = [503] * 10
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        run(watcher.deliver_pending())
        clock.advance(120)
        run(watcher.deliver_pending())
        [disabled] = watcher.list_webhooks()
        assert not disabled.enabled and disabled.consecutive_failures == 2
        assert "503" in (disabled.disabled_reason or "")
        clock.advance(120)
        report = run(watcher.deliver_pending())
        assert report.skipped == 1  # its pending delivery is not sent any more
        assert publish_edition(watcher, 2, (approve_one(watcher, 2),)) == 0
        with pytest.raises(PermissionDenied):
            watcher.enable_webhook(hook.id, Actor("alice", Role.EDITOR))
        enabled = watcher.enable_webhook(hook.id, ADMIN)
        assert enabled.enabled and enabled.consecutive_failures == 0
        assert enabled.disabled_reason is None
        actions = [e.action for e in watcher.audit_events(ADMIN, subject_type="webhook")]
        assert sorted(actions) == ["add", "enable"]


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/hook",
        "http://127.0.0.1:9/hook",
        "http://[::1]/hook",
        "http://169.254.169.254/latest/meta-data",
        "http://[::ffff:127.0.0.1]/hook",
        "http://localhost/hook",
        "http://0.0.0.0/hook",
        "http://224.0.0.1/hook",
    ],
)
def test_private_and_loopback_targets_are_refused_unless_allowed(
    watcher_for: Any, url: str
) -> None:
    watcher = hook_watcher(watcher_for, None, webhooks={"allow_private": False})
    with pytest.raises(InvalidInput) as caught:
        watcher.add_webhook(url, ADMIN)
    assert list(caught.value.errors) == ["url"]
    assert "allow_private" in caught.value.errors["url"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("ftp://example.org/hook", "http"),
        ("http://user:pw@example.org/hook", "credentials"),
        ("http:///nohost", "host"),
        ("not a url", "http"),
    ],
)
def test_malformed_webhook_urls_are_refused(watcher_for: Any, url: str, words: str) -> None:
    watcher = hook_watcher(watcher_for, None)
    with pytest.raises(InvalidInput) as caught:
        watcher.add_webhook(url, ADMIN)
    assert words in caught.value.errors["url"]


def test_the_guard_is_checked_again_at_send_time(watcher_for: Any, tmp_path: Any) -> None:
    with http_receiver() as receiver:
        url = f"sqlite:///{tmp_path / 'shared.db'}"
        allowed = hook_watcher(watcher_for, url)
        allowed.add_webhook(receiver.url("/hook"), ADMIN)
        publish_edition(allowed, 1, (approve_one(allowed, 1),))
        strict = hook_watcher(watcher_for, url, webhooks={"allow_private": False})
        assert run(strict.deliver_pending()).dead == 1
        [row] = strict.list_deliveries()
        assert "refused" in (row.last_error or "") and receiver.requests == []


def test_removing_a_webhook_skips_its_pending_deliveries(
    watcher_for: Any, database_url: str
) -> None:
    with http_receiver() as receiver:
        watcher = hook_watcher(watcher_for, database_url)
        hook, _ = watcher.add_webhook(receiver.url("/hook"), ADMIN)
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        assert watcher.remove_webhook(hook.id, ADMIN).id == hook.id
        assert watcher.list_webhooks() == []
        assert run(watcher.deliver_pending()).skipped == 1
        assert receiver.requests == []


def test_websub_hubs_are_pinged_with_the_feed(watcher_for: Any, database_url: str) -> None:
    with http_receiver() as hub:
        watcher = hook_watcher(
            watcher_for, database_url, publish={"websub_hubs": [hub.url("/hub")]}
        )
        assert publish_edition(watcher, 1, (approve_one(watcher, 1),)) == 1
        assert run(watcher.deliver_pending()).sent == 1
        [ping] = hub.to("/hub")
        assert ping.headers["Content-Type"] == "application/x-www-form-urlencoded"
        form = parse_qs(ping.body.decode())
        assert form == {
            "hub.mode": ["publish"],
            "hub.url": ["https://mars.example.org/feed.atom"],
        }


def test_team_channel_hears_of_editions_and_of_new_candidates_once_per_window(
    watcher_for: Any, database_url: str, clock: Clock
) -> None:
    with http_receiver() as team:
        target = f"json://127.0.0.1:{team.port}/team"
        watcher = hook_watcher(watcher_for, database_url, apprise={"urls": [target]})
        publish_edition(watcher, 1, (approve_one(watcher, 1),))
        assert run(watcher.deliver_pending()).sent == 1
        [notice] = team.to("/team")
        assert "edition 1" in orjson.loads(notice.body)["title"]
        watcher.note_new_candidates(5)
        watcher.note_new_candidates(3)
        watcher.note_new_candidates(0)
        assert run(watcher.deliver_pending()).claimed == 0  # a minute's delay first
        clock.advance(61)
        assert run(watcher.deliver_pending()).sent == 1
        assert "waiting for review" in orjson.loads(team.to("/team")[1].body)["message"]
