"""Deterministic raw-image records shaped like NASA's (see ``feeds/m2020_raw_images_*.json``).

A record is a pure function of ``(category, seed, sol, lmst_ms, received_s, salt)``, so a
dataset of a million records never has to exist in memory: ``SyntheticRawImages`` computes
those inputs from an index and asks ``RecordFactory.make`` for the page it serves.

The Mars clock is calibrated on the real capture (sol 1965, LMST 15:28:38.766 is
2026-08-30T20:47:41.638 UTC), so synthetic records line up with real ones in time, and
``sclk`` and ``date_taken_mars`` agree with ``date_taken_utc`` the way NASA's do.
Keys, nesting, key order and the use of strings (``per_page``, ``drive``, ``extended.*``)
follow the capture; a record serialises to roughly 2 KB like the real one.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

SOL_MS = 88_775_244  # one Martian solar day in Earth milliseconds
MARS_DAY_MS = 86_400_000  # one sol in Mars (LMST) milliseconds
EPOCH_MS = 1_613_622_256_634  # LMST midnight that starts sol 0 (2021-02-18T04:24:16.634Z)
_J2000_MS = 946_728_000_000  # 2000-01-01T12:00:00Z
_SCLK_OFFSET_MS = -1_473_998  # spacecraft clock drift seen in the capture
_M64 = (1 << 64) - 1
_MONTHS = (
    "Jan.",
    "Feb.",
    "March",
    "April",
    "May",
    "June",
    "July",
    "Aug.",
    "Sept.",
    "Oct.",
    "Nov.",
    "Dec.",
)


@dataclass(frozen=True, slots=True)
class Camera:
    instrument: str
    prefix: str  # first two letters of the imageid (third is F for full frames, T for thumbs)
    code: str  # 4-letter code inside the imageid
    directory: str  # folder in the image URL
    title: str
    about: str  # the caption sentence after "using its ..."
    credit: str
    width: int
    height: int


_NAV_ABOUT = "The camera is located high on the rover's mast and aids in driving."
_HAZ_ABOUT = "This camera helps the rover avoid hazards such as rocks and trenches."
_MCZ_ABOUT = "Mastcam-Z is a pair of cameras located high on the rover's mast."
PERSEVERANCE_CAMERAS = (
    Camera(
        "NAVCAM_LEFT",
        "NL",
        "NCAM",
        "ncam",
        "Left Navigation Camera (Navcam)",
        f"onboard Left Navigation Camera (Navcam). {_NAV_ABOUT}",
        "NASA/JPL-Caltech",
        1288,
        968,
    ),
    Camera(
        "NAVCAM_RIGHT",
        "NR",
        "NCAM",
        "ncam",
        "Right Navigation Camera (Navcam)",
        f"onboard Right Navigation Camera (Navcam). {_NAV_ABOUT}",
        "NASA/JPL-Caltech",
        1288,
        968,
    ),
    Camera(
        "FRONT_HAZCAM_LEFT_A",
        "FL",
        "FHAZ",
        "fcam",
        "Front Left Hazard Avoidance Camera (Hazcam)",
        f"onboard Front Left Hazard Avoidance Camera A. {_HAZ_ABOUT}",
        "NASA/JPL-Caltech",
        1280,
        960,
    ),
    Camera(
        "REAR_HAZCAM_RIGHT",
        "RR",
        "RHAZ",
        "rcam",
        "Rear Right Hazard Avoidance Camera (Hazcam)",
        f"onboard Rear Right Hazard Avoidance Camera. {_HAZ_ABOUT}",
        "NASA/JPL-Caltech",
        1280,
        960,
    ),
    Camera(
        "MCZ_LEFT",
        "ZL",
        "ZCAM",
        "zcam",
        "Left Mastcam-Z Camera",
        f"Left Mastcam-Z camera. {_MCZ_ABOUT}",
        "NASA/JPL-Caltech/ASU",
        1648,
        1200,
    ),
    Camera(
        "MCZ_RIGHT",
        "ZR",
        "ZCAM",
        "zcam",
        "Right Mastcam-Z Camera",
        f"Right Mastcam-Z camera. {_MCZ_ABOUT}",
        "NASA/JPL-Caltech/ASU",
        1648,
        1200,
    ),
    Camera(
        "SHERLOC_WATSON",
        "SI",
        "SRLC",
        "shrlc",
        "SHERLOC WATSON Camera",
        "SHERLOC WATSON camera, located on the turret at the end of the rover's robotic arm.",
        "NASA/JPL-Caltech/MSSS",
        1648,
        1200,
    ),
    Camera(
        "SUPERCAM_RMI",
        "LR",
        "SCAM",
        "scam",
        "SuperCam Camera",
        "SuperCam Remote Micro Imager (RMI), located at the top of the rover's mast.",
        "NASA/JPL-Caltech/LANL/CNES/CNRS/ASU/MSSS",
        2048,
        2048,
    ),
)
# Navcams and Hazcams dominate the real feed; the weights say how often each camera fires.
_PERSEVERANCE_WEIGHTS = (6, 6, 3, 2, 4, 4, 1, 1)

INGENUITY_CAMERAS = (
    Camera(
        "HELI_NAV",
        "HN",
        "HNAV",
        "heli",
        "Navigation Camera",
        "navigation camera. This camera is mounted in the helicopter's fuselage and "
        "pointed directly downward to track the ground during flight.",
        "NASA/JPL-Caltech",
        640,
        480,
    ),
    Camera(
        "HELI_RTE",
        "HS",
        "HRTE",
        "heli",
        "Color Camera",
        "high-resolution color camera. This camera is mounted in the helicopter's fuselage "
        "and pointed approximately 22 degrees below the horizon.",
        "NASA/JPL-Caltech",
        4208,
        3120,
    ),
)
_INGENUITY_WEIGHTS = (5, 1)


def mix(value: int) -> int:
    """splitmix64: a fast, well-spread 64-bit hash (deterministic across Python versions)."""
    value = (value + 0x9E3779B97F4A7C15) & _M64
    value = ((value ^ (value >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    value = ((value ^ (value >> 27)) * 0x94D049BB133111EB) & _M64
    return value ^ (value >> 31)


def sol_start_ms(sol: int) -> int:
    """Unix ms of LMST midnight at the start of ``sol`` (Mars 2020 mission sols)."""
    return EPOCH_MS + sol * SOL_MS


def taken_ms(sol: int, lmst_ms: int) -> int:
    """Unix ms at which local mean solar time ``lmst_ms`` occurs on ``sol``."""
    return sol_start_ms(sol) + lmst_ms * SOL_MS // MARS_DAY_MS


def iso_utc(seconds: int) -> str:
    """``2026-08-31T02:02:58Z`` (the format of ``date_received``)."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


class RecordFactory:
    """Builds records for one category (``mars2020`` or ``ingenuity``) and seed."""

    def __init__(self, category: str, seed: int = 0) -> None:
        self.category = category
        self.seed = seed
        cameras: tuple[Camera, ...]
        weights: tuple[int, ...]
        if category == "ingenuity":
            cameras, weights = INGENUITY_CAMERAS, _INGENUITY_WEIGHTS
            self.mission_title = "Mars Helicopter"
            self.vehicle = "NASA's Ingenuity Mars Helicopter"
        else:
            cameras, weights = PERSEVERANCE_CAMERAS, _PERSEVERANCE_WEIGHTS
            self.mission_title = "Mars Perseverance"
            self.vehicle = "NASA's Mars Perseverance rover"
        self._wheel = tuple(
            cam for cam, weight in zip(cameras, weights, strict=True) for _ in range(weight)
        )

    def camera_for(self, salt: int) -> Camera:
        return self._wheel[mix(self.seed * 1_000_003 + salt) % len(self._wheel)]

    def make(
        self,
        *,
        sol: int,
        lmst_ms: int,
        received_s: int,
        salt: int,
        thumbnail: bool = False,
        frame: int | None = None,
        camera: Camera | None = None,
    ) -> dict[str, Any]:
        """One record. ``salt`` (the index) varies the camera and the numbers in it;
        ``camera`` forces one (hand-made scenes: a Navcam sequence, stereo twins)."""
        h = mix(self.seed * 1_000_003 + salt)
        h2 = mix(h)
        camera = camera or self._wheel[h % len(self._wheel)]
        utc_ms = taken_ms(sol, lmst_ms)
        sclk_s, sclk_frac = divmod(utc_ms - _J2000_MS + _SCLK_OFFSET_MS, 1000)
        site = 1 + sol // 19
        drive = (sol * 37 + salt % 7) % 2400
        frame = 1 + salt % 3 if frame is None else frame
        kind = "T" if thumbnail else "F"
        imageid = (
            f"{camera.prefix}{kind}_{sol:04d}_{sclk_s:010d}_{sclk_frac:03d}ECM_"
            f"N{site % 1000:03d}{drive:04d}{camera.code}{(salt // 3) % 100000:05d}_"
            f"{frame:02d}_{h2 % 1000:03d}J"
        )
        # Shared by a sol's frames, as in the capture (and cached: formatting is the cost).
        xyz, attitude = _rover_pose(self.seed, sol)
        taken = time.gmtime(utc_ms // 1000)
        clock, clock_ms = _lmst_clock(lmst_ms)
        return {
            "extended": _extended(h, h2, f"{sclk_s}.{sclk_frac:03d}", xyz, camera, thumbnail),
            "sol": sol,
            "attitude": attitude,
            "image_files": _image_files(sol, camera, imageid),
            "imageid": imageid,
            "camera": _camera_fields(self.seed, camera, sol, mix(h2)),
            "caption": self._caption(camera, sol, taken, clock),
            "sample_type": "Thumbnail" if thumbnail else "Full",
            "date_taken_mars": f"Sol-{sol:05d}M{clock}.{clock_ms:03d}",
            "credit": camera.credit,
            "date_taken_utc": time.strftime("%Y-%m-%dT%H:%M:%S", taken) + f".{utc_ms % 1000:03d}",
            "json_link": (
                "https://mars.nasa.gov/rss/api/?feed=raw_images&category="
                f"{self.category}&feedtype=json&id={imageid}"
            ),
            "link": f"https://mars.nasa.gov/mars2020/multimedia/raw-images/{imageid}",
            "drive": str(drive),
            "title": f"{self.mission_title} Sol {sol}: {camera.title}",
            "site": site,
            "date_received": iso_utc(received_s),
        }

    def _caption(self, camera: Camera, sol: int, taken: time.struct_time, clock: str) -> str:
        """NASA's caption: who took the picture with what, then when (Earth date, sol and
        local mean solar time)."""
        when = f"{_MONTHS[taken.tm_mon - 1]} {taken.tm_mday}, {taken.tm_year}"
        return (
            f"{self.vehicle} acquired this image using its {camera.about} \n\n"
            f"This image was acquired on {when} (Sol {sol}) at the local mean solar "
            f"time of {clock}."
        )


def _extended(
    h: int, h2: int, sclk: str, xyz: str, camera: Camera, thumbnail: bool
) -> dict[str, str]:
    """The ``extended`` block: pointing, clock, scale and frame size (a thumbnail is the
    frame scaled down by 8), all as strings."""
    scale = 8 if thumbnail else 1
    width, height = camera.width // scale, camera.height // scale
    return {
        "mastAz": _fixed(h, 180.0, 3),
        "mastEl": _fixed(h2, 60.0, 4),
        "sclk": sclk,
        "scaleFactor": str(scale),
        "xyz": xyz,
        "subframeRect": f"(1,1,{width},{height})",
        "dimension": f"({width},{height})",
    }


def _image_files(sol: int, camera: Camera, imageid: str) -> dict[str, str]:
    """The renditions' URLs on NASA's host: browse JPEGs by width and the full PNG."""
    base = (
        f"https://mars.nasa.gov/mars2020-raw-images/pub/ods/surface/sol/{sol:05d}"
        f"/ids/edr/browse/{camera.directory}/{imageid}01"
    )
    return {
        "medium": f"{base}_800.jpg",
        "small": f"{base}_320.jpg",
        "full_res": f"{base}.png",
        "large": f"{base}_1200.jpg",
    }


def _camera_fields(seed: int, camera: Camera, sol: int, h3: int) -> dict[str, str]:
    """The ``camera`` block: the camera's model on ``sol`` and where this frame points."""
    position, model = _camera_model(seed, camera.instrument, sol)
    return {
        "filter_name": "UNK",
        "camera_vector": _triple(h3, 1.0),
        "camera_model_component_list": model,
        "camera_position": position,
        "instrument": camera.instrument,
        "camera_model_type": "CAHVORE",
    }


def _lmst_clock(lmst_ms: int) -> tuple[str, int]:
    """Local mean solar time as ``HH:MM:SS`` and its milliseconds."""
    lmst_s, lmst_frac = divmod(lmst_ms, 1000)
    hh, rest = divmod(lmst_s % 86_400, 3600)
    mm, ss = divmod(rest, 60)
    return f"{hh:02d}:{mm:02d}:{ss:02d}", lmst_frac


@functools.lru_cache(maxsize=1024)
def _rover_pose(seed: int, sol: int) -> tuple[str, str]:
    """(xyz, attitude quaternion) of the rover on ``sol``."""
    h = mix(seed * 7_919 + sol)
    return _triple(h, 120.0), _triple(mix(h), 1.0)[:-1] + f",{_fixed(mix(h + 2), 1.0, 6)})"


@functools.lru_cache(maxsize=4096)
def _camera_model(seed: int, instrument: str, sol: int) -> tuple[str, str]:
    """(camera_position, camera_model_component_list) of a camera on ``sol``."""
    h = mix(seed * 104_729 + sol * 131 + sum(instrument.encode()))
    position = _triple(h, 2.0)
    parts = (_triple(mix(h + n), 4000.0) for n in range(1, 7))
    return position, ";".join([position, *parts, "2.0;0.0"])


def _fixed(h: int, scale: float, places: int) -> str:
    """A signed number in ``[-scale, scale)`` derived from ``h``, as NASA-style text."""
    value = ((h % 2_000_001) / 1_000_000 - 1.0) * scale
    return f"{value:.{places}f}".rstrip("0").rstrip(".") or "0"


def _triple(h: int, scale: float) -> str:
    a, b, c = _fixed(h, scale, 6), _fixed(mix(h), scale, 6), _fixed(mix(h + 1), scale, 6)
    return f"({a},{b},{c})"
