"""Configs of `deepmath demo-data` and `deepmath report` (light imports only: the CLI builds them first)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from deepmath.ranges import check_ranges

__all__ = ["DemoDataConfig", "ReportConfig"]


@dataclass
class DemoDataConfig:
    """How big the generated demo world is; the same seed always gives byte-identical files."""

    output: str = field(default="", metadata={"help": "folder of the demo world"})
    seed: int = field(default=0, metadata={"help": "random seed of everything generated"})
    n_pages: int = field(
        default=3000, metadata={"help": "HTML pages in the WARC files, copies included", "range": (50, 10**7)}
    )
    warc_files: int = field(
        default=4, metadata={"help": "pages are spread over this many .warc.gz files", "range": (1, 10**4)}
    )
    math_fraction: float = field(default=0.3, metadata={"help": "share of pages on math sites"})
    mixed_fraction: float = field(default=0.1, metadata={"help": "share of pages on the mixed-topic blog"})
    duplicate_fraction: float = field(
        default=0.1, metadata={"help": "share of pages that are near-duplicate copies of other pages"}
    )
    n_seeds: int = field(
        default=400, metadata={"help": "seed math documents (the OpenWebMath stand-in)", "range": (1, 10**7)}
    )
    n_benchmark: int = field(default=60, metadata={"help": "problems in the demo benchmark", "range": (1, 10**6)})
    n_quoting_pages: int = field(
        default=30, metadata={"help": "pages that quote a benchmark problem", "range": (0, 10**6)}
    )
    n_cot: int = field(default=2000, metadata={"help": "chain-of-thought SFT rows", "range": (1, 10**7)})
    n_pot: int = field(default=200, metadata={"help": "program-of-thought SFT rows", "range": (1, 10**7)})
    n_rl: int = field(default=600, metadata={"help": "RL prompts with gold answers", "range": (1, 10**7)})
    wrong_fraction: float = field(default=0.04, metadata={"help": "share of SFT rows whose solution is wrong"})
    contaminated_rows: int = field(
        default=6, metadata={"help": "SFT rows per source that copy a benchmark problem", "range": (0, 10**6)}
    )
    overwrite: bool = field(default=False, metadata={"help": "delete the folder's previous output first"})

    def __post_init__(self):
        if self.n_pages < 50:
            raise ValueError(f"n_pages must be at least 50 to hold every kind of page, got {self.n_pages}")
        if self.warc_files < 1:
            raise ValueError("warc_files must be at least 1")
        for name in ("math_fraction", "mixed_fraction", "duplicate_fraction", "wrong_fraction"):
            value = getattr(self, name)
            if not 0 <= value < 1:
                raise ValueError(f"{name} must be in [0, 1), got {value}")
        if self.math_fraction + self.mixed_fraction + self.duplicate_fraction >= 0.9:
            raise ValueError("math_fraction + mixed_fraction + duplicate_fraction must leave room for other pages")
        for name in ("n_seeds", "n_benchmark", "n_cot", "n_pot", "n_rl"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be at least 1")
        if self.n_quoting_pages < 0 or self.contaminated_rows < 0:
            raise ValueError("n_quoting_pages and contaminated_rows cannot be negative")
        check_ranges(self)  # after the specific checks: their messages win


@dataclass
class ReportConfig:
    """Where the run is and where the report's own folder goes (plots, stats, marker)."""

    run_dir: str = field(default="", metadata={"help": "the recipe's output folder (default: parent of --output)"})
    output: str = field(default="", metadata={"help": "the report's folder (default: RUN_DIR/report)"})
    title: str = field(default="deepmath run report", metadata={"help": "heading of the report"})
    overwrite: bool = field(default=False, metadata={"help": "delete the folder's previous output first"})

    def __post_init__(self):
        if not self.run_dir and not self.output:
            raise ValueError("report needs --run-dir (the recipe's output folder) or --output")
        if not self.run_dir:
            self.run_dir = str(Path(self.output).parent)
        if not self.output:
            self.output = str(Path(self.run_dir) / "report")
