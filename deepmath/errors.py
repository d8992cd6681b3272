"""The one base class of every mistake a user can make: the CLI prints it as one line and exits with code 2.

A `UserError` is a problem with what the user gave (a path, a value, a recipe), never a bug: it carries a message
that says what to change. Every layer raises its own subclass (`ConfigError`, `InputError`, `DataError`, ...), so a
stage that fails on bad input fails the same way whichever layer noticed. Anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

__all__ = ["UserError"]


class UserError(ValueError):
    """A mistake in what the user gave; the message says what to change."""
