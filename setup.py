"""Build hook for the one compiled part of deepmath: `deepmath.dedup._kernel` (C, no numpy headers needed).

Everything else is in pyproject.toml. The extension is optional: without a C compiler `pip install` still succeeds
and `deepmath dedup` uses its numpy path (same signatures, slower; the stage's stats say `kernel: numpy`).
"""

import sys

from setuptools import Extension, setup

_FLAGS = [] if sys.platform == "win32" else ["-O3", "-std=c99"]

setup(
    ext_modules=[
        Extension(
            "deepmath.dedup._kernel",
            sources=["deepmath/dedup/_kernel.c", "deepmath/dedup/_kernel_sets.c"],
            depends=["deepmath/dedup/_kernel.h"],
            extra_compile_args=_FLAGS,
            optional=True,
        )
    ]
)
