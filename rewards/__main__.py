"""`python -m rewards check GOLD COMPLETION` prints the verdict; `python -m rewards extract TEXT` the answer.

Use `-` for COMPLETION/TEXT to read it from stdin. Exit status: 0 when correct (check) or found (extract), else 1.
"""

from __future__ import annotations

import argparse
import sys

from rewards.extract import extract_with_source
from rewards.grader import DEFAULT_TIMEOUT, grade, normalize_answer


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m rewards", description="Math answer checking.")
    commands = parser.add_subparsers(dest="command", required=True)
    check = commands.add_parser("check", help="grade COMPLETION against GOLD")
    check.add_argument("gold")
    check.add_argument("completion", help="the model output, or - for stdin")
    check.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, help="wall-clock budget in seconds")
    extract = commands.add_parser("extract", help="print the final answer found in TEXT")
    extract.add_argument("text", help="the text, or - for stdin")
    args = parser.parse_args(argv)

    if args.command == "check":
        completion = sys.stdin.read() if args.completion == "-" else args.completion
        verdict = grade(args.gold, completion, timeout=args.timeout)
        print(f"correct: {verdict.correct}")
        print(f"predicted: {verdict.predicted!r} (via {verdict.source})")
        print(f"reason: {verdict.reason}")
        return 0 if verdict.correct else 1
    text = sys.stdin.read() if args.text == "-" else args.text
    answer, source = extract_with_source(text)
    print(f"answer: {answer!r} (via {source})")
    if answer is not None:
        print(f"normalized: {normalize_answer(answer)!r}")
    return 0 if answer is not None else 1


if __name__ == "__main__":
    sys.exit(main())
