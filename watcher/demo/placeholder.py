"""The old placeholder: a Mars-coloured SVG per imageid and size, for ``.svg`` URLs.

The emulator's records now point at raster pictures (``watcher.demo.pictures``); this
drawing still answers ``/img/<imageid>_<size>.svg``, the URLs saved before that (and
seeded by the browser test), at the raster pictures' sizes. Every piece of text that goes
into the SVG is escaped, and the name is validated before we get here, so a hostile
imageid cannot inject markup.
"""

from __future__ import annotations

import re
import zlib
from html import escape

from watcher.demo.pictures import SIZES

NAME = re.compile(
    r"^(?P<imageid>[A-Za-z0-9][A-Za-z0-9_.-]{0,159})_(?P<size>small|medium|large|full_res)\.svg$"
)
_SOL = re.compile(r"^[A-Z]{3}_(\d{4})_")
# (sky, ground, shadow): dusty Martian palettes.
_PALETTES = (
    ("#e3b58f", "#b4532a", "#6e2a12"),
    ("#d9a27a", "#c1440e", "#7a3014"),
    ("#caa184", "#9c4a26", "#5a2410"),
    ("#e8c39e", "#a65e2e", "#62321a"),
    ("#bfa08a", "#8f4a2c", "#4a2413"),
)
_CAMERAS = {
    "NL": "Navcam left",
    "NR": "Navcam right",
    "FL": "Front Hazcam",
    "RR": "Rear Hazcam",
    "ZL": "Mastcam-Z left",
    "ZR": "Mastcam-Z right",
    "SI": "SHERLOC WATSON",
    "LR": "SuperCam RMI",
    "HN": "Ingenuity Navcam",
    "HS": "Ingenuity color",
}


def placeholder_svg(imageid: str, size: str) -> bytes:
    """An SVG standing in for ``imageid`` at ``size`` (one of ``SIZES``)."""
    width, height = SIZES[size]
    seed = zlib.crc32(imageid.encode("utf-8"))
    sky, ground, shadow = _PALETTES[seed % len(_PALETTES)]
    horizon = height * (35 + seed % 20) // 100
    ridge = " ".join(
        f"L{x * width // 8},{horizon - ((seed >> (x * 3)) % 7) * height // 60}" for x in range(9)
    )
    sol = _SOL.match(imageid)
    camera = _CAMERAS.get(imageid[:2], "Mars")
    title = f"{camera} · sol {int(sol.group(1))}" if sol else camera
    big = max(12, width // 18)
    small = max(9, width // 40)
    text = escape(title)
    ident = escape(imageid if len(imageid) <= 60 else imageid[:57] + "...")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{text}">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="0" y2="1">'
        f'<stop offset="0" stop-color="{sky}"/><stop offset="1" stop-color="{ground}"/>'
        f"</linearGradient></defs>"
        f'<rect width="{width}" height="{height}" fill="url(#g)"/>'
        f'<path d="M0,{horizon} {ridge} L{width},{height} L0,{height} Z" fill="{ground}"/>'
        f'<ellipse cx="{width * 2 // 3}" cy="{height * 4 // 5}" rx="{width // 7}" '
        f'ry="{height // 30}" fill="{shadow}" opacity="0.5"/>'
        f'<text x="{width // 2}" y="{height // 2}" font-family="sans-serif" font-size="{big}" '
        f'text-anchor="middle" fill="#fff8f0">{text}</text>'
        f'<text x="{width // 2}" y="{height // 2 + big}" font-family="monospace" '
        f'font-size="{small}" text-anchor="middle" fill="#fff8f0" opacity="0.85">{ident}</text>'
        f'<text x="{width - small}" y="{height - small}" font-family="sans-serif" '
        f'font-size="{small}" text-anchor="end" fill="#fff8f0" opacity="0.7">'
        f"{escape(size)} · placeholder (watcher demo)</text></svg>"
    ).encode()
