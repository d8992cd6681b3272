import pytest
import yaml

from deepmath.mine.domains import (
    WHOLE_DOMAIN,
    DomainsFileError,
    PageRecord,
    auto_review,
    auto_rule,
    candidate_domains,
    domain_report,
    path_matches,
    path_prefixes,
    read_domains_yaml,
    url_parts,
    write_domains_yaml,
)


@pytest.mark.parametrize(
    ("metadata", "key", "expected"),
    [
        ({"url": "https://www.MathOverflow.net/questions/1"}, "host", ("mathoverflow.net", "/questions/1")),
        ({"url": "https://math.stackexchange.com/q/1?x=2#a"}, "host", ("math.stackexchange.com", "/q/1")),
        ({"url": "https://math.stackexchange.com/q/1"}, "registered", ("stackexchange.com", "/q/1")),
        ({"url": "16thfleet.wikidot.com/chatter:anewhome"}, "host", ("16thfleet.wikidot.com", "/chatter:anewhome")),
        (
            {"url": "https://a.example.org/x", "domain": "example.org", "url_path": "/y"},
            "registered",
            ("example.org", "/y"),
        ),
        ({"url": "https://a.example.org/x", "domain": "example.org"}, "host", ("a.example.org", "/x")),
        ({"domain": "only-domain.test"}, "host", ("only-domain.test", "/")),
        ({}, "host", ("", "/")),
        ({"url": "https://host.test"}, "host", ("host.test", "/")),
    ],
)
def test_url_parts(metadata, key, expected):
    _, domain, path = url_parts(metadata, key)
    assert (domain, path) == expected


def test_path_prefixes_and_matching():
    assert path_prefixes("/math/algebra/post-1", 2) == ["/math", "/math/algebra"]
    assert path_prefixes("/math/algebra/post-1?page=2", 1) == ["/math"]
    assert path_prefixes("/", 2) == []
    assert path_matches("/math/post", "/math") and path_matches("/math", "/math/")
    assert not path_matches("/mathematics/post", "/math"), "a prefix matches whole segments only"
    assert path_matches("/anything", WHOLE_DOMAIN)


def _records():
    rows = []
    # a mixed blog: math under /math (mostly collected), travel under /travel (never collected)
    rows += [
        PageRecord("blog.test", f"/math/p{i}", f"https://blog.test/math/p{i}", f"math {i}", i < 9) for i in range(10)
    ]
    rows += [PageRecord("blog.test", f"/travel/p{i}", f"https://blog.test/travel/p{i}", "", False) for i in range(20)]
    # a math site: everything under /questions
    rows += [PageRecord("qa.test", f"/questions/{i}", "", "", i % 4 != 0) for i in range(40)]
    # a news site with one collected page in 50: below the 10% domain rule
    rows += [PageRecord("news.test", f"/story/{i}", "", "", i == 0) for i in range(50)]
    # a tiny domain, fully collected but under domain_min_pages
    rows += [PageRecord("tiny.test", "/a", "", "", True) for _ in range(3)]
    return rows


def test_candidate_domains_follow_the_10_percent_rule():
    candidates = candidate_domains(_records(), domain_fraction=0.10, min_pages=10)
    assert candidates == {"blog.test": (30, 9), "qa.test": (40, 30)}
    assert "blog.test" not in candidate_domains(_records(), domain_fraction=0.30, min_pages=10)


def test_domain_report_and_auto_review():
    records = _records()
    report = domain_report(records, candidate_domains(records, 0.10, 10), depth=2)
    by_domain = {d["domain"]: d for d in report}
    blog = {p["path"]: p for p in by_domain["blog.test"]["paths"]}
    assert set(blog) == {WHOLE_DOMAIN, "/math", "/travel"}, "single-page /math/p1-style prefixes are not listed"
    assert (blog["/math"]["pages"], blog["/math"]["collected"], blog["/math"]["uncollected"]) == (10, 9, 1)
    assert blog["/math"]["collected_fraction"] == 0.9 and blog["/travel"]["collected_fraction"] == 0.0
    assert blog["/math"]["examples"]["collected"][0] == "https://blog.test/math/p0 | math 0"
    assert len(blog["/travel"]["examples"]["uncollected"]) == 3
    assert all(p["accept"] is None for d in report for p in d["paths"])
    auto_review(report, accept_fraction=0.5, min_pages=5)
    assert blog["/math"]["accept"] is True and blog["/travel"]["accept"] is False
    assert blog[WHOLE_DOMAIN]["accept"] is False, "auto review never accepts a whole domain"
    qa = {p["path"]: p for p in by_domain["qa.test"]["paths"]}
    assert qa["/questions"]["accept"] is True
    auto_review(report, accept_fraction=0.95, min_pages=5)
    assert blog["/math"]["accept"] is False


def test_manual_review_round_trip(tmp_path):
    records = _records()
    report = domain_report(records, candidate_domains(records, 0.10, 10))
    path = tmp_path / "domains.yaml"
    write_domains_yaml(path, report, iteration=1, fraction=0.10, review="manual")
    text = path.read_text()
    assert text.startswith("# Domain discovery") and "re-run" in text
    review = read_domains_yaml(path)
    assert not review.complete and review.undecided == sum(len(d["paths"]) for d in report)
    assert review.accepted == {}

    # a person accepts /math of the blog and rejects the rest of that domain
    data = yaml.safe_load(text)
    for domain in data["domains"]:
        if domain["domain"] == "blog.test":
            for entry in domain["paths"]:
                entry["accept"] = entry["path"] == "/math"
    path.write_text(yaml.safe_dump(data))
    review = read_domains_yaml(path)
    assert review.accepted == {"blog.test": ["/math"]}
    assert not review.complete, "qa.test is still undecided"
    assert review.covers("blog.test", "/math/p9") and not review.covers("blog.test", "/travel/p1")
    assert not review.covers("qa.test", "/questions/1")

    data["reviewed"] = True  # undecided paths now count as not accepted
    path.write_text(yaml.safe_dump(data))
    assert read_domains_yaml(path).complete


def test_auto_written_file_is_complete(tmp_path):
    records = _records()
    report = auto_review(domain_report(records, candidate_domains(records, 0.10, 10)), 0.5, 5)
    write_domains_yaml(tmp_path / "d.yaml", report, iteration=2, fraction=0.10, review="auto", rule=auto_rule(0.5, 5))
    assert (
        "at least 50% of its pages collected and 5+ pages" in yaml.safe_load((tmp_path / "d.yaml").read_text())["rule"]
    )
    review = read_domains_yaml(tmp_path / "d.yaml")
    assert review.complete and review.accepted == {"blog.test": ["/math"], "qa.test": ["/questions"]}


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("domains: [", "not valid YAML"),
        ("- a\n- b\n", "expected a mapping"),
        ("domains:\n- paths: []\n", "needs a `domain`"),
        ("domains:\n- domain: a.test\n  paths:\n  - accept: true\n", "needs a `path`"),
        (
            "domains:\n- domain: a.test\n  paths:\n  - path: /x\n    accept: maybe\n",
            "accept must be true, false or null",
        ),
        ("reviewed: sure\ndomains: []\n", "`reviewed` must be true or false"),
    ],
)
def test_malformed_domains_file_names_the_problem(tmp_path, content, message):
    path = tmp_path / "domains.yaml"
    path.write_text(content)
    with pytest.raises(DomainsFileError, match=message):
        read_domains_yaml(path)


def test_missing_domains_file(tmp_path):
    with pytest.raises(DomainsFileError, match="not found"):
        read_domains_yaml(tmp_path / "nope.yaml")


def test_report_is_split_by_majority_language(tmp_path):
    from deepmath.mine.domains import by_language

    rows = [PageRecord("shuxue.test", f"/ti/{i}", "", "", i < 8, "zh" if i else "en") for i in range(10)]
    rows += [PageRecord("qa.test", f"/questions/{i}", "", "", i < 6, "en") for i in range(10)]
    rows += [PageRecord("blog.test", f"/p/{i}", "", "", False, "en") for i in range(10)]
    candidates = candidate_domains(rows, 0.1, 5)
    report = auto_review(domain_report(rows, candidates), 0.5, 5)
    domains = {d["domain"]: d for d in report}
    assert domains["shuxue.test"]["language"] == "zh" and domains["shuxue.test"]["languages"] == {"zh": 9, "en": 1}
    split = by_language(report)
    assert split["zh"]["names"] == ["shuxue.test"] and split["en"]["names"] == ["qa.test"]
    assert split["zh"]["accepted"] == 1 and split["en"]["accepted"] == 1
    write_domains_yaml(tmp_path / "domains.yaml", report, 1, 0.1, "auto")
    assert set(yaml.safe_load((tmp_path / "domains.yaml").read_text())["by_language"]) == {"zh", "en"}
