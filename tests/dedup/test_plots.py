"""The dedup card's plots (Pillow): PNGs of the fixed size, with bars where there are counts, and empty inputs."""

import numpy as np
from PIL import Image

from deepmath.dedup.plots import candidate_jaccard_plot, cluster_size_plot, png_bytes


def _colour_pixels(path, rgb) -> int:
    return int(np.all(np.asarray(Image.open(path).convert("RGB")) == rgb, axis=2).sum())


def test_plots_draw_bars_for_counts(tmp_path):
    assert cluster_size_plot(tmp_path, {2: 500, 3: 40, 9: 1}) == "plots/cluster_sizes.png"
    jaccard = np.concatenate([np.full(300, 0.95), np.full(30, 0.5)]).astype(np.float32)
    assert candidate_jaccard_plot(tmp_path, jaccard, 0.8, "exact", 16, 8) == "plots/candidate_jaccard.png"
    sizes, hist = tmp_path / "plots" / "cluster_sizes.png", tmp_path / "plots" / "candidate_jaccard.png"
    assert Image.open(sizes).size == Image.open(hist).size == (600, 350)
    bars = _colour_pixels(sizes, (0x4C, 0x72, 0xB0))
    fill = _colour_pixels(hist, (0x55, 0xA8, 0x68))
    assert bars > 1000 and fill > 500
    # a cluster plot with only the size-2 bar has fewer bar pixels than with three sizes
    cluster_size_plot(tmp_path / "one", {2: 500})
    assert 0 < _colour_pixels(tmp_path / "one" / "plots" / "cluster_sizes.png", (0x4C, 0x72, 0xB0)) != bars


def test_plots_of_nothing(tmp_path):
    cluster_size_plot(tmp_path, {})
    candidate_jaccard_plot(tmp_path, np.zeros(0, np.float32), 0.8, "none", 9, 13)
    for name in ("cluster_sizes.png", "candidate_jaccard.png"):
        assert Image.open(tmp_path / "plots" / name).size == (600, 350)


def test_png_bytes_decode_to_the_same_pixels(tmp_path):
    """The PNG encoder the plots use: Pillow reads it back (chunk CRCs checked) pixel for pixel, odd sizes too."""
    rng = np.random.default_rng(0)
    for width, height in ((1, 1), (7, 3), (600, 350)):
        pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
        path = tmp_path / f"{width}x{height}.png"
        path.write_bytes(png_bytes(Image.fromarray(pixels, "RGB")))
        with Image.open(path) as decoded:
            decoded.verify()
        with Image.open(path) as decoded:
            assert decoded.mode == "RGB" and decoded.size == (width, height)
            assert np.array_equal(np.asarray(decoded), pixels)
