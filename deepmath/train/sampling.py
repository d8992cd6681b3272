"""Offline policy samples for RFT and DPO: k completions per training question, graded, written as data.

    samples = policy_samples(cfg, policy, train, bridge, out)   # OUT/samples/data/samples.jsonl.gz + card
    kept, report = rft_kept(samples, dedup=True)                # correct, distinct completions (RFT)
    pairs, report = dpo_pairs(samples, per_question=4)          # (correct, wrong) completions (DPO)

The sampler is the evaluation's (`deepmath.evaluate.run.generate_completions`: transformers or vLLM, the same chat
prompt) and the grading is too (`grade_completions`: `rewards` in worker processes with a deadline; a question not
graded in time, or whose gold answer `rewards` cannot parse, is dropped and counted). `sample_questions` questions
are drawn from the training set with the run's `seed`, so seeds differ in data order as GRPO's sampler does. A
re-run reads `OUT/samples` instead of sampling again.

Dedup (RFT): two correct completions of one question are the same when their text is equal after whitespace is
collapsed. Yuan et al. (2023) dedup reasoning paths by their equations; on short CoT the text is the path.
"""

from __future__ import annotations

import logging
import random
from pathlib import Path

from deepmath.cards import Card, write_card
from deepmath.problems import DataError, read_jsonl, write_jsonl

__all__ = ["dpo_pairs", "policy_samples", "rft_kept", "sample_completions", "write_set"]

logger = logging.getLogger(__name__)


def _questions(cfg, train: list[dict]) -> list[dict]:
    if not cfg.sample_questions or cfg.sample_questions >= len(train):
        return list(train)
    return random.Random(cfg.seed).sample(train, cfg.sample_questions)


def policy_samples(cfg, policy: str, train: list[dict], bridge, out: Path) -> tuple[list[dict], dict]:
    """Graded samples `[{"question", "answer", "completions", "correct", "answers"}]` and their counts."""
    from deepmath.evaluate.run import grade_completions
    from deepmath.problems import build_messages

    folder = out / "samples"
    path = folder / "data" / "samples.jsonl.gz"
    if path.exists():
        rows = read_jsonl(path)
        return rows, _counts(rows, cfg)
    questions = _questions(cfg, train)
    prompts = [build_messages(q["question"], cfg.prompt_template, cfg.system_prompt) for q in questions]
    logger.info("sampling %d completions for each of %d questions from %s", cfg.sample_k, len(prompts), policy)
    completions = sample_completions(cfg, policy, prompts, cfg.seed)
    graded = grade_completions(questions, completions, bridge, timeout=cfg.reward_timeout)
    rows = []
    for question, texts, result in zip(questions, completions, graded):
        row = {"question": question["question"], "answer": question["answer"], "completions": texts}
        if result is None:
            row["skipped"] = "grading_timeout"
        elif result["gold_unparseable"]:
            row["skipped"] = "gold_unparseable"
        else:
            row.update(answers=result["answers"], correct=result["correct"])
        rows.append(row)
    counts = _counts(rows, cfg)
    card = Card(
        title=f"Policy samples of {policy}",
        stage="train",
        summary=f"{cfg.sample_k} completions per training question sampled from `{policy}` at temperature "
        f"{cfg.sample_temperature} (the evaluation sampler) and graded with `rewards`.",
        n_rows=len(rows),
        fields={
            "question": "training question",
            "answer": "gold answer",
            "completions": f"{cfg.sample_k} sampled completions",
            "answers": "extracted answer of each completion",
            "correct": "verdict of each completion",
            "skipped": "why the question was not graded (absent when graded)",
        },
        counts={key: value for key, value in counts.items() if key != "dropped"},
        dropped=counts["dropped"],
        parameters={
            "policy": policy,
            "sample_k": cfg.sample_k,
            "sample_temperature": cfg.sample_temperature,
            "sample_max_new_tokens": cfg.sample_max_new_tokens,
            "seed": cfg.seed,
        },
        lineage=[policy, *cfg.dataset],
        data_files="data/samples.jsonl.gz",
    )
    write_card(folder, card)
    write_jsonl(path, rows)  # last: its presence means the samples are complete
    logger.info("policy samples: %s", counts)
    return rows, counts


def sample_completions(cfg, policy: str, prompts: list, seed: int) -> list[list[str]]:
    """`cfg.sample_k` completions of each prompt from `policy`, with the config's `sample_*` settings (RFT, Online RFT,
    DPO and iterative RL share them)."""
    return _generate(
        policy,
        prompts,
        cfg.sample_k,
        cfg.sample_temperature,
        cfg.sample_top_p,
        cfg.sample_max_new_tokens,
        cfg.sample_batch_problems,
        seed,
    )


def _generate(*args) -> list[list[str]]:
    from deepmath.evaluate.run import generate_completions

    return generate_completions(*args)


def _counts(rows: list[dict], cfg) -> dict:
    graded = [r for r in rows if "correct" in r]
    dropped: dict[str, int] = {}
    for row in rows:
        if "skipped" in row:
            dropped[row["skipped"]] = dropped.get(row["skipped"], 0) + 1
    samples = sum(len(r["completions"]) for r in rows)
    correct = sum(sum(r["correct"]) for r in graded)
    return {
        "questions": len(rows),
        "samples": samples,
        "graded_samples": sum(len(r["correct"]) for r in graded),
        "correct_samples": correct,
        "questions_all_correct": sum(all(r["correct"]) for r in graded),
        "questions_all_wrong": sum(not any(r["correct"]) for r in graded),
        "dropped": dropped,
    }


def _key(text: str) -> str:
    return " ".join(text.split())


def rft_kept(samples: list[dict], dedup: bool = True) -> tuple[list[dict], dict]:
    """Rows `{"question", "answer", "solution"}`: each question's correct completions, distinct when `dedup`."""
    kept, duplicates, correct = [], 0, 0
    for row in samples:
        seen: set[str] = set()
        for text, ok in zip(row["completions"], row.get("correct") or []):
            if not ok:
                continue
            correct += 1
            key = _key(text)
            if dedup and key in seen:
                duplicates += 1
                continue
            seen.add(key)
            kept.append({"question": row["question"], "answer": row["answer"], "solution": text})
    if not kept:
        raise DataError("RFT: no correct completion among the policy samples; nothing to fine-tune on")
    return kept, {"correct": correct, "duplicates": duplicates, "kept": len(kept)}


def dpo_pairs(samples: list[dict], per_question: int = 4) -> tuple[list[dict], dict]:
    """Rows `{"question", "answer", "chosen", "rejected"}`: distinct correct vs distinct wrong completions."""
    pairs = []
    counts = {"questions_all_correct": 0, "questions_all_wrong": 0, "questions_paired": 0}
    for row in samples:
        verdicts = row.get("correct") or []
        good = list(dict.fromkeys(t for t, ok in zip(row["completions"], verdicts) if ok))
        bad = list(dict.fromkeys(t for t, ok in zip(row["completions"], verdicts) if not ok))
        if not verdicts:
            continue
        if not bad:
            counts["questions_all_correct"] += 1
            continue
        if not good:
            counts["questions_all_wrong"] += 1
            continue
        counts["questions_paired"] += 1
        for i in range(min(per_question, max(len(good), len(bad)))):
            pairs.append(
                {
                    "question": row["question"],
                    "answer": row["answer"],
                    "chosen": good[i % len(good)],
                    "rejected": bad[i % len(bad)],
                }
            )
    if not pairs:
        raise DataError("DPO: no question has both a correct and a wrong sample; no preference pair to train on")
    counts["pairs"] = len(pairs)
    return pairs, counts


def write_set(
    folder: Path, name: str, rows: list[dict], title: str, summary: str, fields: dict, counts: dict, lineage
):
    """Write a derived set (`kept`, `pairs`) as `folder/data/<name>.jsonl.gz` with its card."""
    card = Card(
        title=title,
        stage="train",
        summary=summary,
        n_rows=len(rows),
        fields=fields,
        counts=counts,
        lineage=list(lineage),
        data_files=f"data/{name}.jsonl.gz",
    )
    write_card(folder, card)
    write_jsonl(folder / "data" / f"{name}.jsonl.gz", rows)
