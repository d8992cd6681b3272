import gzip
import json

import pytest

from deepmath.io.documents import iter_documents, iter_raw_rows
from deepmath.io.inputs import InputError, StageIncomplete, resolve_inputs


def _write_jsonl(path, rows, compress=False):
    data = "".join(json.dumps(r) + "\n" for r in rows).encode()
    path.write_bytes(gzip.compress(data) if compress else data)


def test_files_globs_folders_and_hf_ids(tmp_path):
    _write_jsonl(tmp_path / "a.jsonl", [{"id": "1", "text": "x"}])
    _write_jsonl(tmp_path / "b.jsonl.gz", [{"id": "2", "text": "y"}], compress=True)
    (tmp_path / "notes.txt").write_text("ignored")
    assert resolve_inputs(str(tmp_path / "a.jsonl"))[0].files == [str(tmp_path / "a.jsonl")]
    assert len(resolve_inputs(str(tmp_path / "*.jsonl*"))[0].files) == 2
    assert len(resolve_inputs(str(tmp_path))[0].files) == 2
    hf = resolve_inputs("hf:open-web-math/open-web-math:train")[0]
    assert hf.is_hf and hf.hf_id == "open-web-math/open-web-math" and hf.hf_split == "train"
    assert resolve_inputs("owner/dataset")[0].is_hf


def test_missing_inputs_are_clear(tmp_path):
    with pytest.raises(InputError, match="not found"):
        resolve_inputs(str(tmp_path / "nope.jsonl"))
    with pytest.raises(InputError, match="matched no files"):
        resolve_inputs(str(tmp_path / "*.parquet"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no readable files"):
        resolve_inputs(str(tmp_path / "empty"))


def test_unfinished_stage_folder_is_refused(tmp_path):
    stage = tmp_path / "stage"
    (stage / "data").mkdir(parents=True)
    (stage / "config.yaml").write_text("a: 1\n")
    _write_jsonl(stage / "data" / "00000.jsonl", [{"id": "1", "text": "x"}])
    with pytest.raises(StageIncomplete):
        resolve_inputs(str(stage))
    (stage / "_SUCCESS").write_text("{}")
    assert resolve_inputs(str(stage))[0].files == [str(stage / "data" / "00000.jsonl")]


def test_documents_keep_ids_and_metadata(tmp_path):
    _write_jsonl(
        tmp_path / "a.jsonl",
        [{"id": "doc-1", "text": "hello", "url": "https://a.org/x", "metadata": {"score": 0.5}}, {"id": "no-text"}],
    )
    docs = list(iter_documents(str(tmp_path / "a.jsonl")))
    assert [d.id for d in docs] == ["doc-1"]
    assert docs[0].metadata == {"url": "https://a.org/x", "score": 0.5}


def test_parquet_rows(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq

    pq.write_table(pa.table({"id": ["a", "b"], "text": ["one", "two"]}), tmp_path / "x.parquet")
    assert [row["text"] for _, row in iter_raw_rows(str(tmp_path / "x.parquet"))] == ["one", "two"]


def test_malformed_jsonl_names_file_and_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"id": 1, "text": "a"}\n{oops\n{"id": 3, "text": "c"}\n')
    with pytest.raises(ValueError, match=r"bad.jsonl:2"):
        list(iter_raw_rows(str(path), strict=True))
    skipped = []
    assert [row["id"] for _, row in iter_raw_rows(str(path), skipped.append)] == [1, 3]
    assert skipped == ["invalid_json"]


def test_hf_dataset_spec_streams_through_datasets(tmp_path):
    """The hub code path (`datasets.load_dataset(..., streaming=True)`), pointed at a local dataset folder."""
    pytest.importorskip("datasets")
    folder = tmp_path / "hfds"
    folder.mkdir()
    _write_jsonl(
        folder / "train.jsonl", [{"id": f"r{i}", "text": f"row {i}", "url": "https://x.org"} for i in range(5)]
    )
    docs = list(iter_documents(f"hf:{folder}:train"))
    assert [d.id for d in docs] == [f"r{i}" for i in range(5)]
    assert docs[0].metadata["url"] == "https://x.org"


def test_hf_dataset_is_sharded_across_tasks(tmp_path):
    pytest.importorskip("datasets")
    from deepmath.io.documents import DocumentReader

    folder = tmp_path / "hfds"
    folder.mkdir()
    _write_jsonl(folder / "train.jsonl", [{"id": f"r{i}", "text": f"row {i}"} for i in range(7)])
    reader = DocumentReader(f"hf:{folder}")
    seen = [d.id for rank in range(3) for d in DocumentReader(f"hf:{folder}").run(None, rank, 3)]
    assert sorted(seen) == sorted(d.id for d in reader.run(None, 0, 1)) and len(seen) == 7


def test_stage_folder_without_data_is_a_clear_error(tmp_path):
    top = tmp_path / "train"
    top.mkdir()
    (top / "config.yaml").write_text("a: 1\n")
    (top / "pool_index").mkdir()
    _write_jsonl(top / "pool_index" / "0.jsonl.gz", [{"id": "x"}], compress=True)
    with pytest.raises(InputError, match=r"stage folder without a data/ folder"):
        resolve_inputs(str(top))
