"""URL helpers for ingest metadata and per-domain statistics: normalisation, registered domain, path.

`normalize_url` is deliberately conservative: it only applies rewrites that cannot change which resource a server
returns in practice (RFC 3986 syntax normalisation plus dropping fragments and click-tracking parameters). It does
NOT strip `index.html`, `www.`, trailing slashes or session ids, does not switch http<->https and does not IDNA-encode
hosts, because each of those merges distinct pages on some sites. Dedup stages can be more aggressive on top.

`registered_domain` uses tldextract with the public-suffix snapshot bundled in the wheel and never touches the
network (`suffix_list_urls=()`); only ICANN suffixes count, so `user.github.io` -> `github.io`.
"""

from __future__ import annotations

import functools
import re
from urllib.parse import unquote, urlsplit, urlunsplit

__all__ = ["TRACKING_PARAMS", "normalize_url", "registered_domain", "url_path"]

# click/campaign trackers that never select content; `utm_*` is matched by prefix
TRACKING_PARAMS = frozenset(
    {"fbclid", "gclid", "dclid", "gbraid", "wbraid", "msclkid", "yclid", "igshid", "mc_cid", "mc_eid", "_hsenc"}
    | {"_hsmi", "mkt_tok", "_ga", "_gl", "twclid", "ttclid", "li_fat_id"}
)
_DEFAULT_PORTS = {"http": 80, "https": 443, "ftp": 21, "ws": 80, "wss": 443}
_PERCENT = re.compile(r"%[0-9a-fA-F]{2}")
_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")


def normalize_url(url: str) -> str:
    """Canonical form of an absolute URL (see the module docstring for what is and is not rewritten).

    Lowercases scheme and host, drops the default port, the fragment and tracking parameters (`utm_*`, `fbclid`,
    `gclid`, ...), sorts the query, resolves `.`/`..` path segments, uppercases percent-escapes and decodes escaped
    unreserved characters; an empty path becomes `/`.

    Raises:
        ValueError: the URL cannot be parsed (bad port, bad IPv6 literal) or has no scheme and host.
    """
    parts = urlsplit(url.strip())
    if not parts.scheme or not parts.netloc:
        raise ValueError(f"not an absolute URL: {url!r}")
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").rstrip(".")
    port = parts.port  # raises ValueError for a non-numeric or out-of-range port
    netloc = f"[{host}]" if ":" in host else host
    if port is not None and port != _DEFAULT_PORTS.get(scheme):
        netloc = f"{netloc}:{port}"
    if parts.username is not None:
        userinfo = parts.netloc.rpartition("@")[0]
        netloc = f"{userinfo}@{netloc}"
    path = _normalize_escapes(_remove_dot_segments(parts.path) or "/")
    query = _normalize_query(parts.query)
    return urlunsplit((scheme, netloc, path, query, ""))


def registered_domain(url: str) -> str:
    """Registrable domain (`math.stackexchange.com` -> `stackexchange.com`); the bare host for IPs and `localhost`.

    Accepts a URL or a bare host name; returns '' when there is no host.
    """
    text = url.strip()
    host = urlsplit(text if "//" in text else "//" + text).hostname or ""
    if not host:
        return ""
    result = _extractor()(host)
    return result.top_domain_under_public_suffix or host.rstrip(".")


def url_path(url: str) -> str:
    """The path of a URL, `/` when empty (no query, no fragment); used for domain+path-prefix statistics."""
    return urlsplit(url.strip()).path or "/"


@functools.lru_cache(maxsize=1)
def _extractor():
    import tldextract  # a corpus extra; imported on first use so `deepmath --help` stays fast

    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def _remove_dot_segments(path: str) -> str:
    """RFC 3986 section 5.2.4 (`/a/./b/../c` -> `/a/c`, `/a/..` -> `/`); other segments, `//` included, stay."""
    segments = path.split("/")
    if "." not in segments and ".." not in segments:
        return path
    out: list[str] = []
    last = len(segments) - 1
    for i, segment in enumerate(segments):
        if segment in {".", ".."}:
            if segment == ".." and len(out) > 1:
                out.pop()
            if i == last:
                out.append("")  # `/a/b/..` names the directory `/a/`
            continue
        out.append(segment)
    return "/".join(out)


def _normalize_escapes(component: str) -> str:
    """Uppercase `%xx` escapes and decode those of unreserved characters (`%7E` -> `~`), per RFC 3986 6.2.2."""
    if "%" not in component:
        return component

    def fix(match: re.Match) -> str:
        char = unquote(match.group(0))
        return char if char in _UNRESERVED else match.group(0).upper()

    return _PERCENT.sub(fix, component)


def _normalize_query(query: str) -> str:
    """Drop empty pairs and tracking parameters, sort the rest; pairs keep their original encoding."""
    if not query:
        return ""
    kept = []
    for pair in query.split("&"):
        if not pair:
            continue
        key = unquote(pair.split("=", 1)[0]).lower()
        if key.startswith("utm_") or key in TRACKING_PARAMS:
            continue
        kept.append(_normalize_escapes(pair))
    return "&".join(sorted(kept))
