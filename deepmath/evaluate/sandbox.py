"""The one place evaluation imports the program sandbox from (program-of-thought and tool-integrated runs).

`deepmath.sandbox` runs each program in bubblewrap (namespaces, read-only system, limits, a result protocol the
program cannot forge; see its docstring for what is and is not isolated), falling back, loudly, to an in-process
layer where bubblewrap cannot run.
"""

from deepmath.sandbox import ProgramResult, SandboxLimits, run_program

__all__ = ["ProgramResult", "SandboxLimits", "run_program"]
