"""The one place evaluation imports the program sandbox from (program-of-thought and tool-integrated runs).

Today that is `deepmath.sftmix.sandbox` (a separate process with limits and an audit hook; see its docstring for
what it does and does not stop). A stronger sandbox (`deepmath.sandbox`, bubblewrap) is being built with the same
`run_program(code, limits) -> ProgramResult` API; repoint the import below and every evaluation path follows.
"""

from deepmath.sftmix.sandbox import ProgramResult, SandboxLimits, run_program

__all__ = ["ProgramResult", "SandboxLimits", "run_program"]
