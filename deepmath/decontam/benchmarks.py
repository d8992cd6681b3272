"""Decontamination's name for the shared benchmark loader: this module IS `deepmath.benchmarks.loading`.

The registry moved to `deepmath/benchmarks/` (one registry for decontamination, the SFT mix, training and
evaluation). Existing imports (`from deepmath.decontam.benchmarks import load_benchmarks`) and tests that patch this
module's functions keep working because the name is bound to the very same module object, not to a copy.
"""

import sys

from deepmath.benchmarks import loading as _loading

sys.modules[__name__] = _loading
