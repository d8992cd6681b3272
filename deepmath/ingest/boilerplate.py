"""Boilerplate removal and main-content choice for an lxml HTML tree, after math has been swapped for placeholders.

Rules, cheapest first (OpenWebMath-style heuristics rather than a learned model):

1. never content: script/style/noscript/template/iframe/form controls/svg/canvas/media, comments; math survives
   because `mathmarkup.replace_math` already turned math scripts into placeholders;
2. page furniture by tag (`nav`, `aside`, `footer`, `menu`, `header` outside an `<article>`) and by ARIA role;
3. page furniture by class/id words (nav, menu, footer, sidebar, cookie, breadcrumb, share, comment-form, advert,
   ...), matched on whole `-`/`_`-separated words so `navigation` matches but `canvas` does not.

Steps 2-3 guess, so they are guarded: an element is kept when it holds a `<main>`/`<article>` or at least half of
the page's text (ASP.NET wraps whole pages in a `<form>`; themes put `has-sidebar` on the content wrapper).
Then `content_roots` prefers `<main>` (or `role=main`) and else top-level `<article>`s when they hold a substantial
share of the remaining text, and falls back to `<body>`.
"""

from __future__ import annotations

import re

from lxml import etree

from deepmath.ingest.htmltree import remove_element

__all__ = ["content_roots", "remove_boilerplate", "text_length"]

_NEVER_CONTENT = (
    "script", "style", "noscript", "template", "iframe", "frame", "frameset", "object", "embed", "applet", "svg",
    "canvas", "audio", "video", "map", "button", "input", "select", "option", "textarea", "datalist", "dialog",
    "link", "meta", "head", "title",
)  # fmt: skip
_FURNITURE_TAGS = frozenset({"nav", "aside", "footer", "menu", "header", "form"})
_FURNITURE_ROLES = frozenset({"navigation", "banner", "contentinfo", "complementary", "search", "menu", "menubar"})
_FURNITURE_WORDS = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|topnav|subnav|menu|menus|menubar|mainmenu|submenu|footer|sidebar|"
    r"side-bar|widget-area|cookie|cookies|consent|gdpr|breadcrumb|breadcrumbs|share|sharing|sharedaddy|social|"
    r"comment-form|commentform|comment-respond|advert|advertisement|adverts|ads|ad|adsbygoogle|ad-slot|"
    r"sponsored|skip-link|popup|newsletter)(?:$|[\s_-])"
)
_PROTECTED = frozenset({"html", "body", "main", "article"})
_SUBSTANTIAL = 0.25  # share of the page text a <main>/<article> must hold to be preferred over <body>
_WRAPPER = 0.5  # share of the page text above which a furniture-looking element is taken to be a page wrapper


def text_length(element) -> int:
    """Characters of text under an element (placeholders count their LaTeX)."""
    return len(etree.tostring(element, method="text", encoding=str, with_tail=False))


def remove_boilerplate(root) -> None:
    """Remove never-content elements, comments and guarded page furniture from `root` (in place)."""
    etree.strip_elements(root, *_NEVER_CONTENT, with_tail=False)
    etree.strip_elements(root, etree.Comment, etree.ProcessingInstruction, with_tail=False)
    candidates = [el for el in root.iter() if isinstance(el.tag, str) and _looks_like_furniture(el)]
    if not candidates:
        return
    page_length = text_length(root)
    removed: set = set()
    for element in candidates:
        # candidates come in document order: skip those inside an already removed element
        if any(ancestor in removed for ancestor in element.iterancestors()) or _holds_content(element, page_length):
            continue
        remove_element(element)
        removed.add(element)


def content_roots(body) -> list:
    """The element(s) whose text is the page's content, in document order."""
    page_length = text_length(body)
    if page_length == 0:
        return [body]
    mains = [el for el in body.iter("main", "div", "section") if el.tag == "main" or el.get("role") == "main"]
    if mains:
        best = max(mains, key=text_length)
        if text_length(best) >= _SUBSTANTIAL * page_length:
            return [best]
    articles = [el for el in body.iter("article") if next(el.iterancestors("article"), None) is None]
    if articles and sum(text_length(el) for el in articles) >= _SUBSTANTIAL * page_length:
        return articles
    return [body]


def _looks_like_furniture(element) -> bool:
    tag = element.tag
    if tag in _PROTECTED:
        return False
    if tag in _FURNITURE_TAGS:
        # an article's own <header> carries its title and byline, not site navigation
        return not (tag == "header" and next(element.iterancestors("article"), None) is not None)
    role = element.get("role")
    if role and role.strip().lower() in _FURNITURE_ROLES:
        return True
    names = " ".join(filter(None, (element.get("class"), element.get("id"))))
    return bool(names) and _FURNITURE_WORDS.search(names.lower()) is not None


def _holds_content(element, page_length: int) -> bool:
    if next(element.iter("main", "article"), None) is not None:
        return True
    return page_length > 0 and text_length(element) >= _WRAPPER * page_length
