"""Turn content-file text (Markdown with LaTeX maths) into HTML that cannot run script.

Question, case and work-up files are written by educators and may be shared
between schools, so their text is untrusted. Every path from content to a page
goes through this module:

- :func:`to_html` renders Markdown with mistune (raw HTML in the source is shown
  as text, images are reduced to their alt text) and then passes the result
  through nh3, the Python binding of the Ammonia allowlist sanitiser: only the
  tags and attributes Markdown produces survive, and a link survives only if,
  after control characters and whitespace are removed, it starts with
  ``http:``, ``https:`` or ``mailto:``. The cleaned value is what is written,
  so the browser sees exactly the URL that was tested.
- :func:`plain_text`, :func:`to_text` and :func:`escape_text` are for content
  shown as text (option labels, titles, citations).
- On every path, MathJax commands that make links, HTML, CSS or new commands
  (``\\href``, ``\\url``, ``\\class``, ``\\style``, ``\\cssId``, ``\\unicode``,
  ``\\require``, ``\\def`` ...) lose their backslash: the page's MathJax
  (JupyterLab's and Voila's load every extension) typesets them as plain
  letters. This runs on the final string, after entities were decoded and
  re-encoded by the sanitiser, so an entity or a Markdown escape cannot
  rebuild a command.
- Invisible and direction-changing characters (C0/C1 controls, bidi overrides
  and isolates, zero-width space, BOM, soft hyphen, Unicode tag characters) are
  removed: they can spoof labels or hide a scheme from a pattern.

:func:`content_problem` is the matching rule for ``kms-teach check``: it names
the first construct a content file should not hold at all.

The project's own figures (``data:image/png`` written by the plotting code)
never pass through here; they are put into the page after this step.
"""

from __future__ import annotations

import functools
import html
import re
import urllib.parse
from dataclasses import dataclass

import mistune
import nh3

__all__ = [
    "to_html", "sanitise_html", "to_text", "plain_text", "escape_text", "neutralise_maths",
    "strip_invisible", "content_problem", "UNSAFE_CONTENT", "ALLOWED_SCHEMES", "UNSAFE_MATHJAX_COMMANDS",
]

#: URL schemes a link from content may use.
ALLOWED_SCHEMES = ("http", "https", "mailto")

#: MathJax TeX commands that create links, HTML elements or attributes, CSS, tooltips,
#: load extensions, change parser options, or define new commands (which could alias
#: any of the others). Compared without regard to case.
UNSAFE_MATHJAX_COMMANDS = frozenset(name.lower() for name in (
    # links and HTML attributes (MathJax "html" and base extensions)
    "href", "url", "hyperref", "class", "cssId", "style", "data", "attr", "html", "unicode", "mmlToken",
    "bbox", "texttip", "mathtip", "toggle", "actiontype",
    # extension loading and parser options
    "require", "setOptions", "input", "include", "includegraphics",
    # new commands and environments (indirection)
    "def", "gdef", "edef", "xdef", "let", "futurelet", "newcommand", "renewcommand", "providecommand",
    "newenvironment", "renewenvironment", "DeclareMathOperator", "csname", "expandafter", "begingroup",
    "endgroup", "Newextarrow",
))

# Characters that are invisible or change text direction. ZWJ/ZWNJ and LRM/RLM are kept
# (needed by some scripts and emoji); tab, line feed and carriage return are kept.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u00ad\u061c\u180e\u200b\u202a-\u202e\u2060-\u2064"
    "\u2066-\u2069\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
# A TeX control word: backslash and a run of ASCII letters (MathJax's own rule).
_CONTROL_WORD = re.compile(r"\\([A-Za-z]+)")
# Drawn in place of a removed backslash: not a backslash, not a letter, and not mapped back to
# a backslash by Unicode normalisation (unlike U+FF3C).
_NEUTRAL_BACKSLASH = "\u29f5"

_TAGS = {
    "p", "br", "hr", "em", "strong", "code", "pre", "del", "s", "sup", "sub", "blockquote",
    "ul", "ol", "li", "a", "span", "div", "table", "thead", "tbody", "tr", "th", "td",
    "h1", "h2", "h3", "h4", "h5", "h6",
}
_ATTRIBUTES = {"a": {"href"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}


def strip_invisible(text: str) -> str:
    """``text`` without control, bidi-override, zero-width and tag characters."""
    return _INVISIBLE.sub("", text)


def neutralise_maths(text: str) -> str:
    """Replace the backslash of every unsafe MathJax command (:data:`UNSAFE_MATHJAX_COMMANDS`)."""
    return _CONTROL_WORD.sub(
        lambda m: (_NEUTRAL_BACKSLASH + m.group(1)) if m.group(1).lower() in UNSAFE_MATHJAX_COMMANDS else m.group(0),
        text)


# Whitespace, controls (Cc) and format characters (Cf, listed from Unicode 15).
_URL_NOISE = re.compile(
    "[\\s\x00-\x1f\x7f-\x9f\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e"
    "\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd"
    "\U00013430-\U0001343f\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0000-\U000e007f]")


def _url_compact(value: str) -> str:
    """A URL as a browser reads its scheme: whitespace, controls and format characters removed."""
    return _URL_NOISE.sub("", value)


def _scheme_allowed(url: str) -> bool:
    match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
    return bool(match) and match.group(1).lower() in ALLOWED_SCHEMES


def _attribute_filter(tag: str, attribute: str, value: str) -> str | None:
    if attribute in ("href", "src"):
        compact = _url_compact(value)
        return compact if _scheme_allowed(compact) else None
    if attribute == "style":  # tables only: the alignment mistune writes
        return value if re.fullmatch(r"text-align:\s*(left|right|center)", value.strip()) else None
    if attribute == "start":
        return value if value.isdigit() and len(value) < 7 else None
    return value


@functools.lru_cache(maxsize=1)
def _cleaner() -> nh3.Cleaner:
    return nh3.Cleaner(
        tags=_TAGS, clean_content_tags={"script", "style"}, attributes=_ATTRIBUTES,
        attribute_filter=_attribute_filter, url_schemes=set(ALLOWED_SCHEMES), url_relative="deny",
        allowed_classes={"span": {"math"}, "div": {"math"}},
        set_tag_attribute_values={"a": {"target": "_blank"}}, link_rel="noopener noreferrer",
        strip_comments=True,
    )


def sanitise_html(fragment: str) -> str:
    """Clean an HTML fragment built from content: allowlisted tags, attributes and URL schemes only.

    Parameters
    ----------
    fragment : str
        HTML that may hold content (the output of mistune, or text put together from it).

    Returns
    -------
    str
        The fragment as Ammonia re-serialises it, with invisible characters removed and unsafe
        MathJax commands neutralised.
    """
    cleaned = _cleaner().clean(strip_invisible(str(fragment)))
    # Entities decoded by the parser may have brought back invisible characters; removing them
    # here cannot change markup (text is re-escaped and URLs were compacted above).
    return neutralise_maths(strip_invisible(cleaned))


class _SafeRenderer(mistune.HTMLRenderer):
    def image(self, text: str, url: str, title=None) -> str:
        return html.escape(text or "")

    def link(self, text: str, url: str, title=None) -> str:
        compact = _url_compact(url)
        if not _scheme_allowed(compact):
            return text
        return f'<a href="{html.escape(compact)}">{text}</a>'


@functools.lru_cache(maxsize=1)
def _markdown():
    return mistune.create_markdown(
        renderer=_SafeRenderer(escape=True), plugins=["math", "strikethrough", "table"]
    )


@functools.lru_cache(maxsize=4096)
def to_html(text: str) -> str:
    """Render Markdown with maths to sanitised HTML (see the module notes).

    Parameters
    ----------
    text : str
        Markdown, possibly with ``$...$`` maths and (untrusted) raw HTML.

    Returns
    -------
    str
        HTML holding only allowlisted tags, attributes and link schemes.
    """
    return sanitise_html(_markdown()(strip_invisible(str(text)))).strip()


def plain_text(text: str) -> str:
    """Content shown as text: invisible characters removed, unsafe MathJax commands neutralised."""
    return neutralise_maths(strip_invisible(str(text)))


def escape_text(text: str) -> str:
    """:func:`plain_text`, escaped for use inside HTML."""
    return html.escape(plain_text(text))


def to_text(text: str) -> str:
    """Plain text for a label or a screen-reader announcement: Markdown markers dropped, no HTML."""
    plain = plain_text(text).replace("**", "").replace("__", "").replace("`", "")
    return " ".join(plain.split())


# --------------------------------------------------------------------------- the check rule


@dataclass(frozen=True)
class Finding:
    """Why a piece of content text is refused (truthy, like a regular-expression match)."""

    reason: str


# A "<" that a browser would start a tag with; Markdown autolinks to allowed schemes are fine.
_TAG_LIKE = re.compile(r"<(?!(?:https?|mailto):[^\s<>]*>)[/!?]?[A-Za-z]", re.IGNORECASE)
# Link-like text as other tools read it (jupyterquiz turns every "[a](b)" into a link).
_LINK_LIKE = re.compile(r"\[([^\]\[]{0,1000})\]\(([^)]{0,1000})\)?")
# What may stand between the parentheses: an allowed address (no quotes, brackets or spaces),
# optionally in <...>, and optionally a quoted title.
_LINK_TARGET_OK = re.compile(r"""\s*<?(?:https?|mailto):[^\s"'<>`]*>?(?:\s+"[^"]*"|\s+'[^']*')?\s*""", re.IGNORECASE)
_ENTITY = re.compile(r"&(#[0-9]+|#[xX][0-9A-Fa-f]+|[A-Za-z][A-Za-z0-9]*;)")
_SCRIPT_SCHEME = re.compile(r"(javascript|vbscript|livescript|data):", re.IGNORECASE)


@functools.lru_cache(maxsize=1)
def _link_parser():
    return mistune.create_markdown(renderer=None, plugins=["math", "strikethrough", "table"])


def _link_urls(text: str) -> list[str]:
    """Every link and image destination mistune finds in ``text`` (inline, reference, autolink)."""
    if "[" not in text and "<" not in text:
        return []  # every link or image mistune makes starts with one of these (bare URLs stay text)
    found = []

    def walk(tokens):
        for token in tokens or ():
            if token.get("type") in ("link", "image"):
                found.append(token.get("attrs", {}).get("url", ""))
            walk(token.get("children"))

    walk(_link_parser()(text))
    return found


def content_problem(text: str) -> Finding | None:
    """The first construct in content text that ``kms-teach check`` refuses, or None.

    Refused: tag-like text (even unclosed), character entities, invisible or direction-changing
    characters, any script-capable URL scheme however it is split or encoded, links whose scheme
    is not http, https or mailto, and unsafe MathJax commands.
    """
    text = str(text)
    if _TAG_LIKE.search(text):
        return Finding("raw HTML is not allowed (a '<' followed by a letter); use Markdown")
    if _ENTITY.search(text):
        return Finding("HTML character entities (&...;) are not allowed; type the character itself")
    invisible = _INVISIBLE.search(text)
    if invisible:
        return Finding(f"invisible or direction-changing character U+{ord(invisible.group()):04X} is not allowed")
    compact = _url_compact(urllib.parse.unquote(text))
    scheme = _SCRIPT_SCHEME.search(compact)
    if scheme and (scheme.group(1).lower() != "data" or re.match(r"data:[A-Za-z]+/", compact[scheme.start():], re.I)):
        return Finding(f"a {scheme.group(1).lower()}: address is not allowed; links may use "
                       + ", ".join(ALLOWED_SCHEMES))
    for url in _link_urls(text):
        if not _scheme_allowed(_url_compact(url)):
            return Finding(f"link {url[:40]!r} is not allowed; links must start with "
                           + ", ".join(f"{s}:" for s in ALLOWED_SCHEMES))
    for match in _LINK_LIKE.finditer(text):
        if not _LINK_TARGET_OK.fullmatch(match.group(2)):
            return Finding(f"link-like text {match.group(0)[:40]!r} is not a link to "
                           + ", ".join(f"{s}:" for s in ALLOWED_SCHEMES) + " (other tools would make it one)")
    for match in _CONTROL_WORD.finditer(text):
        if match.group(1).lower() in UNSAFE_MATHJAX_COMMANDS:
            return Finding(f"the MathJax command \\{match.group(1)} is not allowed (it can make links, "
                           "HTML or new commands)")
    return None


class _UnsafeContent:
    """``search(text)`` like a compiled pattern, returning a :class:`Finding` or None."""

    @staticmethod
    def search(text: str) -> Finding | None:
        return content_problem(text)


#: The check rule as an object with ``search``, used by the question and work-up loaders.
UNSAFE_CONTENT = _UnsafeContent()
