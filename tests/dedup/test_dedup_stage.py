"""`deepmath dedup` end to end on planted real text: outputs, metadata, stats and card, resume, bad inputs, Ray."""

import gzip
import json
import shutil
from pathlib import Path

import numpy as np
import pytest

from deepmath.cli import main
from deepmath.config import ConfigError
from deepmath.dedup.api import find_duplicates
from deepmath.dedup.config import DedupConfig
from deepmath.dedup.planted import score
from deepmath.dedup.stage import run_dedup
from deepmath.io.inputs import InputError
from tests.dedup.planted import planted as planted_corpus
from tests.stage_folder import assert_stage_stats, stage_fragment


def read_rows(folder: Path) -> dict[str, dict]:
    rows = {}
    for path in sorted(folder.glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as handle:
            for line in handle:
                row = json.loads(line)
                assert row["id"] not in rows
                rows[row["id"]] = row
    return rows


def write_inputs(folder: Path, ids: list[str], texts: list[str], files: int = 3, score=None) -> list[list[str]]:
    """Round-robin into `files` JSONL files (the first gzipped); returns the ids of each file in order."""
    folder.mkdir(parents=True, exist_ok=True)
    order = []
    for k in range(files):
        name = folder / (f"part{k}.jsonl.gz" if k == 0 else f"part{k}.jsonl")
        opener = gzip.open if k == 0 else open
        with opener(name, "wt", encoding="utf-8") as handle:
            chunk = list(zip(ids, texts))[k::files]
            for doc_id, text in chunk:
                row = {"id": doc_id, "text": text}
                if score is not None and score(doc_id) is not None:
                    row["metadata"] = {"math_score": score(doc_id)}
                handle.write(json.dumps(row) + "\n")
        order.append([doc_id for doc_id, _ in chunk])
    return order


@pytest.fixture(scope="module")
def planted():
    return planted_corpus(max_bases=45, seed=1)


@pytest.fixture(scope="module")
def dedup_run(planted, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("dedup")
    order = write_inputs(tmp / "in", planted.ids, planted.texts)
    out = tmp / "out"
    code = main(["dedup", str(tmp / "in"), "--output", str(out), "--write-removed", "--workers", "2"])
    return code, tmp, out, order


def test_outputs_and_metadata(planted, dedup_run):
    code, _, out, _ = dedup_run
    assert code == 0
    kept, removed = read_rows(out / "data"), read_rows(out / "removed")
    assert set(kept) | set(removed) == set(planted.ids) and not set(kept) & set(removed)
    for row in removed.values():
        meta = row["metadata"]
        assert meta["duplicate_of"] in kept and meta["dedup_reason"] in ("exact", "near")
        assert meta["dedup_cluster_id"] == meta["duplicate_of"] and meta["dedup_cluster_size"] >= 2
    sizes = {}
    for row in list(kept.values()) + list(removed.values()):
        sizes.setdefault(row["metadata"]["dedup_cluster_id"], []).append(row["metadata"]["dedup_cluster_size"])
    for cluster, members in sizes.items():
        assert kept[cluster]["metadata"]["dedup_cluster_id"] == cluster
        assert members == [len(members)] * len(members)
    result = score({i: row["metadata"]["duplicate_of"] for i, row in removed.items()}, planted.truth)
    assert result["recall"] >= 0.98 and result["false_removals"] <= 0.005 and result["families_lost"] == 0, result


def test_same_result_as_the_in_memory_api(planted, dedup_run):
    """Reading order is file by file (one task per file); the API sees the texts in that order."""
    _, _, out, order = dedup_run
    text = dict(zip(planted.ids, planted.texts))
    ids = [doc_id for file_ids in order for doc_id in file_ids]
    expected = find_duplicates([text[i] for i in ids], ids)
    got = {doc_id: row["metadata"]["duplicate_of"] for doc_id, row in read_rows(out / "removed").items()}
    assert got == expected


@pytest.mark.parametrize("workers", [1, 3])
def test_splits_and_threads_remove_the_same_pages(dedup_run, tmp_path, workers, monkeypatch):
    """`--splits 2` divides the exact, buckets and verify steps (verify's pairs by hash: more are checked), and the
    buckets and verify steps run on `--workers // --splits` threads (verify by groups of connected components, forced
    here for the test's few pairs): the same clusters, so the same pages removed, as one split on two workers."""
    from deepmath.dedup import kernel

    monkeypatch.setattr(kernel, "_MIN_PAIRS_PER_THREAD", 8)
    _, tmp, out, _ = dedup_run
    want = {doc_id: row["metadata"]["duplicate_of"] for doc_id, row in read_rows(out / "removed").items()}
    for splits in (1, 2):
        split_out = tmp_path / f"splits{splits}"
        cfg = DedupConfig(
            input=[str(tmp / "in")], output=str(split_out), write_removed=True, workers=workers, splits=splits
        )
        stats = run_dedup(cfg)
        got = {doc_id: row["metadata"]["duplicate_of"] for doc_id, row in read_rows(split_out / "removed").items()}
        assert got == want, (workers, splits)
        assert stats["verified_pairs"] > 0


def test_stats_card_and_plots(planted, dedup_run):
    _, _, out, _ = dedup_run
    stats = assert_stage_stats(out, "dedup", "documents")
    removed = len(read_rows(out / "removed"))
    assert stats["rows_in"] == len(planted.ids)
    assert stats["rows_out"] == len(planted.ids) - removed
    assert sum(stats["dropped"].values()) == removed == stats["removed_exact"] + stats["removed_near"]
    assert stats["removed_exact"] > 0 and stats["removed_near"] > 0
    assert sum(int(size) * n for size, n in stats["cluster_sizes"].items()) == stats["documents_in_clusters"]
    assert stats["verified_pairs"] <= stats["candidate_pairs"]
    assert stats["lsh"]["bands"] * stats["lsh"]["rows"] <= 128
    for plot in stats["plots"]:
        assert (out / plot).stat().st_size > 1000
    card = (out / "README.md").read_text()
    for heading in ("## Cluster sizes", "## LSH", "## Dropped, by reason", "near_duplicate", "## Resources"):
        assert heading in card
    assert stats["workers"] == 2 and f"{stats['peak_rss_mb']:,} MB" in card and stats["peak_rss_mb"] > 0
    assert not (out / "_work" / "shingles").exists()  # only needed for verification
    assert not (out / "_work" / "rows").exists()  # only needed by the filter
    from deepmath.dedup import kernel

    assert stats["kernel"] == ("compiled" if kernel._kernel is not None else "numpy")
    assert f"{stats['kernel']} path" in card


def test_numpy_path_gives_the_same_result(planted, dedup_run, tmp_path, monkeypatch):
    """Without the compiled kernel (no C compiler at install) the stage removes the same pages for the same
    reasons, with the same signatures (workers=1: the tasks run in this process, where the patch applies)."""
    from deepmath.dedup import kernel, stage, steps

    monkeypatch.setattr(kernel, "_kernel", None)
    monkeypatch.setattr(kernel, "KERNEL", "numpy")
    monkeypatch.setattr(steps, "KERNEL", "numpy")
    _, tmp, out, _ = dedup_run
    stats = run_dedup(DedupConfig(input=[str(tmp / "in")], output=str(tmp_path / "np"), write_removed=True, workers=1))
    assert stats["kernel"] == "numpy" == stage._kernel_name()
    assert read_rows(tmp_path / "np" / "removed") == read_rows(out / "removed")
    for sig in sorted((out / "_work" / "signatures").glob("*.sig")):
        assert sig.read_bytes() == (tmp_path / "np" / "_work" / "signatures" / sig.name).read_bytes()


def test_report_fragment_reads_the_stage_folder(dedup_run, tmp_path):
    """dedup's section of the run report, from the folder the stage wrote (not a hand-made one)."""
    _, _, out, _ = dedup_run
    stats = json.loads((out / "stats.json").read_text())
    markdown, missing = stage_fragment("dedup", out, tmp_path)
    assert missing == [] and "## Deduplication" in markdown
    duplicate_clusters = sum(n for size, n in stats["cluster_sizes"].items() if int(size) > 1)
    assert f"{out.name}: {duplicate_clusters:,} duplicate clusters" in markdown
    assert f"| removed_near | {stats['removed_near']:,} |" in markdown
    assert markdown.count("![") == len(stats["plots"]) > 0


def test_parquet_output_reads_the_input_again(planted, dedup_run, tmp_path):
    """Parquet output goes through the reader -> filter -> writer path; same pages and fields as the JSONL rows."""
    import pyarrow.parquet as pq

    _, tmp, out, _ = dedup_run
    stats = run_dedup(
        DedupConfig(input=[str(tmp / "in")], output=str(tmp_path / "pq"), output_format="parquet", workers=1)
    )
    assert stats["dropped"] == json.loads((out / "stats.json").read_text())["dropped"]
    rows = [
        r for path in sorted((tmp_path / "pq" / "data").glob("*.parquet")) for r in pq.read_table(path).to_pylist()
    ]
    jsonl = read_rows(out / "data")
    assert {r["id"]: r["text"] for r in rows} == {k: v["text"] for k, v in jsonl.items()}
    for row in rows:
        meta = jsonl[row["id"]]["metadata"]
        got = row["metadata"] if isinstance(row["metadata"], dict) else json.loads(row["metadata"])
        assert (got["dedup_cluster_id"], got["dedup_cluster_size"]) == (
            meta["dedup_cluster_id"],
            meta["dedup_cluster_size"],
        )


def test_workers_default_to_the_cores_on_the_local_executor(tmp_path):
    from deepmath.dedup.config import available_cores

    assert DedupConfig(input=["x"]).workers == available_cores() >= 1
    assert DedupConfig(input=["x"], workers=3).workers == 3
    assert DedupConfig(input=["x"], executor="slurm").workers == 1  # a cluster's concurrency is not our cores
    with pytest.raises(ValueError, match="workers"):
        DedupConfig(input=["x"], workers=-1)


def test_rerun_skips_and_a_killed_run_resumes(planted, dedup_run, tmp_path):
    _, tmp, out, _ = dedup_run
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    before = read_rows(copy / "data")
    stamps = {p: p.stat().st_mtime_ns for p in copy.rglob("*") if p.is_file()}
    assert main(["dedup", str(tmp / "in"), "--output", str(copy), "--write-removed"]) == 0
    assert stamps == {p: p.stat().st_mtime_ns for p in copy.rglob("*") if p.is_file()}  # finished: nothing ran
    # a kill during the filter: no marker, one output shard and its completion marker gone
    (copy / "_SUCCESS").unlink()
    (copy / "data" / "00001.jsonl.gz").unlink()
    (copy / "_logs" / "filter" / "completions" / "00001").unlink()
    assert main(["dedup", str(tmp / "in"), "--output", str(copy), "--write-removed"]) == 0
    assert read_rows(copy / "data") == before
    (copy / "_SUCCESS").unlink()
    assert main(["dedup", str(tmp / "in"), "--output", str(copy), "--write-removed", "--tasks", "2"]) == 2


def test_bad_rows_are_counted(planted, tmp_path):
    folder = tmp_path / "in"
    write_inputs(folder, planted.ids[:40], planted.texts[:40], files=2)
    (folder / "broken.jsonl").write_bytes(
        b'{"id": "ok", "text": "fine"}\n{not json\n{"id": "s", "text": "lone \\ud800 surrogate"}\n[1]\n'
        b'{"id": "after", "text": "the rows after the bad ones are kept"}\n'
    )
    (folder / "notext.jsonl").write_text('{"id": "a", "body": "no text field"}\n{"id": "b", "text": "has text"}\n')
    out = tmp_path / "out"
    stats = run_dedup(DedupConfig(input=[str(folder)], output=str(out)))
    assert stats["dropped"]["invalid_json"] == 2  # `{not json` and the lone surrogate; reading goes on
    assert stats["dropped"]["not_object"] == 1
    assert "file_unreadable" not in stats["dropped"]
    assert stats["dropped"]["no_text"] == 1
    assert stats["rows_in"] == 43
    assert {"ok", "b", "after"} <= set(read_rows(out / "data")) <= {*planted.ids[:40], "ok", "b", "after"}


def test_keep_score(planted, tmp_path):
    ids, texts = planted.ids[:120], planted.texts[:120]
    score = {doc_id: (None if k % 7 == 0 else (k * 37 % 101) / 100) for k, doc_id in enumerate(ids)}
    write_inputs(tmp_path / "in", ids, texts, files=1, score=score.get)
    out = tmp_path / "out"
    stats = run_dedup(DedupConfig(input=[str(tmp_path / "in")], output=str(out), keep="score", write_removed=True))
    assert stats["documents_without_score"] == sum(v is None for v in score.values())
    removed = read_rows(out / "removed")
    assert removed, "the sample has no duplicates"
    for doc_id, row in removed.items():
        kept_score = score[row["metadata"]["duplicate_of"]]
        assert score[doc_id] is None or (kept_score is not None and kept_score >= score[doc_id])
    assert find_duplicates(texts, ids, keep="score", scores=[score[i] for i in ids]) == {
        i: r["metadata"]["duplicate_of"] for i, r in removed.items()
    }


@pytest.mark.parametrize("verify", ["estimate", "none"])
def test_other_verification_modes(planted, tmp_path, verify):
    write_inputs(tmp_path / "in", planted.ids[:150], planted.texts[:150], files=1)
    out = tmp_path / "out"
    stats = run_dedup(DedupConfig(input=[str(tmp_path / "in")], output=str(out), verify=verify, exact=False))
    assert np.load(out / "_work" / "exact" / "00000.npy").shape == (0, 2)  # no exact pass
    assert stats["removed_near"] > 0 and stats["removed_exact"] > 0  # identical texts are still found (Jaccard 1)
    if verify == "none":
        assert stats["verified_pairs"] == stats["candidate_pairs"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--threshold", "1.5"], "threshold"),
        (["--keep", "shortest"], "keep"),
        (["--verify", "maybe"], "verify"),
        (["--bands", "4"], "bands"),
        (["--bands", "20", "--rows", "8"], "exceeds"),
        (["--scheme", "affine64"], "scheme"),
    ],
)
def test_bad_options(tmp_path, capsys, args, message):
    (tmp_path / "in.jsonl").write_text('{"id": "a", "text": "x"}\n')
    assert main(["dedup", str(tmp_path / "in.jsonl"), "--output", str(tmp_path / "out"), *args]) == 2
    assert message in capsys.readouterr().err


def test_missing_input(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        run_dedup(DedupConfig(input=[str(tmp_path / "nope.jsonl")], output=str(tmp_path / "out")))
    with pytest.raises(ValueError, match="at least one input"):
        DedupConfig(output=str(tmp_path / "out"))
    assert issubclass(ConfigError, ValueError)


@pytest.mark.ray
@pytest.mark.slow
def test_ray_matches_local(planted, dedup_run, tmp_path):
    pytest.importorskip("ray", reason="ray is not installed (pip install deepmath[ray])")
    _, tmp, out, _ = dedup_run
    cfg = DedupConfig(
        input=[str(tmp / "in")], output=str(tmp_path / "ray"), executor="ray", workers=2, write_removed=True
    )
    run_dedup(cfg)
    local, remote = read_rows(out / "data"), read_rows(tmp_path / "ray" / "data")
    assert {k: v["text"] for k, v in remote.items()} == {k: v["text"] for k, v in local.items()}
    assert read_rows(tmp_path / "ray" / "removed").keys() == read_rows(out / "removed").keys()


def test_empty_input(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    stats = run_dedup(DedupConfig(input=[str(tmp_path / "empty.jsonl")], output=str(tmp_path / "out")))
    assert stats["rows_in"] == stats["rows_out"] == 0 and stats["clusters"] == 0
    assert (tmp_path / "out" / "_SUCCESS").exists()


def test_each_filter_task_removes_its_shards_rows_and_shingles(planted, dedup_run, tmp_path, monkeypatch):
    """The filter's tasks delete the scratch of their own shard as they finish (not the stage, all at once, at its
    end): with the stage's final sweep turned off, nothing is left in `_work/rows` or `_work/shingles`, and the
    output is the same."""
    import deepmath.dedup.stage as stage

    _, tmp, out, _ = dedup_run
    monkeypatch.setattr(stage.shutil, "rmtree", lambda *args, **kwargs: None)
    again = tmp_path / "out"
    assert main(["dedup", str(tmp / "in"), "--output", str(again), "--write-removed", "--workers", "2"]) == 0
    assert list((again / "_work" / "rows").iterdir()) == [] and list((again / "_work" / "shingles").iterdir()) == []
    assert read_rows(again / "data") == read_rows(out / "data")
