"""A loopback emulator of NASA's image feeds, for tests, benchmarks and ``watcher demo``.

Typical use in a test::

    from watcher.demo import Fault, NasaEmulator, SyntheticRawImages

    data = SyntheticRawImages(1_000_000, per_sol=300, thumbnails_every=4)
    with NasaEmulator(raw_images={"mars2020": data}) as nasa:
        source_url = nasa.raw_images_url          # http://127.0.0.1:PORT/rss/api/
        nasa.inject(Fault.unavailable(retry_after=60), path_prefix="/rss/api/")
        ...                                        # poll it
        data.release(5)                            # five new records arrive
        data.add_late(sol=12)                      # a late downlink of an old sol
        assert nasa.request_count("/rss/api/") == 3

The offline demo: ``demo_emulator().start()`` (see ``watcher.demo.packaged``).
Modules: ``server`` (the emulator: what is served where, one request's life), ``wire``
(HTTP plumbing), ``injection`` (faults applied to requests), ``faults`` (the fault values),
``responses`` (the answers), ``local_pictures`` (URLs pointed at the emulator's pictures),
``datasets`` (the raw-image dataset contract, recorded records), ``synthetic`` (generated
raw images), ``image_library`` (images-api items), ``records`` (synthetic record shape),
``queries`` (request parsing), ``pictures`` (JPEG/PNG per imageid, drawn by ``terrain``),
``scenes`` (hand-made sequences, stereo twins, tiles), ``placeholder`` (the old SVG, for
``.svg`` URLs), ``library`` (the demo's made-up items), ``packaged``, ``behaviours``.
"""

from __future__ import annotations

from watcher.demo.datasets import RawImagesDataset, RawImagesResult, RecordedRawImages
from watcher.demo.faults import Fault, FaultKind
from watcher.demo.image_library import ImageLibraryDataset
from watcher.demo.packaged import (
    PACKAGED_FEEDS,
    demo_emulator,
    demo_scenes,
    feed_bytes,
    nasa_rss,
    recorded_image_library,
    recorded_perseverance,
)
from watcher.demo.pictures import Pictures, Shot
from watcher.demo.queries import ImageLibraryQuery, RawImagesQuery
from watcher.demo.scenes import DemoScenes
from watcher.demo.server import NasaEmulator, RecordedRequest
from watcher.demo.synthetic import SyntheticRawImages

__all__ = [
    "PACKAGED_FEEDS",
    "DemoScenes",
    "Fault",
    "FaultKind",
    "ImageLibraryDataset",
    "ImageLibraryQuery",
    "NasaEmulator",
    "Pictures",
    "RawImagesDataset",
    "RawImagesQuery",
    "RawImagesResult",
    "RecordedRawImages",
    "RecordedRequest",
    "Shot",
    "SyntheticRawImages",
    "demo_emulator",
    "demo_scenes",
    "feed_bytes",
    "nasa_rss",
    "recorded_image_library",
    "recorded_perseverance",
]
