"""A stage that lives outside the deepmath package: registered by the test, run in a recipe, reported on."""

from __future__ import annotations

from dataclasses import dataclass, field

from deepmath.cards import Card
from deepmath.stage import StageResult, StageStats, run_stage


@dataclass
class ShoutConfig:
    """Upper-cases the text of every document of its input."""

    input: list[str] = field(default_factory=list, metadata={"help": "documents to shout"})
    output: str = field(default="", metadata={"help": "output folder"})
    overwrite: bool = False
    suffix: str = field(default="!", metadata={"help": "appended to every text"})


def run_shout(cfg: ShoutConfig) -> dict:
    def body(run):
        from deepmath.io.documents import iter_documents
        from deepmath.problems import write_jsonl

        rows = [{"id": doc.id, "text": doc.text.upper() + cfg.suffix} for doc in iter_documents(cfg.input)]
        write_jsonl(run.data_dir / "shouted.jsonl.gz", rows)
        card = Card(
            title="Shouted documents",
            stage="shout",
            summary="Every text upper-cased.",
            n_rows=len(rows),
            lineage=list(cfg.input),
        )
        return StageResult(StageStats(rows_in=len(rows), rows_out=len(rows), unit="documents"), card)

    return run_stage("shout", cfg, body)


def report_shout(context) -> None:
    infos = context.section("Shouting", None, "a `shout` stage folder")  # None: the stages declaring it
    for info in infos:
        context.doc.para(f"{info.name}: shouted {(info.stats or {}).get('rows_out', 0)} documents.")
