"""One module per way an edition leaves watcher, behind the ``Channel`` protocol of
``channel``: ``smtp`` (with ``email`` building the messages), ``webhook``, ``websub`` and
``team`` (Apprise)."""
