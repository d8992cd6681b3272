"""`deepmath` under `accelerate launch`, recording which rank writes which stage file and runs which evaluation.

    accelerate launch --multi_gpu --num_processes 2 tests/train/rank_driver.py LOG.jsonl train grpo RECIPE --output OUT

Used by test_accelerate_slow.py; every write still happens (the real functions are called), it is only recorded.
"""

import json
import os
import sys
from pathlib import Path

_depth = [0]  # only the outermost recorded call counts (atomic_write_json itself calls atomic_write_text)


def _recording(log: str, module, name: str):
    real = getattr(module, name)

    def wrapper(*args, **kwargs):
        path = next((a for a in args if isinstance(a, str | Path)), None)
        if _depth[0] == 0:
            with open(log, "a") as handle:
                record = {"rank": int(os.environ.get("RANK", "0")), "call": name, "path": str(path)}
                handle.write(json.dumps(record) + "\n")
        _depth[0] += 1
        try:
            return real(*args, **kwargs)
        finally:
            _depth[0] -= 1

    setattr(module, name, wrapper)


def main() -> int:
    log, argv = sys.argv[1], sys.argv[2:]
    import deepmath.evaluate.run as evaluate_run
    import deepmath.io.atomic as atomic
    import deepmath.stage as stage

    for module, name in (
        (stage, "atomic_write_json"),
        (stage, "save_config"),
        (stage, "write_card"),
        (atomic, "atomic_write_json"),
        (atomic, "atomic_write_text"),
        (evaluate_run, "evaluate_model"),
    ):
        _recording(log, module, name)
    with open(log, "a") as handle:  # proves each rank ran (and under which launch)
        record = {"rank": int(os.environ.get("RANK", "0")), "call": "start", "world": os.environ.get("WORLD_SIZE")}
        handle.write(json.dumps({**record, "path": ""}) + "\n")
    from deepmath.cli import main as cli

    return cli(argv)


if __name__ == "__main__":
    sys.exit(main())
