import itertools
import random
import subprocess
import sys

import numpy as np
import pytest

from deepmath.mine.classifier import (
    FastTextParams,
    binary_metrics,
    effective_params,
    load_model,
    predict_math,
    roc_auc,
    save_model,
    train_classifier,
)
from deepmath.mine.normalize import normalize_text, training_line
from tests.mine.synthetic import MATH, OTHER, page


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory):
    """A 40-line math/other fastText model."""
    rng = random.Random(0)
    lines = [training_line("math", page(rng, MATH, 30)) for _ in range(20)]
    lines += [training_line("other", page(rng, OTHER, 30)) for _ in range(20)]
    rng.shuffle(lines)
    folder = tmp_path_factory.mktemp("fasttext")
    (folder / "train.txt").write_text("\n".join(lines) + "\n")
    params = FastTextParams(dim=16, min_count=1, epoch=25, bucket=10_000, threads=1)
    model, _ = train_classifier(folder / "train.txt", params)
    save_model(model, folder / "model.bin")
    return folder / "model.bin"


def test_prediction_under_numpy2(tiny_model):
    assert int(np.__version__.split(".")[0]) >= 2, "this test is about NumPy 2"
    model = load_model(tiny_model)
    rng = random.Random(1)
    texts = [normalize_text(page(rng, MATH, 30)) for _ in range(5)] + [
        normalize_text(page(rng, OTHER, 30)) for _ in range(5)
    ]
    scores = predict_math(model, texts)
    assert scores.dtype == np.float32 and scores.shape == (10,)
    assert ((scores >= 0) & (scores <= 1)).all()
    assert scores[:5].min() > scores[5:].max(), scores
    # fastText's own single-text predict also works under NumPy 2 with this wheel, and agrees with the batch path
    labels, probs = model.predict(texts[0], k=2)
    assert isinstance(probs, np.ndarray)
    assert abs(dict(zip(labels, probs))["__label__math"] - scores[0]) < 1e-5
    assert predict_math(model, []).shape == (0,)


def test_prediction_in_a_fresh_numpy2_process(tiny_model):
    code = (
        "import numpy, sys; from deepmath.mine.classifier import load_model, predict_math; "
        f"s = predict_math(load_model({str(tiny_model)!r}), ['theorem proof $ x ^ 2 $', 'hotel beach']); "
        "assert numpy.__version__.startswith('2'), numpy.__version__; print(float(s[0]) > float(s[1]))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="model not found"):
        load_model(tmp_path / "nope.bin")


def test_small_training_set_rule():
    paper = FastTextParams()
    same, adapted = effective_params(paper, n_train=1_000_000, small_train_size=10_000)
    assert same == paper and not adapted
    small, adapted = effective_params(paper, n_train=500, small_train_size=10_000)
    assert adapted and small.epoch >= 25 and small.min_count == 1 and small.bucket <= 100_000
    assert (small.dim, small.lr, small.word_ngrams) == (256, 0.1, 3)
    off, adapted = effective_params(paper, n_train=500, small_train_size=0)
    assert off == paper and not adapted


def _pairwise_auc(labels, scores):
    pos = [s for s, y in zip(scores, labels) if y]
    neg = [s for s, y in zip(scores, labels) if not y]
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p, n in itertools.product(pos, neg))
    return wins / (len(pos) * len(neg))


@pytest.mark.parametrize("seed", range(5))
def test_roc_auc_matches_pair_counting(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(60) < 0.4
    scores = np.round(rng.random(60) + labels * 0.3, 1)  # rounding makes ties
    assert roc_auc(labels, scores) == pytest.approx(_pairwise_auc(labels, scores))


def test_binary_metrics():
    labels = np.array([1, 1, 1, 0, 0, 0], bool)
    scores = np.array([0.9, 0.8, 0.2, 0.7, 0.1, 0.0])
    m = binary_metrics(labels, scores)
    assert (m["precision"], m["recall"]) == (pytest.approx(2 / 3, abs=1e-4), pytest.approx(2 / 3, abs=1e-4))
    assert m["auc"] == pytest.approx(8 / 9, abs=1e-4)
    assert roc_auc(np.ones(3, bool), np.ones(3)) is None


def test_diverged_training_is_retried_at_half_the_learning_rate(tmp_path, monkeypatch):
    import fasttext

    rng = random.Random(2)
    lines = [training_line("math", page(rng, MATH, 20)) for _ in range(10)]
    lines += [training_line("other", page(rng, OTHER, 20)) for _ in range(10)]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    real = fasttext.train_supervised
    calls = []

    def flaky(**kwargs):
        calls.append(kwargs["lr"])
        if len(calls) == 1:
            raise RuntimeError("Encountered NaN.")
        return real(**kwargs)

    monkeypatch.setattr(fasttext, "train_supervised", flaky)
    params = FastTextParams(dim=8, min_count=1, epoch=5, bucket=1000, threads=1)
    model, lr = train_classifier(tmp_path / "train.txt", params)
    assert calls == [0.1, 0.05] and lr == 0.05
    assert model.get_dimension() == 8

    def broken(**kwargs):
        raise RuntimeError("something else")

    monkeypatch.setattr(fasttext, "train_supervised", broken)
    with pytest.raises(RuntimeError, match="something else"):
        train_classifier(tmp_path / "train.txt", params)

    def always_nan(**kwargs):
        raise RuntimeError("Encountered NaN.")

    monkeypatch.setattr(fasttext, "train_supervised", always_nan)
    with pytest.raises(RuntimeError, match="NaN"):
        train_classifier(tmp_path / "train.txt", params, attempts=2)


def test_every_input_weight_is_initialised(tmp_path):
    """fastText fills floor(size/10) floats per training thread; fewer than 11 threads left heap garbage (1e16)."""
    rng = random.Random(3)
    lines = [training_line("math", page(rng, MATH, 20)) for _ in range(10)]
    lines += [training_line("other", page(rng, OTHER, 20)) for _ in range(10)]
    (tmp_path / "train.txt").write_text("\n".join(lines) + "\n")
    churn = [np.random.default_rng(i).random(5000) * 1e20 for i in range(200)]  # leave big floats on the heap
    del churn
    params = FastTextParams(dim=8, word_ngrams=1, min_count=1, epoch=1, bucket=997, threads=1)
    for _ in range(5):
        model, _ = train_classifier(tmp_path / "train.txt", params)
        weights = model.get_input_matrix()
        assert np.isfinite(weights).all() and np.abs(weights).max() < 10.0
