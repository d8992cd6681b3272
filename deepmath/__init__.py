"""deepmath: the DeepSeekMath recipe end to end.

Common Crawl ingest that keeps math, iterative fastText mining with domain discovery, MinHash near-dedup,
benchmark decontamination, a verified SFT mix, and GRPO on TRL with rewards from the separate `rewards` package.

Run stages from the CLI (`deepmath --help`) or whole recipes (`deepmath run pipelines/demo.yaml`).
Nothing heavy is imported here: stages import their dependencies when they run. The one thing done here is
`compat.lazy_hub_filesystem` (datatrove loads without the Hugging Face Hub client), which must precede any import of
datatrove.
"""

from deepmath import compat as _compat

_compat.lazy_hub_filesystem()

__version__ = "0.1.0"
__all__ = ["__version__"]
