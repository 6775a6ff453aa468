"""Property tests of the parsers test_sources_properties leaves out (to come), and the
breaks they found, kept as examples.
"""

from __future__ import annotations

from .test_sources_properties import RAW, RAW_REQUEST

# -- what these properties found, kept as examples -------------------------------------


def test_a_latest_at_the_start_of_time_starts_a_listing_instead_of_overflowing() -> None:
    page = RAW.parse_page(b'{"latest": "0001-01-01T06:00:00Z"}', RAW_REQUEST)
    assert page.marker == "0001-01-01T06:00:00Z"
    assert page.next is not None
    assert ("condition_2", "0001-01-01T00:00:00Z:date_received:gte") in page.next.params
