"""Benchmark: training throughput of `deepmath train pretrain` vs plain transformers `Trainer` on the same rows.

    nice -n 10 python bench/pretrain.py [--steps 30] [--repeat 3]

Both train the same tiny Llama (the same initial weights: `OUT/base_model` of a first pretrain run) on the same
packed rows (that run's `data/tokens.bin`), with the same TrainingArguments (batch 16 x 256 tokens, AdamW, one
torch thread, no checkpoints), in this process, alternating anchor and ours `--repeat` times:

- anchor: `transformers.Trainer` on a minimal torch Dataset over the memory-mapped rows (`input_ids` = `labels`);
- ours: the stage body (`train_pretrain`: PackedDataset with the per-source column, `PretrainTrainer` counting
  tokens per source, the JSONL log callback), packing already done (it is reused from the folder).

Throughput = tokens trained / CPU seconds of the process between the Trainer's `on_train_begin` and `on_train_end`
(robust to other jobs on a shared machine); wall-clock tokens/s is printed beside it. Best of the repeats.
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from transformers import TrainerCallback  # noqa: E402


class Timer(TrainerCallback):
    def on_train_begin(self, args, state, control, **kwargs):
        self.cpu, self.wall = time.process_time(), time.perf_counter()

    def on_train_end(self, args, state, control, **kwargs):
        self.cpu, self.wall = time.process_time() - self.cpu, time.perf_counter() - self.wall


class PlainRows:
    """The anchor's dataset: the packed rows, nothing else."""

    def __init__(self, folder: Path):
        import numpy as np

        manifest = json.loads((folder / "manifest.json").read_text())
        shape = (manifest["rows"], manifest["max_length"])
        self.rows = np.memmap(folder / "tokens.bin", dtype=manifest["dtype"], mode="r", shape=shape)

    def __len__(self):
        return len(self.rows)

    def __getitem__(self, i):
        import numpy as np
        import torch

        ids = torch.from_numpy(self.rows[i].astype(np.int64))
        return {"input_ids": ids, "labels": ids.clone()}


def corpus(path: Path) -> str:
    webtext = ROOT.parent / "shared" / "data" / "webtext" / "stackmathqa100k"
    with path.open("w", encoding="utf-8") as out:
        for file in sorted(webtext.glob("*.jsonl")):
            for line in file.open(encoding="utf-8"):
                row = json.loads(line)
                out.write(json.dumps({"text": f"{row['Q']}\n\n{row['A']}"}) + "\n")
    return str(path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", default="/tmp/bench_pretrain")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    import torch
    from transformers import AutoModelForCausalLM, Trainer, TrainingArguments, default_data_collator

    from deepmath.config import from_dict
    from deepmath.stage import run_stage
    from deepmath.train.pretrain import train_pretrain
    from deepmath.train.pretrain_config import PretrainRecipe

    torch.set_num_threads(1)
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    out.mkdir(parents=True)
    common = {
        "per_device_train_batch_size": 16,
        "learning_rate": 2e-3,
        "use_cpu": True,
        "seed": 0,
        "logging_steps": 10,
        "save_strategy": "no",
        "disable_tqdm": True,
        "report_to": "none",
    }
    fields = {
        **common,
        "model": "tiny",
        "sources": [corpus(out / "math.jsonl")],
        "max_tokens": args.steps * 16 * 256,
        "max_length": 256,
        "torch_threads": 1,
    }

    def ours(i: int) -> Timer:
        cfg = from_dict(PretrainRecipe, {**fields, "output": str(out / f"ours{i}")})
        if i:  # reuse the first run's packing and base model: only training is compared
            shutil.copytree(out / "ours0" / "data", out / f"ours{i}" / "data")
            shutil.copytree(out / "ours0" / "base_model", out / f"ours{i}" / "base_model")
        timer = Timer()
        run_stage("train-pretrain", cfg, lambda run: train_pretrain(cfg, run.output, (timer,)))
        return timer

    def anchor(i: int) -> Timer:
        model = AutoModelForCausalLM.from_pretrained(out / "ours0" / "base_model", dtype=torch.float32)
        targs = TrainingArguments(output_dir=str(out / f"anchor{i}"), max_steps=args.steps, **common)
        timer = Timer()
        Trainer(
            model=model,
            args=targs,
            train_dataset=PlainRows(out / "ours0" / "data"),
            data_collator=default_data_collator,
            callbacks=[timer],
        ).train()
        return timer

    results: dict[str, list[Timer]] = {"anchor": [], "ours": []}
    results["ours"].append(ours(0))  # first: builds the tiny model and packs the rows
    order = ["anchor", "ours"] * args.repeat
    random.Random(0).shuffle(order)
    for i, name in enumerate(order, 1):
        results[name].append(anchor(i) if name == "anchor" else ours(i))
    tokens = args.steps * 16 * 256
    best = {name: min(timers, key=lambda t: t.cpu) for name, timers in results.items()}
    print(f"\n{tokens:,} tokens per run ({args.steps} steps x 16 rows x 256 tokens), best of {args.repeat}+ runs\n")
    print("| trainer | tokens / CPU s | tokens / wall s | ratio to anchor (CPU) |")
    print("| --- | ---: | ---: | ---: |")
    for name in ("anchor", "ours"):
        t = best[name]
        ratio = (tokens / t.cpu) / (tokens / best["anchor"].cpu)
        print(f"| {name} | {tokens / t.cpu:,.0f} | {tokens / t.wall:,.0f} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
