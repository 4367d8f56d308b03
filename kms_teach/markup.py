"""Turn content-file text (Markdown with LaTeX maths) into safe HTML.

Question and case files are written by educators and may be shared between
schools, so their text is treated as untrusted: raw HTML is shown as text,
links that could run script are dropped, and images are reduced to their alt
text (an image would also be a download at run time). Maths between ``$...$``
or ``$$...$$`` is passed through for MathJax, HTML-escaped.

mistune is already installed with Jupyter (nbconvert uses it); it is used here
because it escapes raw HTML and filters harmful link schemes itself, which
hand-written escaping would have to get right case by case.
"""

from __future__ import annotations

import functools
import html

import mistune

__all__ = ["to_html", "to_text"]


class _SafeRenderer(mistune.HTMLRenderer):
    def image(self, text: str, url: str, title=None) -> str:
        return html.escape(text or "")

    def link(self, text: str, url: str, title=None) -> str:
        safe = self.safe_url(url)
        if safe.startswith("#harmful"):
            return text
        return f'<a href="{html.escape(safe)}" target="_blank" rel="noopener noreferrer">{text}</a>'


@functools.lru_cache(maxsize=1)
def _markdown():
    return mistune.create_markdown(
        renderer=_SafeRenderer(escape=True), plugins=["math", "strikethrough", "table"]
    )


@functools.lru_cache(maxsize=4096)
def to_html(text: str) -> str:
    """Render Markdown with maths to HTML that cannot run script.

    Parameters
    ----------
    text : str
        Markdown, possibly with ``$...$`` maths and (untrusted) raw HTML.

    Returns
    -------
    str
        HTML; every ``<`` that came from the content is escaped.
    """
    return _markdown()(str(text)).strip()


def to_text(text: str) -> str:
    """Plain text for a screen-reader announcement: Markdown markers dropped, no HTML."""
    plain = str(text).replace("**", "").replace("__", "").replace("`", "")
    return " ".join(plain.split())
