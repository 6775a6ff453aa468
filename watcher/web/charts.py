"""Charts drawn on the server as inline SVG: values in, shapes and coordinates out.

The Status page has to work under the app's CSP (scripts only from the site, no inline
ones) and without any script at all, and an operator glancing at it wants bars, not
numbers. So the geometry is computed here, as plain frozen values (a bar's box, a grid
line's height, a label's place), and the template only loops over them to write
``<rect>``, ``<line>`` and ``<text>`` elements; every label reaches the page through the
template's autoescaping, like any other text. Nothing here does I/O or writes markup, so
the charts are tested as numbers, without a browser.

One kind of chart serves every figure: bars along categories (sols, polls, editions), each
bar a stack of series (cameras; an outcome; sent / pending / failed). A value ``None``
draws nothing; any other value, even 0, draws at least a sliver, so a poll that took no
measurable time is still seen to have happened.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

# The drawing's own units (the SVG's viewBox); the stylesheet scales it to the page.
WIDTH = 720
HEIGHT = 200
MARGIN_LEFT = 52  # room for the y axis' labels
MARGIN_RIGHT = 8
MARGIN_TOP = 14  # room for the axis' unit
MARGIN_BOTTOM = 24  # room for the x axis' labels
MIN_BAR = 1.5  # a value that is there is never drawn thinner than this
GAP = 0.2  # share of a bar's slot left empty between bars
CHAR_WIDTH = 6.2  # an x label's character at the stylesheet's 10-unit font, about
LABEL_GAP = 10  # between two x labels
TICKS = 4  # about this many grid lines above zero


@dataclass(frozen=True, slots=True)
class Series:
    """One stacked layer: its name (the legend's words), ``key`` (the CSS class suffix
    that colours it) and one value per category (None: nothing to draw there)."""

    name: str
    key: str
    values: tuple[float | None, ...]

    @property
    def total(self) -> float:
        return sum(value for value in self.values if value is not None)


@dataclass(frozen=True, slots=True)
class Bar:
    """One series' part of one category's bar; ``label`` says what it is in words."""

    x: float
    y: float
    width: float
    height: float
    key: str
    label: str


@dataclass(frozen=True, slots=True)
class Tick:
    """A horizontal grid line at ``y`` and its value."""

    y: float
    label: str


@dataclass(frozen=True, slots=True)
class Label:
    """A category's name under the axis, centred on ``x``."""

    x: float
    text: str


@dataclass(frozen=True, slots=True)
class LegendItem:
    name: str
    key: str
    total: str


@dataclass(frozen=True, slots=True, kw_only=True)
class Chart:
    """A bar chart ready to draw, and the same figures as a table (the fallback for
    whoever cannot see the drawing). ``ident`` makes the ids its title and description
    are referred to by (``aria-labelledby``)."""

    ident: str
    title: str
    desc: str
    unit: str
    width: int
    height: int
    left: float
    top: float
    right: float
    bottom: float
    bars: tuple[Bar, ...]
    ticks: tuple[Tick, ...]
    labels: tuple[Label, ...]
    legend: tuple[LegendItem, ...]
    columns: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]

    @property
    def empty(self) -> bool:
        return not self.rows

    @property
    def unit_y(self) -> float:
        """Where the unit's name sits, above the plot."""
        return self.top - 4

    @property
    def tick_x(self) -> float:
        """Where the grid lines' values end, left of the plot."""
        return self.left - 6

    @property
    def label_y(self) -> float:
        """The x labels' baseline, under the plot."""
        return self.bottom + 14


def number(value: float | None) -> str:
    """A value as labels show it: whole numbers with thousands separators, else one
    decimal; nothing (None) as 0."""
    if value is None:
        return "0"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:,.1f}"


def nice_step(maximum: float, ticks: int = TICKS) -> float:
    """The grid's step: 1, 2, 2.5 or 5 times a power of ten, so that about ``ticks`` steps
    reach ``maximum``; at least 1 (the figures are counts and milliseconds)."""
    if maximum <= 0:
        return 1.0
    rough = maximum / ticks
    power = 10.0 ** math.floor(math.log10(rough))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        if factor * power >= rough:
            return max(1.0, factor * power)
    return max(1.0, 10 * power)  # unreachable: factor 10 always reaches rough


def _round(value: float) -> float:
    return round(value, 1)


def _within(centre: float, text: str, left: float, right: float) -> float:
    """A label's centre, moved in so the whole label stays inside the drawing (the first
    and last ones would otherwise hang over its edges)."""
    half = len(text) * CHAR_WIDTH / 2
    return min(max(centre, half + 2), right + MARGIN_RIGHT - half - 2) if half else centre


def stacked_bars(
    *,
    ident: str,
    title: str,
    desc: str,
    unit: str,
    categories: Sequence[str],
    series: Sequence[Series],
    category_name: str,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """Bars along ``categories``, each a stack of ``series`` from the bottom up (in the
    order given), on a y axis from 0 to a round number at or above the highest stack.

    ``unit`` names what the values count ("images", "ms"); ``category_name`` heads the
    table's first column ("sol", "poll", "edition").
    """
    count = len(categories)
    for layer in series:
        if len(layer.values) != count:
            raise ValueError(f"series {layer.name!r}: {len(layer.values)} values, {count} bars")
    left, top = float(MARGIN_LEFT), float(MARGIN_TOP)
    right, bottom = float(width - MARGIN_RIGHT), float(height - MARGIN_BOTTOM)
    stacks = [sum(layer.values[i] or 0 for layer in series) for i in range(count)]
    step = nice_step(max(stacks, default=0))
    top_value = step * max(1, math.ceil(max(stacks, default=0) / step))
    scale = (bottom - top) / top_value
    slot = (right - left) / count if count else 0.0
    bar_width = slot * (1 - GAP)

    bars = []
    for i, category in enumerate(categories):
        below = 0.0
        x = left + i * slot + (slot - bar_width) / 2
        for layer in series:
            value = layer.values[i]
            if value is None:
                continue
            base = bottom - below * scale
            size = max(MIN_BAR, value * scale)
            bars.append(
                Bar(
                    x=_round(x),
                    y=_round(base - size),
                    width=_round(bar_width),
                    height=_round(size),
                    key=layer.key,
                    label=f"{category} · {layer.name}: {number(value)} {unit}",
                )
            )
            below += value
    ticks = tuple(
        Tick(y=_round(bottom - k * step * scale), label=number(k * step))
        for k in range(round(top_value / step) + 1)
    )
    widest = max((len(category) for category in categories), default=0)
    spacing = widest * CHAR_WIDTH + LABEL_GAP
    every = max(1, math.ceil(count * spacing / (right - left))) if count else 1
    labels = tuple(
        Label(x=_round(_within(left + (i + 0.5) * slot, category, left, right)), text=category)
        for i, category in enumerate(categories)
        if i % every == 0
    )
    rows = tuple(
        (category, *(number(layer.values[i]) for layer in series), number(stacks[i]))
        for i, category in enumerate(categories)
    )
    return Chart(
        ident=ident,
        title=title,
        desc=desc,
        unit=unit,
        width=width,
        height=height,
        left=left,
        top=top,
        right=right,
        bottom=bottom,
        bars=tuple(bars),
        ticks=ticks,
        labels=labels,
        legend=tuple(LegendItem(s.name, s.key, number(s.total)) for s in series),
        columns=(category_name, *(layer.name for layer in series), "total"),
        rows=rows,
    )
