"""Dataset cards: a `README.md` with Hugging Face YAML front matter beside every stage output.

The card is how a person (or the Hub) learns what a folder holds without opening it: size, fields, counts, why
documents were dropped, the parameters that produced it, and which folders it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import yaml

from deepmath.io.atomic import atomic_write_text

__all__ = ["Card", "size_category", "stats_counts", "write_card"]


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket for n rows."""
    bounds = [(1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")]
    bounds += [(10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B")]
    for bound, label in bounds:
        if n < bound:
            return label
    return "1B<n<10B"


@dataclass
class Card:
    """What goes on a card; `counts` and `dropped` become tables, `sections` are extra markdown blocks."""

    title: str
    stage: str
    summary: str
    n_rows: int
    fields: dict[str, str] = field(default_factory=dict)
    counts: dict[str, int | float] = field(default_factory=dict)
    dropped: dict[str, int] = field(default_factory=dict)
    parameters: dict = field(default_factory=dict)
    lineage: list[str] = field(default_factory=list)
    data_files: str = "data/*"
    tags: list[str] = field(default_factory=list)
    sections: dict[str, str] = field(default_factory=dict)
    images: list[str] = field(default_factory=list)
    unit: str = "documents"  # what `dropped` counts (the stage's StageStats.unit)


def stats_counts(stats) -> dict[str, int | float]:
    """A card's counts from a stage's `deepmath.stats.StageStats`: rows in and out in its unit, then its numbers."""
    counts: dict[str, int | float] = {f"{stats.unit} in": stats.rows_in, f"{stats.unit} out": stats.rows_out}
    for key, value in stats.extra.items():
        if isinstance(value, int | float) and not isinstance(value, bool):
            counts[key] = value
    return counts


def _table(rows: dict, header: tuple[str, str]) -> str:
    if not rows:
        return "_none_\n"
    numeric = all(isinstance(v, int | float) for v in rows.values())
    lines = [f"| {header[0]} | {header[1]} |", "| --- | ---: |" if numeric else "| --- | --- |"]
    lines += [
        f"| {key} | {value:,} |" if isinstance(value, int) else f"| {key} | {value} |" for key, value in rows.items()
    ]
    return "\n".join(lines) + "\n"


def render_card(card: Card) -> str:
    front = {
        "pretty_name": card.title,
        "size_categories": [size_category(card.n_rows)],
        "tags": ["deepmath", f"deepmath-{card.stage}", "math", *card.tags],
        "configs": [{"config_name": "default", "data_files": [{"split": "train", "path": card.data_files}]}],
    }
    parts = [
        "---",
        yaml.safe_dump(front, sort_keys=False, allow_unicode=True).rstrip(),
        "---",
        "",
        f"# {card.title}",
        "",
        card.summary,
        "",
        f"Written by `deepmath {card.stage}`. Rows: **{card.n_rows:,}**.",
        "",
        "## Fields",
        "",
        _table(card.fields, ("field", "meaning")),
        "## Counts",
        "",
        _table(card.counts, ("count", "value")),
        "## Dropped, by reason",
        "",
        _table(card.dropped, ("reason", card.unit)),
    ]
    for heading, body in card.sections.items():
        parts += [f"## {heading}", "", body.rstrip(), ""]
    for image in card.images:
        parts += [f"![{Path(image).stem}]({image})", ""]
    parts += [
        "## Parameters",
        "",
        "```yaml",
        yaml.safe_dump(card.parameters, sort_keys=False, allow_unicode=True).rstrip(),
        "```",
        "",
        "## Lineage",
        "",
    ]
    parts += [f"- `{source}`" for source in card.lineage] or ["- (generated)"]
    return "\n".join(parts) + "\n"


def write_card(output_dir: str | Path, card: Card) -> Path:
    """Write `README.md` into `output_dir` atomically and return its path."""
    path = Path(output_dir) / "README.md"
    atomic_write_text(path, render_card(card))
    return path
