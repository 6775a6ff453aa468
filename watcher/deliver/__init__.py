"""Delivering editions: the ``Deliverer`` (the facade's part), the outbox rules and one
module per channel.

``outbox`` (keys, who receives an edition, backoff), ``signing`` (tokens, webhook
signatures), ``links`` (public and signed URLs), ``dispatch`` (what a claimed row becomes),
``channels.email`` (messages) and ``channels.webhook.payload`` are pure; ``channels.smtp``,
``channels.webhook``, ``channels.websub`` and ``channels.team`` do I/O behind the
``Channel`` protocol of ``channels.channel``; ``worker`` runs one cycle's sends. The
``Deliverer`` (``deliverer``) wires them to the store through the ``store`` Protocol.

What "exactly once" means here, precisely
-----------------------------------------
An edition and its outbox rows (one per confirmed subscriber, enabled webhook, WebSub
hub and team channel) are written in one transaction: either both exist or neither, so
no receiver is forgotten and none is enqueued twice (each row's key, e.g.
``e12-email-s345``, is unique in the table).

A worker then *claims* due rows by writing its name and a lease expiry on them
(``delivery.lease``, default 5 min; on PostgreSQL with ``FOR UPDATE SKIP LOCKED`` so
replicas take disjoint rows), sends each, and marks it sent (results are written in
batches at least every quarter of a second). If the worker dies between a receiver
accepting a message and the mark being written, the row is still pending under an
expired-to-be lease; once ``lease_until`` passes, any worker claims it again and sends it
again. So delivery is **at least once**, with these bounds:

- a duplicate happens only after a crash (or a lost reply) in that window, and at most
  once per crash per row;
- the resend carries the same idempotency key: the same ``Message-ID`` for a mail and the
  same ``X-Watcher-Delivery`` header for a webhook, so a receiver that remembers keys
  (webhook receivers should) gets exactly-once *processing*;
- it comes no sooner than the lease expiry after the original claim, and no later than
  the worker's next cycle after that (the service sleeps until ``next_delivery_at``);
- a worker whose lease ran short releases rows it has not started, and never starts a
  send once 80 % of the lease has passed, so two live workers never hold the
  same row at once (every send is bounded by its channel's timeout, far below the lease).

Nothing is ever lost: a row leaves ``pending`` only as ``sent`` or ``dead`` (gave up after
``delivery.max_attempts`` or a permanent refusal, or nothing left to send: the subscriber
left, the webhook was removed — recorded as "skipped: ...").
"""
