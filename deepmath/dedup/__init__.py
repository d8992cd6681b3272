"""Exact + MinHash near-duplicate removal with datasketch-compatible signatures and verified candidate pairs.

`deepmath dedup INPUT --output DIR` (stage.py) for corpora; `deepmath.dedup.api.find_duplicates` for in-memory
collections. Nothing heavy is imported here.
"""
