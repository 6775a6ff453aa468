"""The Content-Security-Policy of every page watcher makes: one policy for the header that
``watcher run`` sends and for the ``<meta>`` tag the published site's pages carry, so a copy
served by any static host (``watcher export``, or a proxy serving ``site_dir``) is held to
the same rules as the app's own answers.

Scripts and styles only from the site itself, images from it and the configured image
hosts, no plugins, no ``<base>``, forms only to the site (or, for an export, to the watcher
its sign-up form posts to). ``frame-ancestors`` is header-only: a ``<meta>`` policy cannot
carry it (browsers ignore it there and complain in the console), so the meta form leaves it
out; everything else is the same text.
"""

from __future__ import annotations

from collections.abc import Iterable

HEADER_ONLY = ("frame-ancestors 'none'",)


def content_security_policy(
    image_hosts: Iterable[str], *, form_targets: Iterable[str] = (), meta: bool = False
) -> str:
    """The policy for pages showing pictures from ``image_hosts`` (as ``[security]
    image_hosts`` has them: ``mars.nasa.gov``, ``*.nasa.gov``, ``127.0.0.1:8123``).

    ``form_targets`` are origins forms may post to besides the site itself. ``meta``: the
    form for ``<meta http-equiv>``, without the directives only a header can carry.
    """
    images = ["'self'", "data:"]
    forms = ["'self'", *form_targets]
    for host in image_hosts:
        images += [f"https://{host}", f"http://{host}"]
    directives = [
        "default-src 'self'",
        f"img-src {' '.join(images)}",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        f"form-action {' '.join(forms)}",
    ]
    if not meta:
        directives += HEADER_ONLY
    return "; ".join(directives)
