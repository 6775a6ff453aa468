"""Retention: nothing grows forever. The ``Pruner`` (``watcher prune``, and the service's
daily job) and its pure rules (``rules``: the plan of a prune at a given moment, what a
pruned record keeps, which cache files go); ``store`` is what it needs of the database."""
