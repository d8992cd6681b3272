"""TRL training stages: SFT, GRPO and the paradigm's other methods (RFT, Online RFT, DPO), and their comparison.

    deepmath train sft  RECIPE.yaml --output DIR     # deepmath.train.sft:run_sft   (SFTRecipe)
    deepmath train grpo RECIPE.yaml --output DIR     # deepmath.train.grpo:run_grpo (GRPORecipe)
    deepmath train rft|online-rft|dpo RECIPE.yaml --output DIR   # rft / online_rft / dpo (methods_config)
    deepmath compare RUN_DIR... --output DIR         # deepmath.train.compare:run_compare

Recipes (`pipelines/*.yaml`) are TRL config fields plus ours (`deepmath.train.config`). Modules: `data` (prompts,
gold answers, decontamination), `rewards_bridge` (rewards by name in a bounded process pool), `tiny` / `tiny_task`
(the offline CPU path), `prepare` and `runs` (what both stages share), `plots`, `methods` (what RFT, Online RFT
and DPO share: metrics, curves, card), `sampling` (offline policy samples for RFT and DPO). Nothing is imported here.
"""
