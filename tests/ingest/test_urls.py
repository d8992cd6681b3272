"""URL helpers: conservative normalisation, offline registered domains, paths; bad URLs give a clear ValueError."""

import socket

import pytest

from deepmath.ingest.urls import normalize_url, registered_domain, url_path


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("HTTP://Example.COM:80/a/./b/../c?b=2&a=1#frag", "http://example.com/a/c?a=1&b=2"),
        ("https://example.com:443", "https://example.com/"),
        ("https://example.com:8443/x", "https://example.com:8443/x"),
        ("https://example.com/?utm_source=tw&utm_medium=s&id=7&fbclid=abc&gclid=z", "https://example.com/?id=7"),
        ("https://example.com/p?UTM_Campaign=x", "https://example.com/p"),
        ("https://example.com/%7euser/%2f?q=%e2%82%ac", "https://example.com/~user/%2F?q=%E2%82%AC"),
        ("https://example.com/a/..", "https://example.com/"),
        ("https://example.com/a/b/../", "https://example.com/a/"),
        ("https://example.com/a//b", "https://example.com/a//b"),
        ("http://example.com./x", "http://example.com/x"),
        ("http://[::1]:8080/x", "http://[::1]:8080/x"),
        ("http://user:pw@EX.com/", "http://user:pw@ex.com/"),
        ("  https://example.com/q?a=1&&b=  ", "https://example.com/q?a=1&b="),
        # deliberately untouched: index pages, www, trailing slashes, scheme
        ("https://www.example.com/dir/index.html", "https://www.example.com/dir/index.html"),
        ("https://example.com/dir/", "https://example.com/dir/"),
        ("http://example.com/dir", "http://example.com/dir"),
    ],
)
def test_normalize_url(url, expected):
    assert normalize_url(url) == expected


def test_normalize_url_is_idempotent():
    url = "HTTP://Example.COM:80/a/./b/../c?utm_source=x&b=2&a=1#frag"
    assert normalize_url(normalize_url(url)) == normalize_url(url)


@pytest.mark.parametrize("bad", ["notaurl", "/relative/path", "http://example.com:abc/", "http://[::1/", ""])
def test_normalize_url_rejects_unparseable(bad):
    with pytest.raises(ValueError):
        normalize_url(bad)


@pytest.mark.parametrize(
    ("url", "domain"),
    [
        ("https://math.stackexchange.com/questions/1", "stackexchange.com"),
        ("http://forums.bbc.co.uk:8080/x", "bbc.co.uk"),
        ("https://user.github.io/page", "github.io"),
        ("math.stackexchange.com", "stackexchange.com"),
        ("http://127.0.0.1/x", "127.0.0.1"),
        ("http://localhost:8000/", "localhost"),
        ("", ""),
    ],
)
def test_registered_domain(url, domain):
    assert registered_domain(url) == domain


def test_registered_domain_never_uses_the_network(monkeypatch):
    def no_network(*args, **kwargs):
        raise AssertionError("tldextract tried to reach the network")

    monkeypatch.setattr(socket, "create_connection", no_network)
    monkeypatch.setattr(socket.socket, "connect", no_network)
    assert registered_domain("https://en.wikipedia.org/wiki/Pi") == "wikipedia.org"


@pytest.mark.parametrize(
    ("url", "path"),
    [("https://mathoverflow.net/questions/12?x=1#a", "/questions/12"), ("https://example.com", "/")],
)
def test_url_path(url, path):
    assert url_path(url) == path
