"""`deepmath pretrain-ablation` options: corpora, one pretraining recipe for all of them, seeds, benchmarks."""

from __future__ import annotations

from dataclasses import dataclass, field

__all__ = ["AblationConfig", "normalise_corpora"]


def normalise_corpora(corpora: list) -> list[dict]:
    """`corpora` as `[{name, path, text_field}]`; ValueError on an empty list, a bad entry or a repeated name."""
    out = []
    for index, entry in enumerate(corpora):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict) or not isinstance(entry.get("path"), str) or not entry["path"]:
            raise ValueError(f"corpora[{index}] must be a path or a mapping with `path` (and `name`, `text_field`)")
        unknown = [k for k in entry if k not in ("name", "path", "text_field")]
        if unknown:
            raise ValueError(f"corpora[{index}]: unknown key(s) {', '.join(map(str, unknown))}")
        name = str(entry.get("name") or entry["path"].rstrip("/").rsplit("/", 1)[-1])
        out.append({"name": name, "path": entry["path"], "text_field": entry.get("text_field") or "text"})
    if len(out) < 2:
        raise ValueError("an ablation compares at least two corpora")
    names = [c["name"] for c in out]
    if len(set(names)) != len(names):
        raise ValueError(f"two corpora share a name ({', '.join(names)}); give each a distinct `name`")
    return out


@dataclass
class AblationConfig:
    """Train the same model with the same budget and seed on each corpus; compare held-out bits per byte."""

    corpora: list[dict | str] = field(
        default_factory=list, metadata={"help": "corpora to compare: paths or {name, path, text_field}"}
    )
    output: str = field(default="", metadata={"help": "output folder"})
    overwrite: bool = False
    recipe: str = field(default="", metadata={"help": "a `train pretrain` recipe YAML every run starts from"})
    pretrain: dict = field(
        default_factory=dict, metadata={"help": "pretraining fields over the recipe (max_tokens, model, ...)"}
    )
    seeds: list[int] = field(default_factory=lambda: [0, 1, 2], metadata={"help": "one run per corpus and seed"})
    benchmarks: list[str] = field(
        default_factory=lambda: ["gsm8k", "math"], metadata={"help": "held-out texts scored in bits per byte"}
    )
    eval_max_items: int = field(default=500, metadata={"help": "items per benchmark (0: all), the same for all runs"})
    eval_max_length: int = field(default=1024, metadata={"help": "scoring window (capped by the model)"})
    note: str = field(default="", metadata={"help": "a sentence for the card and report (e.g. what a benchmark is)"})

    def __post_init__(self):
        self.corpora = normalise_corpora(self.corpora)
        if not self.seeds:
            raise ValueError("seeds is empty: give at least one seed (three to read differences against noise)")
        if len(set(self.seeds)) != len(self.seeds):
            raise ValueError("seeds repeat")
        if not self.benchmarks:
            raise ValueError("benchmarks is empty")
        if self.eval_max_items < 0:
            raise ValueError("eval_max_items must be >= 0")
        if "sources" in self.pretrain or "output" in self.pretrain:
            raise ValueError("pretrain: `sources` and `output` are set per run by the ablation; remove them")
        self._check_recipe()  # fail on a bad recipe before anything runs

    def _check_recipe(self) -> None:
        """The per-run recipe's fields against `train pretrain`'s schema: light (no torch), so `deepmath validate`
        stays instant; the full PretrainRecipe (TRL/transformers checks included) is built when each run starts."""
        from deepmath.config import load_yaml
        from deepmath.schema import check_fields, schema_of

        schema = schema_of("train-pretrain")
        fields = {**(dict(load_yaml(self.recipe)) if self.recipe else {}), **self.pretrain}
        if schema is None:  # no shipped schema (a development checkout): build the real thing
            self.run_recipe(self.corpora[0], self.seeds[0], "validation")
            return
        check_fields("train-pretrain", fields, schema, "pretrain-ablation.pretrain")

    def run_recipe(self, corpus: dict, seed: int, output: str, model: str | None = None):
        """The PretrainRecipe of one run: the recipe, the `pretrain` fields, this corpus, this seed."""
        from deepmath.config import from_dict, load_yaml
        from deepmath.train.pretrain_config import PretrainRecipe

        fields = dict(load_yaml(self.recipe)) if self.recipe else {}
        fields.update(self.pretrain)
        fields.update(
            sources=[{"name": corpus["name"], "path": corpus["path"], "text_field": corpus["text_field"]}],
            output=output,
            seed=seed,
            tiny_seed=seed,
        )
        if model is not None:
            fields["model"] = model
        return from_dict(PretrainRecipe, fields, where="pretrain-ablation.pretrain")
