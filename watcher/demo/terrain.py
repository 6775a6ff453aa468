"""Drawing the demo's Mars scenes with Pillow alone (no numpy): what ``pictures`` encodes.

A scene is a pure function of its ``Shot``: random numbers come from splitmix64 and
SHAKE-256 keyed by the shot's seed, never from Pillow's own noise (``effect_noise`` uses C
``rand()``). Terrain is value noise (random bytes on a coarse grid scaled up bicubically)
whose grids depend on the scene's shape, not its pixel size, so every size of a picture
and every tile of a panorama shows the same ground. Everything is drawn in luminance and
coloured at the end with two ramps (sky and ground) for the colour cameras.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from dataclasses import dataclass

from PIL import Image, ImageChops, ImageDraw, ImageOps

from watcher.demo.records import mix

__all__ = ["Shot", "expose", "paint"]

# (black, mid, white) colour ramps for the colour cameras: butterscotch sky, rusty ground.
_SKY_RAMP = ((70, 52, 40), (196, 150, 112), (246, 214, 176))
_GROUND_RAMP = ((34, 16, 8), (150, 78, 42), (238, 178, 128))


@dataclass(frozen=True, slots=True)
class Shot:
    """What one picture shows. Integers only (per-mille of the frame where it is a place),
    so the shot's ``repr`` is stable and keys the disk cache.

    ``window`` is ``(left, width, total, height)``: the picture is the part
    ``left..left+width`` of a scene ``total`` wide and ``height`` high (tiles of one
    frame, stereo twins); ``devil`` the dust devil's place across the frame, ``shadow``
    Ingenuity's shadow ``(x, y, size, angle in degrees)``; ``gain`` and ``grain`` make
    near-identical repeats differ a little.
    """

    seed: int
    colour: bool = True
    ground: bool = False
    horizon: int = 400
    wheel: int = 0  # a rover wheel in the bottom corner: 1 left, 2 right
    window: tuple[int, int, int, int] = (0, 4, 4, 3)
    devil: int | None = None
    shadow: tuple[int, int, int, int] | None = None
    gain: int = 1000
    grain: int = 0


def paint(shot: Shot, width: int, height: int) -> Image.Image:
    """The whole scene (``L`` or ``RGB``), ``width`` x ``height``, before the camera."""
    lum, sky = _scene(shot, width, height)
    if not shot.colour:
        return lum
    ground = ImageOps.colorize(lum, *_GROUND_RAMP[::2], mid=_GROUND_RAMP[1])
    if sky is None:
        return ground
    return Image.composite(ImageOps.colorize(lum, *_SKY_RAMP[::2], mid=_SKY_RAMP[1]), ground, sky)


class _Dice:
    """Deterministic floats in [0, 1) from a seed and a counter (splitmix64)."""

    def __init__(self, *keys: int) -> None:
        self.state = 0
        for key in keys:
            self.state = mix(self.state ^ (key & ((1 << 64) - 1)))
        self.count = 0

    def __call__(self) -> float:
        self.count += 1
        return (mix(self.state + self.count) >> 11) / float(1 << 53)


def _noise(key: str, grid: tuple[int, int], size: tuple[int, int]) -> Image.Image:
    """Smooth value noise: SHAKE-256 bytes on a coarse grid, scaled up bicubically."""
    cells = hashlib.shake_256(key.encode()).digest(grid[0] * grid[1])
    return Image.frombytes("L", grid, cells).resize(size, Image.Resampling.BICUBIC)


def _fractal(
    seed: int, size: tuple[int, int], rows: tuple[int, ...], stretch: float
) -> Image.Image:
    """Octaves of value noise blended, then spread back to full contrast around 128.

    The grids depend on the scene's aspect only, never on the pixel size, so every size
    of a picture (and every tile of a panorama) shows the same terrain.
    """
    aspect = size[0] / size[1]
    layers = [_noise(f"{seed}:{n}", (max(2, round(n * aspect * stretch)), n), size) for n in rows]
    field = layers[0]
    for weight, layer in zip((0.4, 0.3), layers[1:], strict=False):
        field = Image.blend(field, layer, weight)
    return field.point(lambda v: max(0, min(255, 128 + (v - 128) * 5 // 2)))


def _gradient(size: tuple[int, int], top: int, bottom: int) -> Image.Image:
    ramp = Image.linear_gradient("L").resize(size, Image.Resampling.BILINEAR)
    return ramp.point(lambda v: top + (bottom - top) * v // 255)


def _scene(shot: Shot, width: int, height: int) -> tuple[Image.Image, Image.Image | None]:
    """(luminance, sky mask or None) of the whole scene, ``width`` x ``height``."""
    dice = _Dice(shot.seed)
    if shot.ground:
        lum = _ground(shot.seed, width, height, 0, dice)
        _rocks(lum, dice, 0, height, flat=True, count=round(60 * width / height))
        if shot.shadow is not None:
            lum = _helicopter_shadow(lum, shot.shadow)
        return lum, None
    horizon = height * shot.horizon // 1000
    lum = Image.new("L", (width, height))
    lum.paste(_gradient((width, max(1, horizon)), 128 + shot.seed % 20, 192), (0, 0))
    lum.paste(_ground(shot.seed, width, height - horizon, horizon, dice), (0, horizon))
    sky = Image.new("L", (width, height), 0)
    sky.paste(255, (0, 0, width, horizon))
    ridges = _fractal(shot.seed ^ 0x5EED, (width, height), (3, 9), 1.0)
    for depth, (shade, rise) in enumerate(((188, 0.16), (150, 0.07))):
        outline = _ridge_line(dice, width, horizon, height * rise, depth)
        mask = Image.new("L", (width, height), 0)
        ImageDraw.Draw(mask).polygon([*outline, (width, horizon + 2), (0, horizon + 2)], fill=255)
        shaded = ridges.point(lambda v, s=shade: max(0, min(255, s + (v - 128) // 5)))
        lum.paste(shaded, (0, 0), mask)
        sky.paste(0, (0, 0), mask)
    _rocks(lum, dice, horizon, height, flat=False, count=round(45 * width / height))
    if shot.wheel:
        _wheel(lum, shot.wheel, width, height)
    if shot.devil is not None:
        lum = _dust_devil(lum, shot.devil / 1000, horizon, height)
    return lum, sky


def _ground(seed: int, width: int, height: int, horizon: int, dice: _Dice) -> Image.Image:
    """Dusty ground; below a horizon the texture is foreshortened towards it (a mesh)."""
    plane_h = height if horizon == 0 else height * 3
    rows = (5, 20, 80) if horizon == 0 else (6, 22, 70)
    texture = _fractal(seed, (width, max(2, plane_h)), rows, 1.0 if horizon == 0 else 0.3)
    if horizon:
        near = height * 0.15
        far = near / (height + near)

        def plane_row(y: float) -> float:
            return plane_h * (1 - (near / (y + near) - far) / (1 - far))

        steps = [height * i // 24 for i in range(25)]
        mesh = [
            (
                (0, y0, width, y1),
                (0, plane_row(y0), 0, plane_row(y1), width, plane_row(y1), width, plane_row(y0)),
            )
            for y0, y1 in itertools.pairwise(steps)
            if y1 > y0
        ]
        texture = texture.transform(
            (width, height), Image.Transform.MESH, mesh, Image.Resampling.BILINEAR
        )
    base = _gradient((width, height), 150, 118) if horizon else Image.new("L", (width, height), 128)
    ground = ImageChops.add(base, texture.point(lambda v: 128 + (v - 128) * 3 // 10), 1, -128)
    return _ripples(ground, dice, width, height) if horizon == 0 else ground


def _ridge_line(
    dice: _Dice, width: int, horizon: int, rise: float, depth: int
) -> list[tuple[float, float]]:
    phases = [dice() * math.tau for _ in range(3)]
    points = []
    for i in range(65):
        u = i / 64
        wave = sum(
            math.sin(u * math.tau * (k + 1 + depth) + p) / (k + 1) for k, p in enumerate(phases)
        )
        points.append((u * width, horizon - rise * (0.55 + 0.35 * wave / 1.8)))
    return points


def _ripples(ground: Image.Image, dice: _Dice, width: int, height: int) -> Image.Image:
    """Sand ripples seen from above: soft, slightly wavy crests at a slant."""
    mask = Image.new("L", (width, height), 0)
    draw = ImageDraw.Draw(mask)
    spacing = max(6, height // 16)
    slant, wobble = (dice() - 0.5) * 0.8, dice() * math.tau
    for k in range(-width // spacing - 2, 2 * width // spacing + 2):
        x0 = k * spacing + dice() * spacing * 0.4
        line = [
            (x0 + slant * y + spacing * 0.3 * math.sin(y / height * 9 + wobble + k), y)
            for y in range(0, height + spacing, spacing)
        ]
        draw.line(line, fill=255, width=max(1, spacing // 4))
    crest = ground.point(lambda v: v + (255 - v) // 6)
    return Image.composite(crest, ground, _soften(mask, (width, height), blur=1))


def _rocks(lum: Image.Image, dice: _Dice, top: int, bottom: int, *, flat: bool, count: int) -> None:
    """Irregular rocks lit from the upper left, each with a cast shadow and a lit facet;
    larger nearer the camera (or all alike, seen from above)."""
    draw = ImageDraw.Draw(lum)
    width, height = lum.size
    span = bottom - top
    for _ in range(count):
        depth = dice() ** (1.0 if flat else 1.7)
        x, y = dice() * width, top + span * (dice() if flat else depth)
        size = (
            height * (0.008 + 0.028 * dice() ** 2) if flat else height * (0.003 + 0.08 * depth**2.2)
        )
        squash = 0.75 if flat else 0.45 + 0.2 * dice()
        outline = []
        for k in range(8):
            theta = math.tau * (k + dice() * 0.6) / 8
            reach = size * (0.65 + 0.45 * dice())
            outline.append((x + math.cos(theta) * reach, y + math.sin(theta) * reach * squash))
        body = 95 + round(45 * dice())
        draw.polygon([(px + size * 0.45, py + size * 0.25) for px, py in outline], fill=body // 2)
        draw.polygon(outline, fill=body)
        facet = [(x + (px - x) * 0.55 - size * 0.18, y + (py - y) * 0.5 - size * 0.16 * squash)
                 for px, py in outline]  # fmt: skip
        draw.polygon(facet, fill=min(255, body + 45))


def _wheel(lum: Image.Image, side: int, width: int, height: int) -> None:
    """A Hazcam sees a rover wheel in its bottom corner."""
    draw = ImageDraw.Draw(lum)
    radius = height * 0.32
    cx = -radius * 0.25 if side == 1 else width + radius * 0.25
    box = (cx - radius, height - radius * 0.9, cx + radius, height + radius * 1.1)
    draw.ellipse(box, fill=58)
    for k in range(12):
        angle = math.pi * k / 6
        inner = (
            cx + radius * 0.8 * math.cos(angle),
            height + radius * 0.1 + radius * 0.8 * math.sin(angle),
        )
        outer = (cx + radius * math.cos(angle), height + radius * 0.1 + radius * math.sin(angle))
        draw.line([inner, outer], fill=96, width=max(1, height // 60))


def _dust_devil(lum: Image.Image, at: float, horizon: int, height: int) -> Image.Image:
    """A soft, partly transparent bright column widening upwards, with a faint shadow."""
    width = lum.size[0]
    scale = 4
    small = Image.new("L", (max(1, width // scale), max(1, height // scale)), 0)
    draw = ImageDraw.Draw(small)
    sw, sh = small.size
    x = at * sw
    base = (horizon + height * 0.15) / scale
    lean = sh * 0.08
    for band in range(12):
        t0, t1 = band / 12, (band + 1) / 12
        half0, half1 = sh * (0.022 + 0.12 * t0**1.3), sh * (0.022 + 0.12 * t1**1.3)
        y0, y1 = base - (base - sh * 0.04) * t0, base - (base - sh * 0.04) * t1
        opacity = round(225 * (1 - 0.7 * t0))
        draw.polygon(
            [
                (x - half0 + lean * t0, y0),
                (x + half0 + lean * t0, y0),
                (x + half1 + lean * t1, y1),
                (x - half1 + lean * t1, y1),
            ],
            fill=opacity,
        )
    shadow = Image.new("L", small.size, 0)
    ImageDraw.Draw(shadow).ellipse(
        (x - sw * 0.16, base - sh * 0.004, x + sw * 0.01, base + sh * 0.035), fill=70
    )
    soft = _soften(small, (width, height))
    dark = _soften(shadow, (width, height))
    bright = lum.point(lambda v: v + (255 - v) * 4 // 5)
    dim = lum.point(lambda v: v * 3 // 5)
    return Image.composite(bright, Image.composite(dim, lum, dark), soft)


def _helicopter_shadow(lum: Image.Image, shadow: tuple[int, int, int, int]) -> Image.Image:
    """Ingenuity's shadow from straight above: two crossed rotor blades, the body, the
    solar panel on top and four legs."""
    width, height = lum.size
    scale = 2
    mask = Image.new("L", (width // scale, height // scale), 0)
    draw = ImageDraw.Draw(mask)
    cx, cy = shadow[0] / 1000 * width / scale, shadow[1] / 1000 * height / scale
    span = shadow[2] / 1000 * height / scale
    angle = math.radians(shadow[3])

    def bar(length: float, thick: float, theta: float) -> None:
        dx, dy = math.cos(theta), math.sin(theta)
        px, py = -dy * thick / 2, dx * thick / 2
        ends = [
            (cx - dx * length / 2, cy - dy * length / 2),
            (cx + dx * length / 2, cy + dy * length / 2),
        ]
        draw.polygon(
            [(ends[0][0] + px, ends[0][1] + py), (ends[1][0] + px, ends[1][1] + py),
             (ends[1][0] - px, ends[1][1] - py), (ends[0][0] - px, ends[0][1] - py)],
            fill=255,
        )  # fmt: skip

    bar(span, span * 0.07, angle)
    bar(span, span * 0.07, angle + math.radians(62))
    bar(span * 0.3, span * 0.22, 0.0)
    for k in range(4):
        theta = math.radians(45 + 90 * k)
        leg = (cx + math.cos(theta) * span * 0.36, cy + math.sin(theta) * span * 0.36)
        draw.line([(cx, cy), leg], fill=255, width=max(1, round(span * 0.025)))
    soft = _soften(mask, (width, height), blur=1)
    dark = lum.point(lambda v: v * 3 // 10)
    return Image.composite(dark, lum, soft.point(lambda v: v * 9 // 10))


def _soften(mask: Image.Image, size: tuple[int, int], blur: int = 2) -> Image.Image:
    """Soft edges cheaply: blur at low resolution (box filter twice), then scale up."""
    small = mask.resize((max(1, mask.width // 2), max(1, mask.height // 2)), Image.Resampling.BOX)
    for _ in range(blur):
        small = small.resize(
            (max(1, small.width // 2), max(1, small.height // 2)), Image.Resampling.BOX
        ).resize(small.size, Image.Resampling.BILINEAR)
    return small.resize(size, Image.Resampling.BILINEAR)


def expose(image: Image.Image, shot: Shot) -> Image.Image:
    """What the camera adds: vignetting, gain and sensor grain (seeded by ``shot.grain``)."""
    width, height = image.size
    falloff = Image.radial_gradient("L").resize((width, height), Image.Resampling.BILINEAR)
    vignette = falloff.point(lambda v: 255 - max(0, v - 110) * 2 // 5)
    grain = Image.frombytes(
        "L",
        (width, height),
        hashlib.shake_256(f"grain:{shot.grain}:{width}".encode()).digest(width * height),
    ).point(lambda v: v * 9 // 256)
    if image.mode == "RGB":
        vignette = Image.merge("RGB", (vignette,) * 3)
        grain = Image.merge("RGB", (grain,) * 3)
    image = ImageChops.multiply(image, vignette)
    image = ImageChops.add(image, grain, 1, -4)
    if shot.gain != 1000:
        image = image.point(lambda v: min(255, v * shot.gain // 1000))
    return image
