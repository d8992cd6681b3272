"""`deepmath eval-lm`: held-out bits per byte of a causal LM on benchmark problem + solution texts.

    deepmath eval-lm --model runs/pretrain/model --benchmarks gsm8k,math [--max-items 500] [--output DIR]

bits/byte = (total negative log-likelihood in nats) / ln 2 / (total UTF-8 bytes of the texts). Dividing by bytes
instead of tokens makes models with different tokenizers comparable (the corpus-quality ablation trains one
tokenizer per corpus). The texts are the test items of each benchmark (MATH: problem and solution; GSM8K: question
and worked answer), which decontamination removed from the corpus, so this measures generalisation to unseen math
text, not memorisation. Each text is scored after a document-start token (the tokenizer's bos, else eos: what
precedes a document in our packed pretraining rows); texts longer than the window are scored in consecutive
windows, each token once. The final eos is not scored.

Writes `OUTPUT/metrics.json` ({benchmark: {items, bytes, tokens, nll_nats, bits_per_byte, tokens_per_byte}}),
`stats.json`, a card and `_SUCCESS`. Benchmarks are looked up by name through `benchmark_texts` (one function, so
the benchmark registry can move without touching the scoring).
"""

from __future__ import annotations

import logging
import math
import random
from pathlib import Path

from deepmath.evaluate.lm_config import EvalLMConfig

__all__ = ["benchmark_texts", "bits_per_byte", "run_eval_lm", "score_benchmarks"]

logger = logging.getLogger(__name__)


def benchmark_texts(spec: str, max_items: int = 0, seed: int = 0) -> tuple[str, list[str]]:
    """(name, texts) of one benchmark spec: each test item's fields joined (problem + solution), sampled if asked."""
    from deepmath.decontam.benchmarks import load_benchmark

    bench = load_benchmark(spec)
    texts = ["\n\n".join(item.texts) for item in bench.items]
    if max_items and len(texts) > max_items:
        keep = sorted(random.Random(seed).sample(range(len(texts)), max_items))
        texts = [texts[i] for i in keep]
    return bench.name, texts


def _windows(ids: list[int], length: int) -> list[tuple[list[int], int]]:
    """Consecutive windows of at most `length` tokens overlapping by one, so every token after the first is
    predicted exactly once; (window, index of its first scored position)."""
    out, start = [], 0
    while start < len(ids) - 1:
        window = ids[start : start + length]
        out.append(window)
        start += length - 1
    return out


def bits_per_byte(model, tokenizer, texts: list[str], max_length: int = 1024, batch_size: int = 16) -> dict:
    """Total NLL (nats), bytes, tokens and bits/byte of `texts` under `model` (no gradient)."""
    import torch
    import torch.nn.functional as F

    bos, eos = tokenizer.bos_token_id, tokenizer.eos_token_id
    start = bos if bos is not None and bos != eos else eos
    if start is None:
        raise ValueError("the tokenizer has neither a bos nor an eos token to start a document with")
    limit = getattr(model.config, "max_position_embeddings", None) or max_length
    length = max(2, min(max_length, limit))
    windows: list[list[int]] = []
    n_bytes = n_tokens = 0
    for text in texts:
        ids = tokenizer(text, add_special_tokens=False, verbose=False)["input_ids"]
        n_bytes += len(text.encode("utf-8"))
        n_tokens += len(ids)
        windows.extend(_windows([start, *ids], length))
    windows.sort(key=len)
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else start
    nll = 0.0
    model.eval()
    with torch.no_grad():
        for begin in range(0, len(windows), batch_size):
            batch = windows[begin : begin + batch_size]
            width = max(len(w) for w in batch)
            ids = torch.full((len(batch), width), pad, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, window in enumerate(batch):
                ids[row, : len(window)] = torch.tensor(window)
                mask[row, : len(window)] = 1
            ids, mask = ids.to(device), mask.to(device)
            logits = model(input_ids=ids, attention_mask=mask).logits[:, :-1].float()
            targets = ids[:, 1:].masked_fill(mask[:, 1:] == 0, -100)
            nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="sum").item()
    return {
        "items": len(texts),
        "bytes": n_bytes,
        "tokens": n_tokens,
        "nll_nats": nll,
        "bits_per_byte": nll / math.log(2) / n_bytes if n_bytes else None,
        "tokens_per_byte": n_tokens / n_bytes if n_bytes else None,
    }


def score_benchmarks(
    model_path: str, benchmarks: list[str], max_items: int = 0, seed: int = 0, max_length: int = 1024, batch_size=16
) -> dict:
    """{benchmark name: bits_per_byte result} of one model (loaded once) on every benchmark."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_path)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = AutoModelForCausalLM.from_pretrained(model_path, dtype="auto").to(device)
    results = {}
    for spec in benchmarks:
        name, texts = benchmark_texts(spec, max_items, seed)
        if not texts:
            from deepmath.config import ConfigError

            raise ConfigError(f"eval-lm: benchmark {spec!r} has no texts")
        results[name] = bits_per_byte(model, tokenizer, texts, max_length, batch_size)
        logger.debug(
            "eval-lm %s: %s bits/byte over %d items", name, f"{results[name]['bits_per_byte']:.4f}", len(texts)
        )
    return results


def run_eval_lm(cfg: EvalLMConfig) -> dict:
    """Score `cfg.model` on `cfg.benchmarks` into `cfg.output` (default: MODEL/eval-lm)."""
    from deepmath.cards import Card
    from deepmath.config import ConfigError
    from deepmath.io.atomic import atomic_write_json
    from deepmath.stage import StageResult, StageStats, run_stage

    if not cfg.output:
        if not Path(cfg.model).is_dir():
            raise ConfigError("eval-lm: give --output for a model that is not a local folder")
        cfg.output = str(Path(cfg.model) / "eval-lm")
    if Path(cfg.model).exists() and not (Path(cfg.model) / "config.json").exists():
        raise ConfigError(f"eval-lm: {cfg.model} has no config.json (a model folder, e.g. a training run's OUT/model)")

    def body(run) -> StageResult:
        _set_threads(cfg.torch_threads)
        results = score_benchmarks(cfg.model, cfg.benchmarks, cfg.max_items, cfg.seed, cfg.max_length, cfg.batch_size)
        atomic_write_json(run.output / "metrics.json", results)
        items = sum(r["items"] for r in results.values())
        stats = StageStats(
            rows_in=items,  # every text read is scored: rows_out counts the same texts (the benchmarks are extra)
            rows_out=items,
            unit="texts",
            extra={
                "benchmarks": len(results),
                "model": cfg.model,
                "bits_per_byte": {name: round(r["bits_per_byte"], 5) for name, r in results.items()},
            },
        )
        card = Card(
            title=f"Bits per byte of {cfg.model}",
            stage="eval-lm",
            summary="Held-out bits per byte (total NLL / ln 2 / UTF-8 bytes) on benchmark test texts "
            "(problem + solution), tokenizer-independent.",
            n_rows=len(results),
            fields={"metrics.json": "per benchmark: items, bytes, tokens, nll_nats, bits_per_byte, tokens_per_byte"},
            counts={f"{name} bits/byte": round(r["bits_per_byte"], 5) for name, r in results.items()},
            parameters={"benchmarks": cfg.benchmarks, "max_items": cfg.max_items, "max_length": cfg.max_length},
            lineage=[cfg.model],
            data_files="metrics.json",
            tags=["evaluation", "bits-per-byte"],
        )
        return StageResult(stats, card)

    return run_stage("eval-lm", cfg, body)


def _set_threads(threads: int) -> None:
    """Pin torch's intra-op threads (0: torch's default), as the train stages do."""
    if threads > 0:
        import torch

        torch.set_num_threads(threads)
