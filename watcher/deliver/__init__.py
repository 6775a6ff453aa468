"""Delivering editions: the outbox rules, one module per channel, all free of the database.

``outbox`` (keys, plans, backoff), ``signing`` (tokens, webhook signatures), ``email``
(messages), ``links`` (public URLs) and ``webhook.payload`` are pure; ``smtp``,
``webhook``, ``websub`` and ``team`` do I/O behind the ``Channel`` protocol of ``base``.
The facade part ``watcher.delivery`` wires them to the store.
"""
