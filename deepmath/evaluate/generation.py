"""One generation layer for evaluation and training's in-stage evaluation: prompts in, completions out.

    gen = load_generator("runs/sft/model", backend="transformers", max_batch_tokens=32768)
    prompts = [Prompt(messages=[{"role": "user", "content": "1+1?"}]), Prompt(text="Question: 1+1?\\nAnswer:")]
    gen.generate(prompts, SamplingSettings(n=4, temperature=0.7, max_new_tokens=256, stop=["\\nQuestion:"]))

A `Prompt` is either chat `messages` (rendered with the model's chat template; a model without one gets the
contents as plain text) or plain `text` (few-shot prompts for base models: never a chat template), plus an optional
`prefix` of assistant text already produced (the tool-integrated loop continues a turn after a program's output).

Backends:
- `HFGenerator` (transformers `generate`, CPU or GPU): prompts are sorted by length and batched by a token budget,
  `(prompt tokens + max_new_tokens) x sequences <= max_batch_tokens`, so a batch never holds more sequences than fit;
  a single prompt whose n samples exceed the budget is split into several calls. Stop strings end generation
  (`stop_strings`) and are cut from the text.
- `VLLMGenerator` (GPU): chat prompts without a prefix go through `LLM.chat` (the path `deepmath eval` always used);
  everything else is rendered here and sent to `LLM.generate` as plain completion prompts, which is also how models
  without a chat template are served.
- `ScriptedGenerator` (tests): fixed model turns per question, to test loops (TIR, PoT) end to end without a model.

Nothing here has run on a GPU in this repository's CI (there is none); the vLLM path is the one `deepmath eval` had.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

__all__ = ["HFGenerator", "Prompt", "SamplingSettings", "ScriptedGenerator", "VLLMGenerator", "load_generator"]

logger = logging.getLogger(__name__)


@dataclass
class Prompt:
    messages: list[dict] | None = None
    text: str | None = None
    prefix: str = ""  # assistant text already generated (continued, not re-generated)

    def __post_init__(self):
        if (self.messages is None) == (self.text is None):
            raise ValueError("a Prompt has either chat messages or plain text")


@dataclass
class SamplingSettings:
    n: int = 1
    temperature: float = 0.0  # 0: greedy
    top_p: float = 1.0
    max_new_tokens: int = 512
    stop: list[str] = field(default_factory=list)
    seed: int = 0


def cut_at_stop(text: str, stop: Sequence[str]) -> str:
    """`text` up to the first stop string (backends may include it, or generate past it in a batch)."""
    positions = [text.find(s) for s in stop if s and s in text]
    return text[: min(positions)] if positions else text


def render(tokenizer, prompt: Prompt) -> str:
    """The text a model sees: chat template (when the model has one) for messages, the text as is otherwise."""
    if prompt.text is not None:
        return prompt.text + prompt.prefix
    if getattr(tokenizer, "chat_template", None):
        rendered = tokenizer.apply_chat_template(prompt.messages, tokenize=False, add_generation_prompt=True)
    else:  # a base model without a chat template: the messages as plain text
        rendered = "\n\n".join(m["content"] for m in prompt.messages) + "\n\n"
    return rendered + prompt.prefix


class HFGenerator:
    """transformers `generate`, batched by a token budget."""

    def __init__(self, model_path: str, max_batch_tokens: int = 16384, device: str | None = None):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        self.tokenizer = AutoTokenizer.from_pretrained(model_path, padding_side="left")
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model = AutoModelForCausalLM.from_pretrained(model_path, dtype="auto").to(self.device).eval()
        self.eos = self.model.generation_config.eos_token_id or self.tokenizer.eos_token_id
        self.max_batch_tokens = max_batch_tokens
        self.calls = 0  # generate() calls made (tests check the budget splits work)

    def _batches(self, lengths: list[int], n: int, max_new: int) -> list[list[tuple[int, int]]]:
        """Batches of (prompt index, samples) whose padded size fits the token budget."""
        order = sorted(range(len(lengths)), key=lambda i: lengths[i])
        batches: list[list[tuple[int, int]]] = []
        current: list[tuple[int, int]] = []
        longest = 0
        for index in order:
            per_sequence = lengths[index] + max_new
            fit = max(1, self.max_batch_tokens // per_sequence)  # sequences of this length that fit in one call
            remaining = n
            while remaining:
                longest_if_added = max(longest, per_sequence)
                used = sum(s for _, s in current)
                room = self.max_batch_tokens // longest_if_added - used
                if room <= 0 and current:
                    batches.append(current)
                    current, longest = [], 0
                    continue
                take = min(remaining, max(room, 1), fit)
                current.append((index, take))
                longest = longest_if_added
                remaining -= take
        if current:
            batches.append(current)
        return batches

    def generate(self, prompts: list[Prompt], settings: SamplingSettings) -> list[list[str]]:
        import torch
        from tqdm.auto import tqdm

        texts = [render(self.tokenizer, p) for p in prompts]
        lengths = [len(ids) for ids in self.tokenizer(texts, add_special_tokens=False)["input_ids"]]
        out: list[list[str]] = [[] for _ in prompts]
        sample = settings.temperature > 0
        torch.manual_seed(settings.seed)
        batches = self._batches(lengths, settings.n, settings.max_new_tokens)
        for batch in tqdm(batches, desc="generate", unit="batch", disable=len(batches) < 4):
            # one row per sequence: a prompt repeated for its samples in this batch
            rows = [index for index, samples in batch for _ in range(samples)]
            encoded = self.tokenizer(
                [texts[i] for i in rows], return_tensors="pt", padding=True, add_special_tokens=False
            ).to(self.device)
            extra = {"stop_strings": settings.stop, "tokenizer": self.tokenizer} if settings.stop else {}
            with torch.no_grad():
                generated = self.model.generate(
                    **encoded,
                    do_sample=sample,
                    temperature=settings.temperature if sample else None,
                    top_p=settings.top_p if sample else None,
                    top_k=0 if sample else None,
                    max_new_tokens=settings.max_new_tokens,
                    pad_token_id=self.tokenizer.pad_token_id,
                    eos_token_id=self.eos,
                    **extra,
                )
            self.calls += 1
            decoded = self.tokenizer.batch_decode(
                generated[:, encoded["input_ids"].shape[1] :], skip_special_tokens=True
            )
            for index, text in zip(rows, decoded):
                out[index].append(cut_at_stop(text, settings.stop))
        return out


class VLLMGenerator:
    """vLLM on a GPU; chat prompts go through `LLM.chat`, the rest through `LLM.generate`."""

    def __init__(self, model_path: str, seed: int = 0, **engine_args):
        from vllm import LLM

        self.llm = LLM(model=model_path, seed=seed, **engine_args)
        self.tokenizer = self.llm.get_tokenizer()

    def generate(self, prompts: list[Prompt], settings: SamplingSettings) -> list[list[str]]:
        from vllm import SamplingParams

        params = SamplingParams(
            n=settings.n,
            temperature=settings.temperature,
            top_p=settings.top_p,
            max_tokens=settings.max_new_tokens,
            stop=settings.stop or None,
            seed=settings.seed,
        )
        has_template = bool(getattr(self.tokenizer, "chat_template", None))
        chat = [i for i, p in enumerate(prompts) if p.messages is not None and not p.prefix and has_template]
        plain = [i for i in range(len(prompts)) if i not in set(chat)]
        out: list[list[str]] = [[] for _ in prompts]
        if chat:
            for i, result in zip(chat, self.llm.chat([prompts[i].messages for i in chat], params)):
                out[i] = [cut_at_stop(o.text, settings.stop) for o in result.outputs]
        if plain:
            texts = [render(self.tokenizer, prompts[i]) for i in plain]
            for i, result in zip(plain, self.llm.generate(texts, params)):
                out[i] = [cut_at_stop(o.text, settings.stop) for o in result.outputs]
        return out


class ScriptedGenerator:
    """Fixed model turns: `script(prompt) -> next turn`, or a {question: [turn, turn, ...]} mapping.

    With a mapping, the question found in the prompt picks its list, and the turn is the one after as many turns as
    the prompt's assistant prefix holds program outputs (```output blocks): turn 0 first, turn 1 after the first
    program ran, ... (the same turn for all n samples). An exhausted list answers "" (the model stopped)."""

    def __init__(self, script: Callable[[Prompt], str] | dict[str, list[str]]):
        self.script = script
        self.prompts: list[str] = []  # every prompt seen, rendered, for assertions

    def _next(self, prompt: Prompt, text: str) -> str:
        if callable(self.script):
            return self.script(prompt)
        keys = [k for k in self.script if k in text]
        if not keys:
            raise KeyError(f"no scripted turns for prompt {text[:80]!r}")
        turns = self.script[max(keys, key=len)]
        position = prompt.prefix.count("```output")
        return turns[position] if position < len(turns) else ""

    def generate(self, prompts: list[Prompt], settings: SamplingSettings) -> list[list[str]]:
        out = []
        for prompt in prompts:
            text = render(None, prompt)
            self.prompts.append(text)
            turn = cut_at_stop(self._next(prompt, text), settings.stop)
            out.append([turn] * settings.n)
        return out


def load_generator(model_path: str, backend: str = "transformers", max_batch_tokens: int = 16384, seed: int = 0):
    """A generator for `model_path` on `backend` (transformers or vllm)."""
    if backend == "vllm":
        return VLLMGenerator(model_path, seed=seed)
    if backend == "transformers":
        return HFGenerator(model_path, max_batch_tokens=max_batch_tokens)
    raise ValueError(f"backend must be transformers or vllm, not {backend!r}")
