"""Image-library items and a news item the demo adds to the recorded answers.

The recorded ``/search?q=mars`` answer (2019) and nasa.gov feed (2024-03-14) hold no
Perseverance or Ingenuity picture, so the demo's on-topic sources would find nothing.
These few image-library items have the recorded items' exact shape (Collection+JSON
``data`` and ``links``, an ``href`` to the asset manifest) and cover the credit rules: a
``secondary_creator``, a ``photographer``, a "Credit:" line at the end of the description,
and only a ``center``. Their ids are made up (``PIA990xx``), so they can never be mistaken
for NASA's. One off-topic item (Pathfinder, 1997) shows the shipped ``exclude`` list at
work. The news item follows the recorded feed's WordPress markup.
"""

from __future__ import annotations

from typing import Any

ASSETS = "https://images-assets.nasa.gov/image"

_ITEMS: tuple[dict[str, Any], ...] = (
    {
        "nasa_id": "PIA99001",
        "title": "Perseverance Looks Across Jezero Crater",
        "description": "NASA's Perseverance Mars rover used its Mastcam-Z camera to view the "
        "delta front of Jezero Crater.",
        "keywords": ["Mars", "Perseverance", "Mars 2020", "Jezero Crater"],
        "date_created": "2025-06-12T00:00:00Z",
        "secondary_creator": "NASA/JPL-Caltech/ASU/MSSS",
        "center": "JPL",
    },
    {
        "nasa_id": "PIA99002",
        "title": "Ingenuity's Shadow on Flight 72",
        "description": "NASA's Ingenuity Mars Helicopter captured its own shadow with its "
        "navigation camera during its final flight.\n\nImage Credit: NASA/JPL-Caltech",
        "keywords": ["Mars", "Ingenuity", "Mars Helicopter"],
        "date_created": "2024-01-25T00:00:00Z",
        "center": "JPL",
    },
    {
        "nasa_id": "PIA99003",
        "title": "A Dust Devil Seen by Perseverance",
        "description": "A whirlwind crosses the floor of Jezero Crater in this sequence from "
        "Perseverance's navigation cameras.",
        "keywords": ["Mars", "Perseverance", "dust devil"],
        "date_created": "2025-08-30T00:00:00Z",
        "center": "JPL",
    },
    {
        "nasa_id": "KSC-20200730-PH-PERS01",
        "title": "Mars 2020 Perseverance Launch",
        "description": "An Atlas V rocket lifts off with NASA's Mars 2020 Perseverance rover.",
        "keywords": ["Mars 2020", "Perseverance", "Launch"],
        "date_created": "2020-07-30T11:50:00Z",
        "photographer": "NASA/Joel Kowsky",
        "center": "KSC",
    },
    {
        "nasa_id": "PIA99005",
        "title": "Pathfinder's Sojourner Rover, 1997",
        "description": "The Sojourner rover of Mars Pathfinder; a classic for Perseverance "
        "fans, and off the list's topic.",
        "keywords": ["Mars", "Pathfinder", "Perseverance"],
        "date_created": "1997-07-06T00:00:00Z",
        "center": "JPL",
    },
)


def demo_library_items() -> list[dict[str, Any]]:
    """The demo's items in the search answer's shape (fresh copies)."""
    items = []
    for fields in _ITEMS:
        nasa_id = fields["nasa_id"]
        data = {**fields, "media_type": "image"}
        items.append(
            {
                "href": f"{ASSETS}/{nasa_id}/collection.json",
                "data": [data],
                "links": [
                    {
                        "rel": "preview",
                        "render": "image",
                        "href": f"{ASSETS}/{nasa_id}/{nasa_id}~thumb.jpg",
                    }
                ],
            }
        )
    return items


_NEWS_ITEM = """\t<item>
\t\t<title>NASA&#8217;s Perseverance Rover Watches a Dust Devil Cross Jezero Crater</title>
\t\t<link>https://www.nasa.gov/image-article/demo-perseverance-dust-devil/</link>
\t\t<dc:creator><![CDATA[watcher demo]]></dc:creator>
\t\t<pubDate>Thu, 14 Mar 2024 16:00:00 +0000</pubDate>
\t\t<category><![CDATA[Perseverance (Rover)]]></category>
\t\t<guid isPermaLink="false">https://www.nasa.gov/?post_type=image-article&#038;p=990003</guid>
\t\t<description><![CDATA[A whirlwind crosses the floor of Jezero Crater in frames
from Perseverance&#8217;s navigation cameras. [&#8230;]]]></description>
\t\t<content:encoded><![CDATA[<figure class="hds-media-inner"><img fetchpriority="high"
width="1200" height="900" src="ASSETS/PIA99003/PIA99003~large.jpg"
class="attachment-2048x2048 size-2048x2048" alt="A pale column of dust over a rocky crater floor."
srcset="ASSETS/PIA99003/PIA99003~medium.jpg 800w, ASSETS/PIA99003/PIA99003~large.jpg 1200w"
sizes="(max-width: 1200px) 100vw, 1200px" />
<figcaption>A dust devil seen by Perseverance. Credit: NASA/JPL-Caltech</figcaption></figure>
<p>NASA&#8217;s Perseverance Mars rover caught a dust devil crossing Jezero Crater.</p>
]]></content:encoded>
\t</item>
"""


def with_demo_news(feed: bytes) -> bytes:
    """The recorded nasa.gov feed with one made-up Perseverance item first, in the same
    WordPress markup (a lead figure, srcset, a credit in the caption); its pictures use the
    image library's naming, which the emulator serves in the demo."""
    item = _NEWS_ITEM.replace("ASSETS", ASSETS).encode()
    head, marker, rest = feed.partition(b"\t<item>")
    return head + item + marker + rest if marker else feed
