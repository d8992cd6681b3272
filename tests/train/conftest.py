"""A micro model (2 layers, hidden 32) with a tokenizer trained on the tiny task, built once per test session."""

import pytest

from deepmath.tasks.arithmetic import make_arithmetic_problems


@pytest.fixture(scope="session")
def micro_model(tmp_path_factory):
    from deepmath.train.tiny import build_tiny_model

    problems = make_arithmetic_problems(60, seed=3)
    texts = [f"{p['question']} {p['solution']}" for p in problems]
    path = tmp_path_factory.mktemp("micro") / "model"
    build_tiny_model(path, texts, hidden_size=32, layers=2, heads=2, vocab_size=300, seed=0)
    return str(path)
