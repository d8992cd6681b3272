"""Domain discovery: which domains had many pages collected, which of their URL paths are math, what to add.

After each iteration, per domain: pages in the pool and pages collected. Domains with more than `domain_fraction`
(10%) of their pages collected (and at least `domain_min_pages` pages) are candidates, as in DeepSeekMath. For each
candidate, its pages' languages (and the majority one), URL path prefixes (one and two segments: `/questions`, `/math/algebra`; at least 2 pages and 1% of the
domain) with their collected fractions and example URLs/titles go to `iteration_N/domains.yaml`, a file a person
edits: every path has `accept: true | false | null`. The path `/` stands for the whole domain. Uncollected pages
under accepted paths join the seeds of the next iteration. The file's `by_language` splits the candidates by
their majority language, so a Chinese math site is reviewed beside its peers rather than lost in an English list.

Auto review (`--review auto`) accepts a path when at least `auto_accept_fraction` of its pages were collected and
it has at least `auto_min_pages` pages. It never accepts `/`: a whole domain is a person's call (the paper
annotated paths by hand).

Domains are URL hosts without `www.` by default (`domain_key: host`), not registered domains: subdomains are often
separate sites (`math.stackexchange.com` vs `cooking.stackexchange.com`, `*.wordpress.com`), and merging them would
let a math site's `/questions` vote for a cooking site's. `domain_key: registered` uses `metadata.domain` as written
by `deepmath ingest` (or `deepmath.ingest.urls.registered_domain`). Paths are `metadata.url_path`, else the URL's.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from deepmath.io.atomic import atomic_write_text

__all__ = [
    "WHOLE_DOMAIN",
    "DomainsFileError",
    "PageRecord",
    "Review",
    "auto_review",
    "auto_rule",
    "by_language",
    "candidate_domains",
    "domain_report",
    "path_matches",
    "path_prefixes",
    "read_domains_yaml",
    "url_parts",
    "write_domains_yaml",
]

WHOLE_DOMAIN = "/"
_EXAMPLES = 3
_MIN_PATH_SHARE = 0.01


class DomainsFileError(ValueError):
    """A domains.yaml a person edited into something we cannot read."""


@dataclass
class PageRecord:
    """What domain discovery needs of one pool page."""

    domain: str
    path: str
    url: str
    title: str
    collected: bool
    language: str = ""


def _hostname(url: str) -> str:
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def _registered_domain(url: str) -> str:
    try:
        from deepmath.ingest.urls import registered_domain
    except ImportError:  # ingest's helpers are optional here; the host is a sound fallback
        return _hostname(url)
    try:
        return registered_domain(url) or _hostname(url)
    except ValueError:
        return _hostname(url)


def url_parts(metadata: dict, domain_key: str = "host") -> tuple[str, str, str]:
    """(url, domain, path) of a page.

    `domain_key="host"`: the URL's host without `www.` (`math.stackexchange.com`), else `metadata.domain`.
    `domain_key="registered"`: `metadata.domain` (ingest's registered domain), else derived from the URL.
    The path is `metadata.url_path` when present, else the URL's path.
    """
    url = str(metadata.get("url") or "")
    full = url if "://" in url or not url else f"http://{url}"  # dolma/cc_net urls sometimes lack the scheme
    domain = ""
    if domain_key == "host":
        domain = _hostname(full) if full else ""
        domain = domain or str(metadata.get("domain") or "")
    else:
        domain = str(metadata.get("domain") or "") or (_registered_domain(full) if full else "")
    path = metadata.get("url_path")
    if path is None:
        path = urlsplit(full).path if full else ""
    path = str(path or "/")
    if not path.startswith("/"):
        path = "/" + path
    return url, domain.lower(), path


def path_prefixes(path: str, depth: int) -> list[str]:
    """`/a/b/c` -> [`/a`, `/a/b`] for depth 2 (query strings and fragments are not part of a path)."""
    path = path.split("?", 1)[0].split("#", 1)[0]
    segments = [s for s in path.split("/") if s]
    return ["/" + "/".join(segments[: i + 1]) for i in range(min(depth, len(segments)))]


def path_matches(path: str, prefix: str) -> bool:
    """True when `path` lies under `prefix` (`/` matches every path of the domain)."""
    if prefix in ("", WHOLE_DOMAIN):
        return True
    prefix = prefix.rstrip("/")
    return path == prefix or path.startswith(prefix + "/")


def candidate_domains(records: Iterable[PageRecord], domain_fraction: float, min_pages: int) -> dict[str, tuple]:
    """{domain: (pages, collected)} for domains with more than `domain_fraction` of their pages collected."""
    pages: Counter = Counter()
    collected: Counter = Counter()
    for record in records:
        if not record.domain:
            continue
        pages[record.domain] += 1
        if record.collected:
            collected[record.domain] += 1
    return {
        domain: (count, collected[domain])
        for domain, count in pages.items()
        if count >= min_pages and collected[domain] > domain_fraction * count
    }


@dataclass
class _PathStats:
    pages: int = 0
    collected: int = 0
    examples_collected: list[str] = field(default_factory=list)
    examples_uncollected: list[str] = field(default_factory=list)

    def add(self, record: PageRecord) -> None:
        self.pages += 1
        self.collected += record.collected
        examples = self.examples_collected if record.collected else self.examples_uncollected
        if len(examples) < _EXAMPLES:
            label = record.url or "(no url)"
            examples.append(f"{label} | {record.title}" if record.title else label)

    def as_dict(self, path: str) -> dict:
        return {
            "path": path,
            "pages": self.pages,
            "collected": self.collected,
            "collected_fraction": round(self.collected / self.pages, 3) if self.pages else 0.0,
            "uncollected": self.pages - self.collected,
            "accept": None,
            "examples": {"collected": self.examples_collected, "uncollected": self.examples_uncollected},
        }


def domain_report(
    records: Iterable[PageRecord], candidates: dict[str, tuple], depth: int = 2, max_paths: int = 20
) -> list[dict]:
    """Per candidate domain: `/` (the whole domain) and its busiest path prefixes with collected fractions."""
    stats: dict[str, dict[str, _PathStats]] = {domain: {} for domain in candidates}
    languages: dict[str, Counter] = {domain: Counter() for domain in candidates}
    for record in records:
        paths = stats.get(record.domain)
        if paths is None:
            continue
        languages[record.domain][record.language or "und"] += 1
        for prefix in [WHOLE_DOMAIN, *path_prefixes(record.path, depth)]:
            paths.setdefault(prefix, _PathStats()).add(record)
    report = []
    for domain, (pages, collected) in sorted(candidates.items(), key=lambda item: (-item[1][0], item[0])):
        paths = stats[domain]
        listed = []
        floor = max(2, math.ceil(_MIN_PATH_SHARE * pages))  # a path of a single page or a sliver is noise
        for prefix, path_stats in paths.items():
            if prefix == WHOLE_DOMAIN or path_stats.pages < floor:
                continue
            parent = prefix.rsplit("/", 1)[0]
            if parent and paths.get(parent) is not None and paths[parent].pages == path_stats.pages:
                continue  # the same pages as its parent: nothing new to decide
            listed.append((prefix, path_stats))
        listed.sort(key=lambda item: (-item[1].pages, item[0]))
        whole = paths.get(WHOLE_DOMAIN, _PathStats())
        report.append(
            {
                "domain": domain,
                "pages": pages,
                "collected": collected,
                "collected_fraction": round(collected / pages, 3) if pages else 0.0,
                "language": languages[domain].most_common(1)[0][0] if languages[domain] else "und",
                "languages": dict(languages[domain].most_common()),
                "paths": [whole.as_dict(WHOLE_DOMAIN)] + [s.as_dict(p) for p, s in listed[:max_paths]],
            }
        )
    return report


def by_language(report: list[dict]) -> dict[str, dict]:
    """The report split by each domain's majority language: candidate domains, listed and accepted paths."""
    split: dict[str, dict] = {}
    for domain in report:
        row = split.setdefault(domain.get("language", "und"), {"domains": 0, "paths": 0, "accepted": 0, "names": []})
        row["domains"] += 1
        row["paths"] += len(domain["paths"])
        row["accepted"] += sum(bool(p["accept"]) for p in domain["paths"])
        row["names"].append(domain["domain"])
    return dict(sorted(split.items(), key=lambda item: -item[1]["domains"]))


def auto_review(report: list[dict], accept_fraction: float, min_pages: int) -> list[dict]:
    """Set `accept` on every path by the documented rule (in place; returns the report)."""
    for domain in report:
        for path in domain["paths"]:
            path["accept"] = bool(
                path["path"] != WHOLE_DOMAIN
                and path["pages"] >= min_pages
                and path["collected"] >= accept_fraction * path["pages"]
            )
    return report


_HEADER = """\
# Domain discovery after iteration {iteration} of `deepmath mine` (DeepSeekMath section 2.1).
# Domains with more than {fraction:.0%} of their pool pages collected, with URL path prefixes and the share of
# their pages that were collected. Set `accept: true` on paths whose pages are mathematical (`/` = the whole
# domain) and `false` on the others; uncollected pages under accepted paths join the seeds of the next iteration.
# {instructions}
"""


def auto_rule(accept_fraction: float, min_pages: int) -> str:
    """The auto-review rule in words (written into domains.yaml)."""
    return (
        f"accept a path other than / with at least {accept_fraction:.0%} of its pages collected and {min_pages}+ pages"
    )


def write_domains_yaml(
    path: str | Path, report: list[dict], iteration: int, fraction: float, review: str, rule: str = ""
) -> None:
    """Write the report for a person to edit (atomically)."""
    if review == "manual":
        instructions = (
            "Then re-run the same command. Paths left `null` count as not accepted once `reviewed: true` is set."
        )
    else:
        instructions = "Filled in by the auto-review rule (see `rule`); edits only matter for a manual-review run."
    body = {"iteration": iteration, "review": review, "reviewed": review == "auto"}
    if rule:
        body["rule"] = rule
    body["by_language"] = by_language(report)  # each domain counts under its pages' majority language
    body["domains"] = report
    text = _HEADER.format(iteration=iteration, fraction=fraction, instructions=instructions)
    text += yaml.safe_dump(body, sort_keys=False, allow_unicode=True, width=1000)
    atomic_write_text(path, text)


@dataclass
class Review:
    """What a domains.yaml says: accepted path prefixes per domain, and how many paths await a decision."""

    accepted: dict[str, list[str]]
    undecided: int
    reviewed: bool

    @property
    def complete(self) -> bool:
        return self.reviewed or self.undecided == 0

    def covers(self, domain: str, path: str) -> bool:
        return any(path_matches(path, prefix) for prefix in self.accepted.get(domain, ()))


def read_domains_yaml(path: str | Path) -> Review:
    """Read a (possibly hand-edited) domains.yaml; anything malformed raises DomainsFileError naming the spot."""
    path = Path(path)
    if not path.exists():
        raise DomainsFileError(f"{path}: not found")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise DomainsFileError(f"{path}: not valid YAML: {err}") from err
    if not isinstance(data, dict) or not isinstance(data.get("domains", []), list):
        raise DomainsFileError(f"{path}: expected a mapping with a `domains` list")
    reviewed = data.get("reviewed", False)
    if not isinstance(reviewed, bool):
        raise DomainsFileError(f"{path}: `reviewed` must be true or false, not {reviewed!r}")
    accepted: dict[str, list[str]] = {}
    undecided = 0
    for i, domain in enumerate(data.get("domains") or []):
        where = f"{path}: domains[{i}]"
        if not isinstance(domain, dict) or not isinstance(domain.get("domain"), str):
            raise DomainsFileError(f"{where}: each entry needs a `domain` name")
        paths = domain.get("paths") or []
        if not isinstance(paths, list):
            raise DomainsFileError(f"{where}: `paths` must be a list")
        for j, entry in enumerate(paths):
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise DomainsFileError(f"{where}.paths[{j}]: each path needs a `path` string")
            accept = entry.get("accept")
            if accept is None:
                undecided += 1
            elif not isinstance(accept, bool):
                raise DomainsFileError(f"{where}.paths[{j}] ({entry['path']}): accept must be true, false or null")
            elif accept:
                accepted.setdefault(domain["domain"].lower(), []).append(entry["path"])
    return Review(accepted=accepted, undecided=undecided, reviewed=reviewed)
