"""`deepmath train prm RECIPE.yaml --output DIR`: a process reward model on Math-Shepherd step labels.

    deepmath train prm pipelines/prm_tiny.yaml --output runs/prm
    prm = ProcessRewardModel("runs/prm/model"); prm.score(["question"], [["1 + 1 = 2.", "The answer is 2."]])

The model is a transformers causal LM backbone with a scalar head (`AutoModelForTokenClassification`, one label,
e.g. `LlamaForTokenClassification`: the backbone's hidden state -> one logit per token). The input is the rendered
prompt followed by each step and the step `marker`; the score of step k is read at the last token of its marker
(sigmoid of the logit: the probability that the correct answer is still reachable). Training is transformers'
`Trainer` with a `compute_loss_func` (binary cross-entropy at the marker tokens only, hard or soft targets), so
checkpoints, resume, accelerate and bf16 are the Trainer's own; no training loop is copied.

Held-out: a seeded share of the labelled *solutions* (not steps, so no solution is on both sides) is kept out; the
card and stats report step accuracy / precision / recall / F1 at threshold 0.5 against the hard labels, and against
the ground truth when the labels carry it (the tiny task).

Departure from Math-Shepherd: its PRM reads the probability of a `+` token at a special step tag from the LM head;
here a separate scalar head is read at the marker, which needs no special token in the vocabulary.
"""

from __future__ import annotations

import json
import logging
import random
from pathlib import Path

__all__ = ["ProcessRewardModel", "encode_steps", "run_prm", "step_metrics"]

logger = logging.getLogger(__name__)


def run_prm(cfg) -> dict:
    from deepmath.stage import run_stage

    return run_stage("train-prm", cfg, lambda run: _train(cfg, run.output))


def render_prompt(tokenizer, question: str, template: str = "{question}", system_prompt: str = "") -> str:
    from deepmath.evaluate.generation import Prompt, render
    from deepmath.problems import build_messages

    return render(tokenizer, Prompt(messages=build_messages(question, template, system_prompt)))


def encode_steps(
    tokenizer, prompt: str, steps: list[str], marker: str, max_length: int
) -> tuple[list[int], list[int]]:
    """Token ids of prompt + (step + marker) for each step, and the position of each step's last marker token.

    Steps are tokenized one by one (the same way in training and scoring), so a step boundary is always a token
    boundary. Steps that do not fit in `max_length` get no position (they are not scored)."""
    ids = tokenizer(prompt, add_special_tokens=False)["input_ids"]
    positions = []
    for step in steps:
        ids = ids + tokenizer(step + marker, add_special_tokens=False)["input_ids"]
        if len(ids) > max_length:
            ids = ids[:max_length]
            break
        positions.append(len(ids) - 1)
    return ids, positions


class ProcessRewardModel:
    """Step scores from a trained PRM folder: `score(questions, steps) -> [[p_step1, p_step2, ...], ...]`."""

    def __init__(
        self,
        path: str,
        marker: str = "\n",
        template: str = "{question}",
        system_prompt: str = "",
        max_length: int = 1024,
        device: str | None = None,
    ):
        import torch
        from transformers import AutoModelForTokenClassification, AutoTokenizer

        meta = Path(path) / "prm.json"
        if meta.exists():  # the settings the PRM was trained with
            saved = json.loads(meta.read_text())
            marker, template = saved.get("marker", marker), saved.get("prompt_template", template)
            system_prompt = saved.get("system_prompt", system_prompt)
        self.tokenizer = AutoTokenizer.from_pretrained(path)
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForTokenClassification.from_pretrained(path).to(self.device).eval()
        self.marker, self.template, self.system_prompt, self.max_length = marker, template, system_prompt, max_length

    def score(self, questions: list[str], steps: list[list[str]], batch_size: int = 16) -> list[list[float]]:
        import torch

        encoded = [
            encode_steps(
                self.tokenizer,
                render_prompt(self.tokenizer, q, self.template, self.system_prompt),
                s,
                self.marker,
                self.max_length,
            )
            for q, s in zip(questions, steps)
        ]
        out: list[list[float]] = []
        pad = self.tokenizer.pad_token_id or 0
        for start in range(0, len(encoded), batch_size):
            chunk = encoded[start : start + batch_size]
            width = max(len(ids) for ids, _ in chunk)
            ids = torch.tensor([row + [pad] * (width - len(row)) for row, _ in chunk], device=self.device)
            mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row, _ in chunk], device=self.device)
            with torch.no_grad():
                logits = self.model(input_ids=ids, attention_mask=mask).logits[..., 0].float()
            probs = torch.sigmoid(logits).cpu()
            for row, (_, positions) in enumerate(chunk):
                scores = [float(probs[row, p]) for p in positions]
                out.append(scores)
        return out


def step_metrics(scores: list[float], targets: list[int], threshold: float = 0.5) -> dict:
    """Step-level accuracy, precision, recall and F1 (positive class: a good step)."""
    predicted = [int(s >= threshold) for s in scores]
    tp = sum(p and t for p, t in zip(predicted, targets))
    fp = sum(p and not t for p, t in zip(predicted, targets))
    fn = sum((not p) and t for p, t in zip(predicted, targets))
    n = len(targets)
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    positive = sum(targets) / n if n else 0.0
    return {
        "steps": n,
        "accuracy": round(sum(p == t for p, t in zip(predicted, targets)) / n, 4) if n else 0.0,
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "chance_accuracy": round(max(positive, 1 - positive), 4),
        "auc": _auc(scores, targets),
    }


def _auc(scores: list[float], targets: list[int]) -> float | None:
    """Area under the ROC curve (the chance that a good step outscores a bad one; ties count half): what GRPO+PS
    uses of the PRM is its ranking within a group, which accuracy at a fixed threshold does not show. 0.5: chance."""
    pairs = sorted(zip(scores, targets))
    positives = sum(t for _, t in pairs)
    negatives = len(pairs) - positives
    if not positives or not negatives:
        return None
    rank_sum, i = 0.0, 0
    while i < len(pairs):  # average ranks over ties
        j = i
        while j < len(pairs) and pairs[j][0] == pairs[i][0]:
            j += 1
        rank_sum += sum(t for _, t in pairs[i:j]) * (i + j + 1) / 2
        i = j
    return round((rank_sum - positives * (positives + 1) / 2) / (positives * negatives), 4)


def bce_at_steps(outputs, labels, num_items_in_batch=None):
    """Trainer `compute_loss_func`: binary cross-entropy of the scalar head at step positions (labels >= 0)."""
    import torch

    logits = outputs.logits[..., 0].float()
    mask = labels >= 0
    if not mask.any():
        return logits.sum() * 0.0
    return torch.nn.functional.binary_cross_entropy_with_logits(logits[mask], labels[mask].float())


def _collate(pad_id: int):
    def collate(rows: list[dict]) -> dict:
        import torch

        width = max(len(r["input_ids"]) for r in rows)
        ids = [r["input_ids"] + [pad_id] * (width - len(r["input_ids"])) for r in rows]
        mask = [[1] * len(r["input_ids"]) + [0] * (width - len(r["input_ids"])) for r in rows]
        labels = [r["labels"] + [-100.0] * (width - len(r["labels"])) for r in rows]
        return {"input_ids": torch.tensor(ids), "attention_mask": torch.tensor(mask), "labels": torch.tensor(labels)}

    return collate


def _split(rows: list[dict], held_out: float, seed: int) -> tuple[list[dict], list[dict]]:
    order = list(range(len(rows)))
    random.Random(seed + 11).shuffle(order)
    n_test = round(len(rows) * held_out)
    test = set(order[:n_test])
    return [r for i, r in enumerate(rows) if i not in test], [r for i, r in enumerate(rows) if i in test]


def _backbone(cfg, out: Path, rows: list[dict]) -> str:
    if cfg.model != "tiny":
        return cfg.model
    from deepmath.train.tiny import build_tiny_model_for

    path = out / "base_model"
    if not (path / "config.json").exists():
        texts = [r["question"] + "\n" + "\n".join(r["steps"]) for r in rows]
        build_tiny_model_for(cfg, path, texts)
    return str(path)


def load_label_rows(folders: list[str]) -> list[dict]:
    from deepmath.problems import DataError
    from deepmath.steps.labels import read_labels

    rows = []
    for folder in folders:
        found = read_labels(folder)
        if not found:
            raise DataError(f"{folder}: no labels (expected data/labels-*.jsonl from `deepmath label-steps`)")
        rows += found
    return rows


def _examples(rows, tokenizer, cfg) -> list[dict]:
    out = []
    for row in rows:
        prompt = render_prompt(tokenizer, row["question"], cfg.prompt_template, cfg.system_prompt)
        ids, positions = encode_steps(tokenizer, prompt, row["steps"], cfg.marker, cfg.max_length)
        targets = row[cfg.label_type]
        labels = [-100.0] * len(ids)
        for position, target in zip(positions, targets):
            labels[position] = float(target)
        out.append({"input_ids": ids, "labels": labels})
    return out


def evaluate_prm(path: str, rows: list[dict], cfg) -> dict:
    """Held-out step metrics of a saved PRM against hard labels (and the ground truth where the rows have it)."""
    prm = ProcessRewardModel(path, max_length=cfg.max_length)
    scores = prm.score([r["question"] for r in rows], [r["steps"] for r in rows])
    flat, hard, gold, gold_scores = [], [], [], []
    for row, row_scores in zip(rows, scores):
        for k, score in enumerate(row_scores):
            flat.append(score)
            hard.append(int(row["hard"][k]))
            if row.get("gold_steps"):
                gold.append(int(row["gold_steps"][k]))
                gold_scores.append(score)
    result = {"vs_hard_labels": step_metrics(flat, hard)}
    if gold:
        result["vs_ground_truth"] = step_metrics(gold_scores, gold)
    return result


def _train(cfg, out: Path):
    import datasets
    from transformers import AutoModelForTokenClassification, AutoTokenizer, Trainer

    from deepmath.io.atomic import atomic_write_json, atomic_write_text
    from deepmath.stage import StageResult, StageStats
    from deepmath.train.runs import JsonlLogCallback, set_torch_threads, train_to_final

    set_torch_threads(cfg.torch_threads)
    rows = load_label_rows(cfg.labels)
    train_rows, test_rows = _split(rows, cfg.held_out, cfg.seed)
    backbone = _backbone(cfg, out, rows)
    tokenizer = AutoTokenizer.from_pretrained(backbone)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    final = out / "model"
    resumed = None
    if not (final / "config.json").exists():
        model = AutoModelForTokenClassification.from_pretrained(backbone, num_labels=1)
        model.config.pad_token_id = tokenizer.pad_token_id
        train = datasets.Dataset.from_list(_examples(train_rows, tokenizer, cfg))
        trainer = Trainer(
            model=model,
            args=cfg,
            train_dataset=train,
            data_collator=_collate(tokenizer.pad_token_id),
            compute_loss_func=bce_at_steps,
            callbacks=[JsonlLogCallback(out / "train_log.jsonl")],
        )
        resumed = train_to_final(trainer, tokenizer, out, final, cfg.resume_from_checkpoint, "train prm")
        atomic_write_json(
            final / "prm.json",
            {
                "marker": cfg.marker,
                "prompt_template": cfg.prompt_template,
                "system_prompt": cfg.system_prompt,
                "label_type": cfg.label_type,
            },
        )
    metrics = evaluate_prm(str(final), test_rows, cfg) if test_rows else {}
    metrics.update({"train_solutions": len(train_rows), "held_out_solutions": len(test_rows), "backbone": backbone})
    atomic_write_json(out / "metrics.json", metrics)
    atomic_write_text(out / "README.md", _card(cfg, metrics))
    stats = {
        "rows_in": len(rows),
        "rows_out": len(train_rows),  # the others are held out (held_out_solutions), not dropped
        "unit": "solutions",
        "model": str(final),
        "resumed_from": resumed,
        "held_out_solutions": len(test_rows),
    }
    for name in ("vs_hard_labels", "vs_ground_truth"):
        if name in metrics:
            stats[f"held_out_{name}"] = metrics[name]
    return StageResult(stats=StageStats.from_dict(stats), card=None)


def _card(cfg, metrics: dict) -> str:
    lines = [
        "---",
        "library_name: transformers",
        "tags: [deepmath, process-reward-model, math-shepherd]",
        "---",
        "",
        "# Process reward model",
        "",
        f"Backbone `{metrics['backbone']}` with a scalar head read at every step marker ({cfg.marker!r}), trained "
        f"with transformers' Trainer on {cfg.label_type} Math-Shepherd labels from {', '.join(cfg.labels)} "
        f"({metrics['train_solutions']} solutions; {metrics['held_out_solutions']} held out).",
        "",
    ]
    for name, title in (("vs_hard_labels", "hard labels"), ("vs_ground_truth", "ground-truth step verdicts")):
        if name in metrics:
            m = metrics[name]
            lines += [
                f"## Held-out steps vs {title} ({m['steps']} steps)",
                "",
                "| accuracy | precision | recall | F1 | majority-class accuracy |",
                "| ---: | ---: | ---: | ---: | ---: |",
                f"| {m['accuracy']:.3f} | {m['precision']:.3f} | {m['recall']:.3f} | {m['f1']:.3f} | "
                f"{m['chance_accuracy']:.3f} |",
                "",
            ]
    lines += ['Load it with `deepmath.train.prm.ProcessRewardModel("model")`; nothing here has run on a GPU.', ""]
    return "\n".join(lines)
