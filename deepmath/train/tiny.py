"""A tiny Llama-style policy built from a config, with a tokenizer trained locally: the offline CPU path.

    from deepmath.train.tiny import build_tiny_model
    path = build_tiny_model("out/base_model", texts, hidden_size=128, layers=4)   # saves model + tokenizer

No hub access is needed. The tokenizer is a byte-level BPE learned from `texts` (digits always split one by one, so
numbers stay compositional) wrapped as a `PreTrainedTokenizerFast` with a small chat template; the model is a
randomly initialised `LlamaForCausalLM` (RoPE, SwiGLU, RMSNorm, tied embeddings) of a few hundred K to a few M
parameters. Both are saved with `save_pretrained`, so TRL can reload policy and reference model from the path.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "build_tiny_model", "build_tokenizer"]

logger = logging.getLogger(__name__)

BOS, EOS, PAD = "<|bos|>", "<|end|>", "<|pad|>"
ROLE_TOKENS = ["<|system|>", "<|user|>", "<|assistant|>"]
SPECIAL_TOKENS = [BOS, EOS, PAD, *ROLE_TOKENS]

# One turn = <|role|>content<|end|>; the assistant turn ends with <|end|> = eos, so generation stops there.
# `{% generation %}` marks assistant tokens for TRL's assistant_only_loss.
CHAT_TEMPLATE = (
    "{{ '<|bos|>' }}"
    "{% for message in messages %}"
    "{% if message['role'] == 'assistant' %}"
    "{{ '<|assistant|>' }}{% generation %}{{ message['content'] + '<|end|>' }}{% endgeneration %}"
    "{% else %}"
    "{{ '<|' + message['role'] + '|>' + message['content'] + '<|end|>' }}"
    "{% endif %}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|assistant|>' }}{% endif %}"
)


def build_tokenizer(texts: Iterable[str], vocab_size: int = 512):
    """A byte-level BPE `PreTrainedTokenizerFast` learned from `texts`, digits split one by one, with a chat template."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [pre_tokenizers.Digits(individual_digits=True), pre_tokenizers.ByteLevel(add_prefix_space=False)]
    )
    tokenizer.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),  # every byte is encodable: no unknown tokens
        show_progress=False,
    )
    tokenizer.train_from_iterator(texts, trainer=trainer)
    wrapped = PreTrainedTokenizerFast(
        tokenizer_object=tokenizer,
        bos_token=BOS,
        eos_token=EOS,
        pad_token=PAD,
        padding_side="left",
        model_max_length=1024,
    )
    wrapped.chat_template = CHAT_TEMPLATE
    return wrapped


def build_tiny_model_for(
    cfg, output_dir: str | Path, texts: Iterable[str], seed: int | None = None, max_positions: int | None = None
) -> Path:
    """`build_tiny_model` sized by a recipe's `tiny_*` fields (hidden size, layers, heads, vocabulary, seed) with
    room for its `max_length` unless `max_positions` is given: the one place those fields become a model."""
    return build_tiny_model(
        output_dir,
        texts,
        hidden_size=cfg.tiny_hidden_size,
        layers=cfg.tiny_layers,
        heads=cfg.tiny_heads,
        vocab_size=cfg.tiny_vocab_size,
        max_positions=max_positions or max(256, cfg.max_length),
        seed=cfg.tiny_seed if seed is None else seed,
    )


def build_tiny_model(
    output_dir: str | Path,
    texts: Iterable[str],
    hidden_size: int = 128,
    layers: int = 4,
    heads: int = 4,
    intermediate_size: int = 0,
    vocab_size: int = 512,
    max_positions: int = 256,
    seed: int = 0,
) -> Path:
    """Train a tokenizer on `texts`, build a randomly initialised Llama model, save both into `output_dir`."""
    import torch
    from transformers import GenerationConfig, LlamaConfig, LlamaForCausalLM

    if hidden_size % heads:
        raise ValueError(f"tiny hidden_size ({hidden_size}) must be divisible by heads ({heads})")
    output_dir = Path(output_dir)
    tokenizer = build_tokenizer(texts, vocab_size=vocab_size)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=hidden_size,
        intermediate_size=intermediate_size or 3 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=heads,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(seed)
    model = LlamaForCausalLM(config)
    model.generation_config = GenerationConfig(
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    output_dir.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(output_dir)
    tokenizer.save_pretrained(output_dir)
    n_params = sum(p.numel() for p in model.parameters())
    logger.debug("tiny model: %.2fM parameters, vocab %d -> %s", n_params / 1e6, len(tokenizer), output_dir)
    return output_dir
