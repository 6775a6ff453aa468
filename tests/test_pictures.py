"""Which file an entry shows, at what size, and what "larger" opens (watcher.pictures)."""

from __future__ import annotations

import json
from pathlib import Path

from watcher import pictures
from watcher.pictures import Rendition, choose, renditions, shown_credit, still, url_size
from watcher.polling.sources import credits
from watcher.types import Frame

RAW = "https://mars.nasa.gov/mars2020-raw-images/pub/ods/surface/sol/01965/ncam/NRF_1965"
WP = "https://www.nasa.gov/wp-content/uploads/2024/03/grc-2024-c-01578.jpg"
LIBRARY = "https://images-assets.nasa.gov/image/PIA23764/PIA23764"


def frame(**fields: object) -> Frame:
    values: dict[str, object] = {
        "candidate_id": 1,
        "taken_at": None,
        "thumbnail_url": f"{RAW}_320.jpg",
        "medium_url": f"{RAW}_800.jpg",
        "large_url": f"{RAW}_1200.jpg",
        "full_url": f"{RAW}.png",
        "width": 1600,
        "height": 1200,
    }
    values.update(fields)
    return Frame(**values)  # type: ignore[arg-type]


def widths(shown: tuple[Rendition, ...]) -> dict[str, int | None]:
    return {file.name: file.width for file in shown}


def test_raw_image_renditions_take_their_widths_from_the_names_and_the_record(
    nasa_fixtures: Path,
) -> None:
    capture = nasa_fixtures / "m2020_raw_images_sol1965_navcam_right_p0.json"
    record = json.loads(capture.read_text())["images"][0]
    files = record["image_files"]
    width, height = (int(n) for n in record["extended"]["dimension"].strip("()").split(","))
    found = renditions(
        frame(
            thumbnail_url=files["small"],
            medium_url=files["medium"],
            large_url=files["large"],
            full_url=files["full_res"],
            width=width,
            height=height,
        )
    )
    assert [(f.name, f.width, f.height) for f in found] == [
        ("thumbnail", 320, 240),
        ("medium", 800, 601),
        ("large", 1200, 902),
        ("full", 1288, 968),
    ]


def test_a_rendition_never_claims_to_be_wider_than_the_full_image() -> None:
    small = renditions(frame(width=640, height=480))
    assert widths(small) == {"thumbnail": 320, "medium": 640, "large": 640, "full": 640}
    assert [f.height for f in small] == [240, 480, 480, 480]


def test_wordpress_urls_state_their_width_by_w_or_resize() -> None:
    assert url_size(f"{WP}?w=2048") == (2048, None)
    assert url_size(f"{WP}?resize=1024,683") == (1024, 683)
    assert url_size(f"{WP}?resize=300%2C200&crop=1") == (300, 200)
    assert url_size(f"{WP}?w=0") == (None, None)
    assert url_size(WP) == (None, None)
    found = renditions(
        frame(
            thumbnail_url=f"{WP}?resize=300,200",
            medium_url=f"{WP}?resize=1024,683",
            large_url=f"{WP}?w=2048",
            full_url=WP,
            width=7425,
            height=4950,
        )
    )
    assert widths(found) == {"thumbnail": 300, "medium": 1024, "large": 2048, "full": 7425}
    assert [f.height for f in found] == [200, 683, 1365, 4950]


def test_image_library_renditions_have_no_width_unless_the_full_size_is_known() -> None:
    names = {
        "thumbnail_url": f"{LIBRARY}~thumb.jpg",
        "medium_url": f"{LIBRARY}~medium.jpg",
        "large_url": f"{LIBRARY}~large.jpg",
        "full_url": f"{LIBRARY}~orig.jpg",
    }
    unknown = renditions(frame(**names, width=None, height=None))
    assert widths(unknown) == {"thumbnail": None, "medium": None, "large": None, "full": None}
    sized = renditions(frame(**names, width=3000, height=2000))
    assert widths(sized) == {"thumbnail": None, "medium": None, "large": None, "full": 3000}


def test_only_http_urls_are_renditions_and_each_file_counts_once() -> None:
    found = renditions(
        frame(thumbnail_url="javascript:alert(1)", large_url=f"{RAW}.png", full_url=f"{RAW}.png")
    )
    assert [(f.name, f.url) for f in found] == [
        ("medium", f"{RAW}_800.jpg"),
        ("large", f"{RAW}.png"),
    ]
    assert found[-1].width == 1600  # the full file, listed as "large" too


def test_the_editors_choice_is_honoured_up_to_the_largest_file() -> None:
    every = renditions(frame())
    assert [choose(every, wanted).name for wanted in ("medium", "large", "full")] == [
        "medium",
        "large",
        "full",
    ]
    no_full = renditions(frame(full_url=None))
    assert choose(no_full, "full").name == "large"
    thumbnail_and_full = renditions(frame(medium_url=None, large_url=None))
    assert choose(thumbnail_and_full, "large").name == "thumbnail"  # below first
    above_only = renditions(frame(thumbnail_url=None, medium_url=None))
    assert choose(above_only, "medium").name == "large"  # then the nearest above
    assert choose(every, "no such rendition").name == "large"


def test_a_thumbnail_only_frame_is_shown_at_its_own_size_with_nothing_larger() -> None:
    shown = still(frame(medium_url=None, large_url=None, full_url=None), "full")
    assert shown is not None
    assert (shown.src, shown.width, shown.height) == (f"{RAW}_320.jpg", 320, 240)
    assert shown.srcset is None and shown.sizes is None and shown.larger is None


def test_a_large_choice_fills_the_column_from_the_smallest_file_that_does() -> None:
    shown = still(frame(), "large")
    assert shown is not None
    assert (shown.src, shown.width, shown.height) == (f"{RAW}_800.jpg", 800, 600)
    assert shown.srcset == f"{RAW}_800.jpg 800w, {RAW}_1200.jpg 1200w"
    assert shown.sizes == "(max-width: 800px) 100vw, 800px"
    assert shown.larger == f"{RAW}.png"
    medium = still(frame(), "medium")
    assert medium is not None and medium.srcset is None and medium.larger == f"{RAW}.png"


def test_a_narrower_layout_fits_the_picture_to_it() -> None:
    shown = still(frame(), "medium", layout=608)
    assert shown is not None and (shown.width, shown.height) == (608, 456)


def test_files_of_equal_width_are_listed_once_and_nothing_larger_means_no_link() -> None:
    shown = still(frame(width=800, height=600), "full")
    assert shown is not None
    assert (shown.src, shown.width, shown.srcset) == (f"{RAW}_800.jpg", 800, None)
    assert shown.larger is None  # the full file is no wider than the one shown


def test_a_picture_of_unknown_width_claims_no_size() -> None:
    shown = still(
        frame(
            thumbnail_url=f"{LIBRARY}~thumb.jpg",
            medium_url=f"{LIBRARY}~medium.jpg",
            large_url=f"{LIBRARY}~large.jpg",
            full_url=f"{LIBRARY}~orig.jpg",
            width=None,
            height=None,
        ),
        "large",
    )
    assert shown is not None and shown.src == f"{LIBRARY}~large.jpg"
    assert (shown.width, shown.height, shown.srcset) == (None, None, None)
    assert shown.larger == f"{LIBRARY}~orig.jpg"


def test_a_frame_without_a_usable_file_shows_nothing() -> None:
    bare = frame(thumbnail_url=None, medium_url="data:x", large_url=None, full_url=None)
    assert still(bare, "large") is None


def test_an_empty_credit_is_shown_as_the_sources_default() -> None:
    assert pictures.DEFAULT_CREDIT == credits.DEFAULT_CREDIT
    assert shown_credit("") == shown_credit("  ") == shown_credit(None) == "NASA"
    assert shown_credit(" NASA/JPL-Caltech/MSSS ") == "NASA/JPL-Caltech/MSSS"
