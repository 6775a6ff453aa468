"""Polling NASA's feeds: the ``Poller`` (polls and backfills, page by page, one transaction
per page), its pure rules (``decide``), ``watcher check``'s ``Checker``, and ``sources/``,
one pure adapter per feed kind. ``store`` is what the poller needs of the database."""
