"""pass@1 / pass@k / maj@k evaluation: `deepmath eval --model DIR --data PATH --k K` (see deepmath.evaluate.run)."""
