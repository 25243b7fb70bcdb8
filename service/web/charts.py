"""Bar charts drawn as SVG on the server: the geometry here, the markup in ``templates/_bar_chart.html``.

Server-side SVG needs no script (the pages read without JavaScript, as the contract asks), no npm toolchain at
run time, and stays accessible: each chart has a title and a description, each bar its own ``<title>``, and the
page shows the same numbers in a table.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Bar:
    label: str
    value: float | None
    x: float
    y: float
    width: float
    height: float

    @property
    def text(self) -> str:
        return "—" if self.value is None else f"{self.value:.2f}".rstrip("0").rstrip(".") + "%"


@dataclass(frozen=True)
class BarChart:
    title: str
    description: str
    width: int
    height: int
    plot_top: float
    plot_bottom: float
    plot_left: float
    bars: tuple[Bar, ...]
    gridlines: tuple[tuple[float, str], ...]


def percent_bar_chart(title: str, description: str, points: Sequence[tuple[str, float | None]], *,
                      width: int = 640, height: int = 260) -> BarChart:
    """One bar per ``(label, percent)``; a None percent (nothing to measure) draws no bar. The axis runs 0–100."""
    left, right, top, bottom = 40.0, 8.0, 16.0, height - 36.0
    slot = (width - left - right) / max(len(points), 1)
    bar_width = slot * 0.62
    scale = (bottom - top) / 100
    bars = []
    for i, (label, value) in enumerate(points):
        clipped = None if value is None else max(0.0, min(100.0, value))
        bar_height = 0.0 if clipped is None else clipped * scale
        bars.append(Bar(label=label, value=value, x=round(left + i * slot + (slot - bar_width) / 2, 2),
                        y=round(bottom - bar_height, 2), width=round(bar_width, 2), height=round(bar_height, 2)))
    gridlines = tuple((round(bottom - v * scale, 2), f"{v}%") for v in (0, 25, 50, 75, 100))
    return BarChart(title, description, width, height, top, bottom, left, tuple(bars), gridlines)
