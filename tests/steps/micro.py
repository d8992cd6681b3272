"""The micro GRPO setup of the process-supervision tests: the multi-step tiny task, 2 steps of 8 completions."""

TINY = {"tiny_hidden_size": 32, "tiny_layers": 1, "tiny_heads": 2}

MULTISTEP_GRPO = {
    "dataset": ["tiny-multistep"],
    "tiny_problems": 80,
    "tiny_test_problems": 10,
    "reward_funcs": ["math_accuracy"],
    "reward_workers": 1,
    "num_generations": 4,
    "per_device_train_batch_size": 8,
    "max_completion_length": 24,
    "max_steps": 2,
    "logging_steps": 1,
    "eval_k": 0,
    "use_cpu": True,
    "save_strategy": "no",
    "bf16": False,
    "loss_type": "grpo",
    "beta": 0.04,
}
