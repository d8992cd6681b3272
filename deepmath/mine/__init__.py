"""Iterative fastText math mining with domain discovery (DeepSeekMath section 2.1): `deepmath mine`."""
