"""What every command pays before it works: datatrove loads without the Hugging Face Hub client, and numpy's
OpenBLAS threads do not spin on a core. Each check runs in a fresh interpreter (imports are once per process)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from deepmath import cli


def _fresh(code: str, **env: str | None) -> dict:
    """Run `code` in a new interpreter with `env` changed (None: unset); its last line of output, as JSON."""
    merged = {key: value for key, value in {**os.environ, **env}.items() if value is not None}
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=merged, check=True
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


_PROBE = """
import json, sys
import deepmath
import datatrove.io as io
loaded = "huggingface_hub.hf_api" in sys.modules
import huggingface_hub
from huggingface_hub import HfFileSystem
fs = HfFileSystem()
print(json.dumps({
    "hub_client_loaded_by_datatrove": loaded,
    "datatrove_name_is_stand_in": io.HfFileSystem is not HfFileSystem,
    "hub_name_is_real": huggingface_hub.HfFileSystem is HfFileSystem and HfFileSystem.__module__.startswith("huggingface_hub"),
    "isinstance_real": isinstance(fs, io.HfFileSystem),
    "isinstance_other": isinstance(object(), io.HfFileSystem),
    "subclass": issubclass(HfFileSystem, io.HfFileSystem),
    "attribute": io.HfFileSystem.protocol == HfFileSystem.protocol,
    "call_gives_real": type(io.HfFileSystem()) is HfFileSystem,
}))
"""


def test_datatrove_io_loads_without_the_hub_client_and_its_name_behaves_as_the_real_class():
    seen = _fresh(_PROBE)
    assert seen["hub_client_loaded_by_datatrove"] is False
    assert seen["datatrove_name_is_stand_in"] and seen["hub_name_is_real"]
    assert seen["isinstance_real"] and not seen["isinstance_other"]
    assert seen["subclass"] and seen["attribute"] and seen["call_gives_real"]


def test_without_shims_datatrove_io_loads_as_it_ships():
    seen = _fresh(_PROBE, DEEPMATH_NO_SHIMS="1")
    assert seen["hub_client_loaded_by_datatrove"] is True
    assert not seen["datatrove_name_is_stand_in"]
    assert seen["isinstance_real"] and seen["call_gives_real"]


def test_the_command_quiets_idle_blas_threads_but_keeps_a_users_setting(monkeypatch):
    monkeypatch.delenv("OPENBLAS_THREAD_TIMEOUT", raising=False)
    cli._quiet_idle_blas_threads()
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "4"
    monkeypatch.setenv("OPENBLAS_THREAD_TIMEOUT", "20")
    cli._quiet_idle_blas_threads()
    assert os.environ["OPENBLAS_THREAD_TIMEOUT"] == "20"


def test_a_command_sets_it_before_numpy_loads():
    seen = _fresh(
        "import json, os, sys\n"
        "from deepmath import cli\n"
        "early = 'numpy' in sys.modules\n"
        "cli.main(['validate', 'pipelines/demo.yaml'])\n"
        "print(json.dumps({'timeout': os.environ.get('OPENBLAS_THREAD_TIMEOUT'), 'numpy_early': early}))",
        OPENBLAS_THREAD_TIMEOUT=None,
    )
    assert seen["timeout"] == "4"
    assert seen["numpy_early"] is False, "the setting only counts if numpy loads after it"
