"""Process supervision: Math-Shepherd step labels (`label-steps`), the process reward model and GRPO+PS helpers."""
