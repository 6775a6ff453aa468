"""The editors' desk: the ``Desk`` (approve, reject, undo; edit, reorder and unpublish
entries; the audit log), with the validation every way in shares. ``store`` is what it
needs of the database."""
