"""Reward wiring: rewards by name in worker processes, None for unparseable gold, bounded batch time."""

import pytest

from deepmath.grading import RewardBridge, load_reward


def chat(text):
    return [{"role": "assistant", "content": text}]


@pytest.fixture(scope="module")
def bridge():
    with RewardBridge(["math_accuracy", "boxed_format"], batch_timeout=60, workers=2) as b:
        b.warmup()
        yield b


def test_rewards_by_name_in_workers(bridge):
    accuracy, boxed = bridge.functions()
    assert (accuracy.__name__, boxed.__name__) == ("math_accuracy", "boxed_format")  # TRL logs rewards/<name>/mean
    completions = [chat("3 + 4 = 7. \\boxed{7}"), chat("\\boxed{8}"), chat("no idea"), chat("\\boxed{0.5}")]
    answers = ["7", "7", "7", "\\frac{1}{2}"]
    assert accuracy(completions, answer=answers) == [1.0, 0.0, 0.0, 1.0]
    assert boxed(completions, answer=answers) == [1.0, 1.0, 0.0, 1.0]
    assert bridge.stats.samples["math_accuracy"] >= 4


def test_unparseable_gold_gives_none_not_zero(bridge):
    (accuracy, _) = bridge.functions()
    rewards = accuracy([chat("\\boxed{7}"), chat("\\boxed{7}"), chat("\\boxed{7}")], answer=["7", "", "???"])
    assert rewards == [1.0, None, None]  # TRL turns None into NaN and leaves the sample out of the advantage


def test_trl_only_kwargs_are_not_sent_and_timeouts_are_logged(bridge):
    logged = {}
    (accuracy, _) = bridge.functions()
    out = accuracy(
        [chat("\\boxed{1}")] * 3,
        answer=["1", "2", "1"],
        prompts=[[{"role": "user", "content": "q"}]] * 3,
        completion_ids=[[1, 2]] * 3,
        trainer_state=object(),  # not picklable across processes: must be dropped
        log_metric=lambda name, value: logged.__setitem__(name, value),
        log_extra=lambda *a: None,
    )
    assert out == [1.0, 0.0, 1.0]
    assert logged == {"rewards/math_accuracy/timeouts": 0.0}


def test_custom_reward_by_import_path_and_chunking():
    with RewardBridge(["tests.train.slow_rewards:length"], workers=2, chunk_size=2) as b:
        (length,) = b.functions()
        assert length.__name__ == "length"
        assert length(["a", "bb", "ccc", "dddd", "eeeee"]) == [1.0, 2.0, 3.0, 4.0, 5.0]  # order kept over 3 chunks


@pytest.mark.parametrize(("timeout_value", "expected"), [({}, [None, None]), ({"timeout_value": 0.0}, [0.0, 0.0])])
def test_stuck_grading_times_out_to_none_or_zero_and_training_goes_on(timeout_value, expected):
    # default: None, which TRL masks (advantage 0, out of the group baseline); 0.0 is the old behaviour, on request
    sleepy = "tests.train.slow_rewards:sleepy"
    with RewardBridge([sleepy, "math_accuracy"], batch_timeout=1.5, workers=1, **timeout_value) as b:
        b.warmup()
        values, timed_out = b.call(sleepy, [chat("x"), chat("y")])
        # `sleepy` never returns on its own: the batch came back because its timeout fired
        assert values == expected and timed_out == 2
        assert b.stats.timeouts["tests.train.slow_rewards:sleepy"] == 2 and b.stats.restarts == 1
        # the stuck worker was killed with its pool; the next batches are graded normally (a fresh worker on a
        # loaded machine may miss the first 1.5 s window: training goes on either way, and one of three is graded)
        results = [b.call("math_accuracy", [chat("\\boxed{2}")], answer=["2"]) for _ in range(3)]
        assert ([1.0], 0) in results


def test_reward_function_errors_are_not_silent_zeros():
    with RewardBridge(["tests.train.slow_rewards:explode"], workers=1) as b, pytest.raises(RuntimeError, match="bug"):
        b.call("tests.train.slow_rewards:explode", ["x"])


def test_bad_reward_names_and_arguments():
    with pytest.raises(KeyError, match="math_accuracy"):
        load_reward("math_acuracy")
    with pytest.raises(KeyError, match="cannot import"):
        load_reward("tests.train.slow_rewards:nope")
    with pytest.raises(ValueError, match="no reward functions"):
        RewardBridge([])
    with pytest.raises(ValueError, match="batch_timeout"):
        RewardBridge(["math_accuracy"], batch_timeout=0)
    with RewardBridge(["math_accuracy"], workers=1) as b, pytest.raises(ValueError, match="2 values for 1"):
        b.call("math_accuracy", ["\\boxed{1}"], answer=["1", "2"])


def test_the_recipe_masks_timeouts_by_default_and_takes_the_old_zero_on_request(tmp_path):
    from deepmath.cli import build_stage_config
    from deepmath.registry import get_stage

    recipe = tmp_path / "r.yaml"
    recipe.write_text("model: tiny\ndataset: tiny\nuse_cpu: true\n")
    spec = get_stage("train-grpo")
    assert build_stage_config("train grpo", spec, [str(recipe)]).reward_timeout_value is None
    cfg = build_stage_config("train grpo", spec, [str(recipe), "--reward-timeout-value", "0.0"])
    assert cfg.reward_timeout_value == 0.0
