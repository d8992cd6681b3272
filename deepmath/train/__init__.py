"""TRL SFT and GRPO stages.

    deepmath train sft  RECIPE.yaml --output DIR     # deepmath.train.sft:run_sft   (SFTRecipe)
    deepmath train grpo RECIPE.yaml --output DIR     # deepmath.train.grpo:run_grpo (GRPORecipe)

Recipes (`pipelines/*.yaml`) are TRL config fields plus ours (`deepmath.train.config`). Modules: `data` (prompts,
gold answers, decontamination), `rewards_bridge` (rewards by name in a bounded process pool), `tiny` / `tiny_task`
(the offline CPU path), `prepare` and `runs` (what both stages share), `plots`. Nothing is imported here.
"""
