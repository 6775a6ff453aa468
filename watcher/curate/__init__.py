"""Curation: what makes a day's downlink reviewable in minutes. The ``Curator`` (the
background job that fingerprints new candidates' pictures) and its pure parts:
``fingerprint`` (bytes to hashes and statistics), the grouping and sequence rules and the
score. ``store`` is what the curator needs of the database."""
