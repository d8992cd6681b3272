"""Kept for existing imports: the program sandbox now lives in `deepmath.sandbox` (bubblewrap isolation)."""

from deepmath.sandbox import ProgramResult, SandboxLimits, SandboxUnavailable, run_program, run_programs

__all__ = ["ProgramResult", "SandboxLimits", "SandboxUnavailable", "run_program", "run_programs"]
