"""Publishing the running list: the ``Publisher`` (editions, the site's files, title and
intro) and its pure parts: ``digest`` (what changed), ``render`` and ``feeds`` (HTML,
Atom, JSON Feed), ``animate`` (Pillow), ``status``, ``cache`` and ``writer`` (the atomic
version-directory writer). ``store`` is what the publisher needs of the database."""
