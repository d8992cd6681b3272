"""The dedup card's two plots (cluster sizes, candidate-pair Jaccards), drawn with Pillow.

matplotlib's import and first figure cost ~0.7 s of CPU, a quarter of the whole `deepmath dedup` command at 20k
pages (bench/README.md); these two charts need only bars, a step histogram, ticks and text, which Pillow draws in a
few milliseconds. Same files as before: `plots/cluster_sizes.png` and `plots/candidate_jaccard.png`, 600 x 350 PNG.
The PNG is encoded here (`png_bytes`, zlib): Pillow's `save` first imports its BMP, GIF, JPEG and PPM plugins.
"""

from __future__ import annotations

import functools
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from deepmath.io.atomic import atomic_write_bytes

__all__ = ["candidate_jaccard_plot", "cluster_size_plot", "png_bytes", "warm_up"]

_SIZE = (600, 350)
_BOX = (78, 34, 582, 290)  # left, top, right, bottom of the axes
_INK, _GRID, _BAR, _FILL, _LINE = "#222222", "#dddddd", "#4c72b0", "#55a868", "#c44e52"


class _Chart:
    """One axes on a white canvas: data -> pixel mapping, ticks, labels; `save` writes the PNG."""

    def __init__(self, title: str, xlabel: str, ylabel: str):
        from PIL import Image, ImageDraw

        self.image = Image.new("RGB", _SIZE, "white")
        self.draw = ImageDraw.Draw(self.image)
        self.font, self.title_font = _fonts()
        left, top, right, bottom = _BOX
        self._text((left + right) / 2, 8, title, self.title_font, anchor="ma")
        self._text((left + right) / 2, _SIZE[1] - 22, xlabel, anchor="ma")
        label = Image.new("RGBA", (bottom - top, 18), (255, 255, 255, 0))
        try:
            ImageDraw.Draw(label).text(((bottom - top) / 2, 2), ylabel, fill=_INK, font=self.font, anchor="ma")
        except ValueError:  # bitmap font (no FreeType): no anchor
            ImageDraw.Draw(label).text((4, 2), ylabel, fill=_INK, font=self.font)
        rotated = label.rotate(90, expand=True)
        self.image.paste(rotated, (6, top), rotated)

    def _text(self, x: float, y: float, text: str, font=None, anchor: str = "la") -> None:
        try:
            self.draw.text((x, y), text, fill=_INK, font=font or self.font, anchor=anchor)
        except ValueError:  # a Pillow without FreeType has only its bitmap font, which takes no anchor
            self.draw.text((x, y), text, fill=_INK, font=font or self.font)

    def axes(self, xlim: tuple[float, float], ylim: tuple[float, float], log_y: bool = False) -> None:
        self.xlim, self.ylim, self.log_y = xlim, ylim, log_y

    def px(self, x: float, y: float) -> tuple[float, float]:
        left, top, right, bottom = _BOX
        fx = (x - self.xlim[0]) / (self.xlim[1] - self.xlim[0])
        lo, hi = self.ylim
        if self.log_y:
            y, lo, hi = math.log10(max(y, lo)), math.log10(lo), math.log10(hi)
        fy = (y - lo) / (hi - lo)
        return left + fx * (right - left), bottom - fy * (bottom - top)

    def y_ticks(self, values: list[float], labels: list[str]) -> None:
        left, _, right, _ = _BOX
        for value, label in zip(values, labels):
            _, y = self.px(self.xlim[0], value)
            self.draw.line([(left, y), (right, y)], fill=_GRID)
            self.draw.line([(left - 4, y), (left, y)], fill=_INK)
            self._text(left - 7, y, label, anchor="rm")

    def x_ticks(self, values: list[float], labels: list[str]) -> None:
        bottom = _BOX[3]
        for value, label in zip(values, labels):
            x, _ = self.px(value, self.ylim[0])
            self.draw.line([(x, bottom), (x, bottom + 4)], fill=_INK)
            self._text(x, bottom + 7, label, anchor="ma")

    def frame(self) -> None:
        self.draw.rectangle(_BOX, outline=_INK)

    def save(self, output: Path, name: str) -> str:
        atomic_write_bytes(Path(output) / "plots" / name, png_bytes(self.image))
        return f"plots/{name}"


def warm_up() -> None:
    """What a first chart pays once: Pillow's import and its fonts (`PlotWorker(warm_up=...)` runs it early)."""
    chart = _Chart("warm-up", "x", "y")
    png_bytes(chart.image.resize((8, 4)))


@functools.cache
def _fonts():
    from PIL import ImageFont

    return ImageFont.load_default(size=12), ImageFont.load_default(size=14)


def png_bytes(image) -> bytes:
    """An RGB Pillow image as a PNG file: 8-bit truecolour, every row with filter 0, one zlib stream."""
    width, height = image.size
    pixels = np.frombuffer(image.convert("RGB").tobytes(), dtype=np.uint8).reshape(height, width * 3)
    rows = np.zeros((height, width * 3 + 1), dtype=np.uint8)  # a leading 0 per row: no filter
    rows[:, 1:] = pixels

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # depth 8, RGB, deflate, no filter, no interlace
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + chunk(b"IEND", b"")
    )


def _nice_step(span: float, ticks: int = 5) -> float:
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 2.5, 5, 10) if m * power >= raw)


def cluster_size_plot(output: Path, sizes: dict[int, int]) -> str:
    """Bars: clusters per cluster size (log scale), one bar per size that occurs."""
    chart = _Chart("duplicate clusters", "cluster size (pages)", "clusters")
    keys = sorted(sizes)
    top = max(sizes.values(), default=1)
    chart.axes((-0.6, max(len(keys), 1) - 0.4), (0.7, 10 ** math.ceil(math.log10(max(top, 1) * 1.5))), log_y=True)
    decades = range(0, round(math.log10(chart.ylim[1])) + 1)
    chart.y_ticks([10**d for d in decades], [f"{10**d:,}" for d in decades])
    for i, key in enumerate(keys):
        (x0, y0), (x1, y1) = chart.px(i - 0.4, sizes[key]), chart.px(i + 0.4, chart.ylim[0])
        chart.draw.rectangle([x0, y0, x1, y1], fill=_BAR)
    every = max(1, math.ceil(len(keys) / 20))  # at most ~20 labels
    chart.x_ticks(list(range(0, len(keys), every)), [str(k) for k in keys[::every]])
    chart.frame()
    return chart.save(output, "cluster_sizes.png")


def candidate_jaccard_plot(output: Path, jaccard: np.ndarray, threshold: float, verify: str, bands: int, rows: int):
    """Step histogram of the candidate pairs' Jaccards (40 bins over 0..1) with the threshold as a dashed line."""
    xlabel = f"Jaccard ({verify})" if verify != "none" else "estimated Jaccard"
    chart = _Chart(f"LSH candidate pairs ({bands} bands x {rows} rows)", xlabel, "candidate pairs")
    counts, edges = np.histogram(jaccard, bins=np.linspace(0, 1, 41))
    step = _nice_step(max(int(counts.max(initial=0)), 1) * 1.05)
    top = step * math.ceil(max(int(counts.max(initial=0)), 1) * 1.05 / step)
    chart.axes((0.0, 1.0), (0.0, top))
    ticks = [step * k for k in range(round(top / step) + 1)]
    chart.y_ticks(ticks, [f"{t:,.0f}" if step >= 1 else f"{t:g}" for t in ticks])
    for lo, hi, count in zip(edges[:-1], edges[1:], counts.tolist()):
        if count:
            (x0, y0), (x1, y1) = chart.px(lo, count), chart.px(hi, 0)
            chart.draw.rectangle([x0, y0, x1, y1], fill=_FILL)
    chart.x_ticks([k / 5 for k in range(6)], [f"{k / 5:.1f}" for k in range(6)])
    x, y_top = chart.px(threshold, top)
    _, y_bottom = chart.px(threshold, 0)
    for y in np.arange(y_top, y_bottom, 8.0):  # dashed
        chart.draw.line([(x, y), (x, min(y + 4, y_bottom))], fill=_LINE, width=2)
    for x0 in (_BOX[0] + 12, _BOX[0] + 20, _BOX[0] + 28):  # the legend's dashed line
        chart.draw.line([(x0, _BOX[1] + 14), (x0 + 4, _BOX[1] + 14)], fill=_LINE, width=2)
    chart._text(_BOX[0] + 38, _BOX[1] + 14, f"threshold {threshold}", anchor="lm")
    chart.frame()
    return chart.save(output, "candidate_jaccard.png")
