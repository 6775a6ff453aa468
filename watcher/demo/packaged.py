"""The recorded NASA responses shipped inside the package, and the ready-made demo emulator.

A user's clone has no ``../shared`` folder, so the demo and any test that needs a real
capture offline read these copies (``watcher/demo/feeds/``, each with its
``.source.txt`` provenance note) through ``importlib.resources``.
"""

from __future__ import annotations

import calendar
import json
import time
from importlib import resources
from pathlib import Path
from typing import Any

from watcher.demo.datasets import RecordedRawImages
from watcher.demo.downlink import View, ViewReleases, busy_views
from watcher.demo.image_library import ImageLibraryDataset
from watcher.demo.library import demo_library_items, with_demo_news
from watcher.demo.records import RecordFactory
from watcher.demo.scenes import SHADOW_FRAMES, DemoScenes, build_scenes
from watcher.demo.server import NasaEmulator
from watcher.demo.synthetic import SyntheticRawImages

PERSEVERANCE_CAPTURE = "m2020_raw_images_sol1965_navcam_right_p0.json"
IMAGE_LIBRARY_CAPTURE = "images_api_search_q_mars_2019-01.json"
NASA_RSS_CAPTURE = "nasa_gov_main_feed_wordpress_2024-03-14.rss"
PACKAGED_FEEDS = (PERSEVERANCE_CAPTURE, IMAGE_LIBRARY_CAPTURE, NASA_RSS_CAPTURE)

# The demo's Perseverance timeline: the capture is from sol 1965, so the synthetic history
# ends with that sol and new sols "arrive" after it.
DEMO_FIRST_SOL = 1900
DEMO_LATEST_SOL = 1965
DEMO_PER_SOL = 8
# The latest sol is busy as a real one: views shot again and again, in stereo or alone.
DEMO_BUSY_VIEWS = 80
DEMO_LONE_FRAMES = 4
DEMO_BUSY_RECEIVED_BEFORE_NEWEST_S = 2 * 3600
INGENUITY_RECORDS = 14_500


def feed_bytes(name: str) -> bytes:
    """The bytes of a packaged capture (one of ``PACKAGED_FEEDS`` or its ``.source.txt``)."""
    return resources.files("watcher.demo").joinpath("feeds", name).read_bytes()


def recorded_perseverance() -> RecordedRawImages:
    """The three real NAVCAM records of sol 1965 (category ``mars2020``)."""
    return RecordedRawImages.from_capture(feed_bytes(PERSEVERANCE_CAPTURE))


def recorded_image_library() -> ImageLibraryDataset:
    """The 100 items of a real ``/search?q=mars`` answer (97 images, 3 videos)."""
    return ImageLibraryDataset.from_capture(feed_bytes(IMAGE_LIBRARY_CAPTURE))


def nasa_rss() -> bytes:
    """nasa.gov's WordPress RSS feed as captured on 2024-03-14 (9 items)."""
    return feed_bytes(NASA_RSS_CAPTURE)


def demo_scenes() -> DemoScenes:
    """The hand-made scenes ``demo_emulator`` adds (see ``watcher.demo.scenes``)."""
    return _demo_datasets()[2]


def demo_busy_views() -> list[View]:
    """The views and lone frames ``demo_emulator`` adds to the latest sol."""
    return _demo_datasets()[3]


def demo_emulator(
    *,
    port: int = 0,
    release_every: float = 5.0,
    release_batch: int = 1,
    rewrite_images: bool = True,
    latency: float = 0.0,
    picture_dir: Path | None = None,
) -> NasaEmulator:
    """An emulator (not yet started) serving everything the default config polls.

    - ``mars2020``: a synthetic history of sols 1900..1965 (8 records a sol, every 5th a
      thumbnail) plus the three real records of sol 1965, the hand-made scenes of
      sol 1965 (``demo_scenes()``) and its busy downlink (``demo_busy_views()``: 80
      views shot two to five times, in stereo or alone, and 4 lone frames); every
      ``release_every`` seconds ``release_batch`` new views of sol 1966 onwards are
      received (2 to 10 frames each), so candidates visibly arrive the way a real
      downlink's do (``release_every=0`` turns that off).
    - ``ingenuity``: a finished archive of 14,500 records (sols 46..1011), as the real one,
      the last ten of them Ingenuity's shadow sequence on its last sol.
    - ``/search``: a few made-up Perseverance and Ingenuity items (``library.py``) before
      the recorded images-api answer; ``/feed/``: the recorded nasa.gov RSS with one made-up
      Perseverance item first.

    ``rewrite_images`` points image URLs at the emulator's own raster pictures (cached in
    ``picture_dir``, or in memory) so the editor UI and the published animations work
    offline (add the emulator's ``host:port`` to ``security.image_hosts``).
    """
    perseverance, ingenuity, scenes, views = _demo_datasets()
    emulator = NasaEmulator(
        raw_images={"mars2020": perseverance, "ingenuity": ingenuity},
        image_library=ImageLibraryDataset(
            [
                *demo_library_items(),
                *json.loads(feed_bytes(IMAGE_LIBRARY_CAPTURE))["collection"]["items"],
            ]
        ),
        rss={"": with_demo_news(nasa_rss())},
        port=port,
        latency=latency,
        rewrite_images=rewrite_images,
        picture_dir=picture_dir,
        scenes={**scenes.shots, **{k: v for view in views for k, v in view.shots.items()}},
    )
    if release_every > 0:
        releases = ViewReleases(
            factory=RecordFactory("mars2020", perseverance.seed + 1),
            add=perseverance.add,
            shots=emulator.pictures.shots,
            first_sol=DEMO_LATEST_SOL + 1,
            newest_s=int(perseverance.summary().latest or 0),
            seed=perseverance.seed,
        )
        emulator.every(release_every, lambda: [releases.release() for _ in range(release_batch)])
    return emulator


def _demo_datasets() -> tuple[SyntheticRawImages, SyntheticRawImages, DemoScenes, list[View]]:
    """The two raw-image datasets of the demo, scenes and busy views included, the scenes
    and the busy views."""
    perseverance = SyntheticRawImages(
        (DEMO_LATEST_SOL + 1 - DEMO_FIRST_SOL) * DEMO_PER_SOL,
        category="mars2020",
        start_sol=DEMO_FIRST_SOL,
        per_sol=DEMO_PER_SOL,
        thumbnails_every=5,
        seed=2020,
    )
    captured: list[dict[str, Any]] = json.loads(feed_bytes(PERSEVERANCE_CAPTURE))["images"]
    for record in captured:
        perseverance.add(record)
    # The real archive's 14,500 records, of which the shadow sequence is the last few.
    ingenuity = SyntheticRawImages(
        INGENUITY_RECORDS - SHADOW_FRAMES, category="ingenuity", start_sol=46, per_sol=15, seed=2021
    )
    scenes = build_scenes(
        perseverance_sol=DEMO_LATEST_SOL,
        perseverance_newest_s=max(
            _newest_generated(perseverance), *(_unix(r["date_received"]) for r in captured)
        ),
        ingenuity_sol=ingenuity.sol_of(ingenuity.visible_count - 1),
        ingenuity_newest_s=_newest_generated(ingenuity),
        tiles=captured,
        perseverance_seed=perseverance.seed,
        ingenuity_seed=ingenuity.seed,
    )
    for record in scenes.perseverance:
        perseverance.add(record)
    for record in scenes.ingenuity:
        ingenuity.add(record)
    newest = _unix(max(r["date_received"] for r in captured))
    shot, alone = busy_views(
        RecordFactory("mars2020", perseverance.seed),
        sol=DEMO_LATEST_SOL,
        seed=DEMO_LATEST_SOL,
        views=DEMO_BUSY_VIEWS,
        lone=DEMO_LONE_FRAMES,
        received_s=newest - DEMO_BUSY_RECEIVED_BEFORE_NEWEST_S,
    )
    for view in (*shot, *alone):
        for record in view.records:
            perseverance.add(record)
    return perseverance, ingenuity, scenes, [*shot, *alone]


def _newest_generated(data: SyntheticRawImages) -> int:
    return data.received_s(data.visible_count - 1)


def _unix(stamp: str) -> int:
    """``2026-08-31T02:02:58Z`` as Unix seconds."""
    return calendar.timegm(time.strptime(stamp, "%Y-%m-%dT%H:%M:%SZ"))
