"""The `deepmath train pretrain` recipe: transformers' `TrainingArguments` plus the corpus mixture and the tiny path.

    deepmath train pretrain pipelines/pretrain_tiny.yaml --output runs/pretrain --max-tokens 200000

A recipe YAML's keys are field names of `PretrainRecipe`: every transformers training argument (`learning_rate`,
`per_device_train_batch_size`, `gradient_accumulation_steps`, `bf16`, ...) and the fields below. `--output DIR`
sets `output_dir`. `sources` is a list of mappings `{path, weight, text_field, name}` (or plain paths, weight 1);
weights are token fractions of the budget `max_tokens` and need not sum to 1 (they are normalised).

The budget decides the steps: `max_steps = max_tokens // (per_device_train_batch_size x gradient_accumulation_steps
x processes x max_length)`; setting `max_steps` yourself is refused (one source of truth for "how long").
"""

from __future__ import annotations

from dataclasses import dataclass, field

from transformers import TrainingArguments

from deepmath.train.config import TINY, _bf16_supported, _number

__all__ = ["PretrainRecipe", "normalise_sources"]

_SOURCE_KEYS = ("path", "weight", "text_field", "name")


def normalise_sources(sources: list, default_text_field: str = "text") -> list[dict]:
    """`sources` as `[{name, path, weight, text_field}]` with weights as fractions; ValueError on bad entries."""
    out: list[dict] = []
    for index, entry in enumerate(sources):
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, dict):
            raise ValueError(f"sources[{index}] must be a path or a mapping with `path` and `weight`")
        unknown = [k for k in entry if k not in _SOURCE_KEYS]
        if unknown:
            raise ValueError(
                f"sources[{index}]: unknown key(s) {', '.join(map(str, unknown))}; known: path, weight, "
                "text_field, name"
            )
        path = entry.get("path")
        if not isinstance(path, str) or not path:
            raise ValueError(f"sources[{index}] has no `path`")
        weight = _number(entry.get("weight", 1.0), f"sources[{index}].weight")
        if not isinstance(weight, int | float) or isinstance(weight, bool) or weight < 0:
            raise ValueError(f"sources[{index}].weight must be a number >= 0, got {entry.get('weight')!r}")
        name = str(entry.get("name") or path.rstrip("/").rsplit("/", 1)[-1] or f"source{index}")
        out.append(
            {
                "name": name,
                "path": path,
                "weight": float(weight),
                "text_field": entry.get("text_field") or default_text_field,
            }
        )
    if not out:
        raise ValueError("sources is empty: name at least one corpus (a stage folder, JSONL/Parquet or hf: id)")
    total = sum(s["weight"] for s in out)
    if not total > 0:
        raise ValueError(f"source weights must sum to a positive number, got {total:g}")
    names = [s["name"] for s in out]
    if len(set(names)) != len(names):
        raise ValueError(f"two sources share a name ({', '.join(names)}); give each a distinct `name`")
    for source in out:
        source["weight"] = source["weight"] / total
    return out


@dataclass
class PretrainRecipe(TrainingArguments):
    """`deepmath train pretrain`: TrainingArguments plus model, corpus mixture, token budget and tiny-path fields."""

    output: str = field(default="", metadata={"help": "output folder (sets output_dir)"})
    overwrite: bool = field(default=False, metadata={"help": "delete a previous run in the output folder first"})
    model: str = field(default="", metadata={"help": "causal LM: a local folder or hub id; 'tiny' builds one here"})
    sources: list[dict | str] = field(
        default_factory=list,
        metadata={"help": "corpora: paths or {path, weight, text_field, name}; weights are token fractions"},
    )
    text_field: str = field(default="text", metadata={"help": "text field of sources that do not name their own"})
    max_tokens: int = field(default=0, metadata={"help": "token budget of the run (sets max_steps)"})
    max_length: int = field(default=1024, metadata={"help": "tokens per packed training row"})
    max_epochs: float = field(
        default=1.0, metadata={"help": "a source may be read at most this many times to fill its share of the budget"}
    )
    shuffle_buffer: int = field(
        default=1000, metadata={"help": "documents shuffled (seeded) within a source while streaming; 1: file order"}
    )
    tokenize_batch: int = field(default=256, metadata={"help": "documents tokenized per call while packing"})
    model_dtype: str = field(
        default="float32", metadata={"help": "dtype the model is loaded in: float32, bfloat16, float16 or auto"}
    )
    torch_threads: int = field(
        default=0, metadata={"help": "CPU threads for torch (0: torch's default; 1 is fastest on a busy machine)"}
    )
    tokenizer_data: list[str] = field(
        default_factory=list,
        metadata={"help": "tiny: extra text the tokenizer learns from (e.g. the SFT mix that fine-tunes it next)"},
    )
    tiny_tokenizer_documents: int = field(
        default=5000, metadata={"help": "tiny: documents per source the tokenizer learns from"}
    )
    tiny_seed: int = field(default=0, metadata={"help": "tiny model initialisation seed"})
    tiny_hidden_size: int = field(default=128, metadata={"help": "tiny model width"})
    tiny_layers: int = field(default=4, metadata={"help": "tiny model depth"})
    tiny_heads: int = field(default=4, metadata={"help": "tiny model attention heads"})
    tiny_vocab_size: int = field(default=512, metadata={"help": "tiny tokenizer: BPE vocabulary size (at most)"})

    bf16: bool | None = field(default=None, metadata={"help": "bf16 mixed precision (default: where supported)"})
    learning_rate: float | str = field(default=5e-5, metadata={"help": "AdamW learning rate"})

    def __post_init__(self):
        self.learning_rate = _number(self.learning_rate, "learning_rate")
        self.sources = normalise_sources(self.sources, self.text_field)
        if self.max_tokens <= 0:
            raise ValueError("max_tokens (the token budget) must be a positive number of tokens")
        if self.max_steps > 0:
            raise ValueError("max_steps is set from max_tokens; give the budget as max_tokens instead")
        if self.max_length < 2:
            raise ValueError("max_length must be at least 2 tokens")
        if self.max_epochs <= 0:
            raise ValueError("max_epochs must be positive")
        if self.shuffle_buffer < 1 or self.tokenize_batch < 1 or self.tiny_tokenizer_documents < 1:
            raise ValueError("shuffle_buffer, tokenize_batch and tiny_tokenizer_documents must be >= 1")
        if self.model_dtype not in ("float32", "bfloat16", "float16", "auto"):
            raise ValueError(f"model_dtype must be float32, bfloat16, float16 or auto, not {self.model_dtype!r}")
        if self.torch_threads < 0:
            raise ValueError("torch_threads must be >= 0")
        if self.model == TINY and self.tiny_hidden_size % self.tiny_heads:
            raise ValueError(f"tiny_hidden_size ({self.tiny_hidden_size}) must be divisible by tiny_heads")
        if self.output:
            self.output_dir = self.output
        if self.bf16 is None and not self.fp16:
            self.bf16 = _bf16_supported()
        # our packed rows carry a `source_tokens` column the trainer reads and drops itself
        self.remove_unused_columns = False
        # the per-source token counter is a stateful callback: restored from the checkpoint on resume
        self.restore_callback_states_from_checkpoint = True
        if self.include_num_input_tokens_seen in (False, "no"):
            self.include_num_input_tokens_seen = "all"
        super().__post_init__()

    @property
    def rows_per_step(self) -> int:
        """Packed rows one optimizer step consumes on all processes."""
        return self.per_device_train_batch_size * self.gradient_accumulation_steps * max(1, self.world_size)

    @property
    def tokens_per_step(self) -> int:
        return self.rows_per_step * self.max_length
