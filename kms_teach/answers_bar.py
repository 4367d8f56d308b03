"""The *Save answers* / *Load answers* controls shared by the quiz and the branching case.

Two deliveries, told apart by :func:`kms_teach.progress.delivery`:

- **Voila** (a learner has no server file system): *Save answers* is a link
  that downloads the answers held in this page's kernel, made in memory as a
  ``data:`` URL with a ``download`` name (no server path is ever involved);
  *Load answers* is an upload (ipywidgets ``FileUpload``) whose content is
  read in memory. Nothing is written on the server.
- **Jupyter** (JupyterLab, Notebook 7, a Hub's single-user server, Binder):
  *Save answers* merges into the lesson's file next to the notebook (the
  kernel's working folder), *Load answers* reads it back (or, if it does not
  exist yet, kms-teach 0.1.0's ``kms-teach-answers.json``); the same upload
  and download are offered for moving answers between machines.

No control takes a path: the file name is fixed by the notebook's author.
"""

from __future__ import annotations

import base64
import html
from pathlib import Path
from typing import Callable

import ipywidgets as w

from .progress import MAX_BYTES, AnswerBook, AnswersError, delivery, load_answers, parse_answers, save_answers

__all__ = ["AnswersBar", "LEGACY_FILE"]

#: The one file every quiz of kms-teach 0.1.0 wrote (read by *Load answers* when the lesson's file is missing).
LEGACY_FILE = "kms-teach-answers.json"


def _status(inner: str) -> str:
    return f'<div role="status" aria-live="polite">{inner}</div>'


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


class AnswersBar:
    """Save and load controls for one :class:`~kms_teach.progress.AnswerBook`.

    Parameters
    ----------
    book : AnswerBook
        The kernel's answers for one answers file (its name is the file name).
    mode : {"voila", "jupyter"}, optional
        Default: :func:`kms_teach.progress.delivery`.
    describe : callable, optional
        ``describe(book)`` returns a sentence saying what a load restored in
        the owner's view (for example "3 answers restored in this quiz.").
    """

    def __init__(self, book: AnswerBook, *, mode: str | None = None,
                 describe: Callable[[AnswerBook], str] | None = None):
        self.book = book
        self.mode = mode or delivery()
        if self.mode not in ("voila", "jupyter"):
            raise ValueError(f"mode must be 'voila' or 'jupyter', not {self.mode!r}")
        self.describe = describe
        self.file_name = Path(book.name).name
        self.status = w.HTML()
        self.download = w.HTML()
        in_voila = self.mode == "voila"
        self.upload = w.FileUpload(accept=".json,application/json", multiple=False,
                                   description="Load answers" if in_voila else "Load from a file",
                                   tooltip="Choose an answers file on your computer",
                                   layout=w.Layout(width="auto"))
        self.upload.observe(self._on_upload, names="value")
        if in_voila:
            self.save_button = self.load_button = None
            note = w.HTML("<p><em>Your answers stay in this page until you save them: <strong>Save answers"
                          "</strong> downloads them as a file to your computer, <strong>Load answers</strong> "
                          "reads such a file back.</em></p>")
            row = w.HBox([self.download, self.upload])
        else:
            self.save_button = w.Button(description="Save answers",
                                        tooltip=f"Add your answers to {self.file_name} next to this notebook")
            self.load_button = w.Button(description="Load answers",
                                        tooltip=f"Read your answers back from {self.file_name}")
            self.save_button.on_click(lambda _b: self.save())
            self.load_button.on_click(lambda _b: self.load())
            note = w.HTML(f"<p><em>Answers file: <code>{html.escape(self.file_name)}</code> next to this "
                          "notebook (saving adds to it; other quizzes' answers in it are kept).</em></p>")
            row = w.HBox([self.save_button, self.load_button, self.upload, self.download])
        self.widget = w.VBox([note, row, self.status])
        self.widget.add_class("kms-answers")
        book.on_change(self._refresh_download)
        self._refresh_download(book)

    # -- saving
    def _refresh_download(self, _book=None) -> None:
        """Point the download link at the answers held now (made in memory, never from a server file)."""
        payload = base64.b64encode(self.book.answers.dumps().encode("utf-8")).decode("ascii")
        label = "Save answers" if self.mode == "voila" else "Download a copy"
        self.download.value = (
            f'<a class="kms-answers-download jupyter-button widget-button" '
            f'download="{html.escape(self.file_name)}" href="data:application/json;base64,{payload}" '
            f'title="Download your answers as {html.escape(self.file_name)}" '
            f'style="display:inline-flex;align-items:center;text-decoration:none;padding:0 12px">'
            f'{label} <span class="kms-visually-hidden" style="position:absolute;left:-9999px">'
            f'(downloads {html.escape(self.file_name)})</span></a>')

    def save(self) -> bool:
        """Jupyter: merge the answers into the lesson's file next to the notebook; True on success."""
        if self.mode == "voila":
            self.status.value = _status("<p>Use <strong>Save answers</strong> to download your answers.</p>")
            return False
        try:
            path = save_answers(self.book.answers, self.book.name)
        except AnswersError as exc:
            self.status.value = _status(f"<p><strong>Not saved.</strong> {html.escape(str(exc))}</p>")
            return False
        quizzes, items, runs = self.book.answers.count()
        kept = f" and {_plural(runs, 'case run')}" if runs else ""
        self.status.value = _status(f"<p>Saved {_plural(items, 'answer')}{kept} from this page to "
                                    f"{html.escape(Path(path).name)}; answers already in it were kept.</p>")
        return True

    # -- loading
    def load(self) -> bool:
        """Jupyter: read the lesson's file (or 0.1.0's file if it is missing) into every quiz; True on success."""
        if self.mode == "voila":
            self.status.value = _status("<p>Use <strong>Load answers</strong> to choose a file on your computer.</p>")
            return False
        path = Path(self.book.name)
        legacy = path.with_name(LEGACY_FILE)
        source = legacy if not path.exists() and legacy.is_file() else path
        if not source.exists() and not source.is_symlink():
            self.status.value = _status(f"<p>Nothing to load yet: {html.escape(path.name)} is made next to this "
                                        "notebook when you first press <strong>Save answers</strong>.</p>")
            return False
        try:
            loaded = load_answers(source)
            self.book.merge_in(loaded)
        except AnswersError as exc:
            self.status.value = _status(f"<p><strong>Not loaded.</strong> {html.escape(str(exc))}</p>")
            return False
        self._say_loaded(source.name)
        return True

    def _on_upload(self, change) -> None:
        files = change["new"]
        if not files:
            return
        upload = files[0]
        self.load_bytes(bytes(upload["content"]), upload.get("name") or "the file",
                        modified=upload.get("last_modified"))
        self.upload.value = ()  # the same file may be chosen again later

    def load_bytes(self, content: bytes, name: str, *, modified=None) -> bool:
        """Load an uploaded file's content (never a server path) into every quiz; True on success."""
        name = Path(str(name)).name[:120] or "the file"
        if len(content) > MAX_BYTES:
            self.status.value = _status(f"<p><strong>Not loaded.</strong> {html.escape(name)}: too large to be an "
                                        "answers file.</p>")
            return False
        when = None
        if modified is not None and hasattr(modified, "astimezone"):
            from .progress import _iso

            when = _iso(modified)
        try:
            loaded = parse_answers(content, name, modified=when)
            self.book.merge_in(loaded)
        except AnswersError as exc:
            message = str(exc).replace("; the file was left untouched", "")
            self.status.value = _status(f"<p><strong>Not loaded.</strong> {html.escape(message)}</p>")
            return False
        self._say_loaded(name)
        return True

    def _say_loaded(self, name: str) -> None:
        restored = self.describe(self.book) if self.describe else ""
        _quizzes, items, runs = self.book.answers.count()
        held = f" This page now holds {_plural(items, 'answer')}"
        held += f" and {_plural(runs, 'case run')}." if runs else "."
        self.status.value = _status(f"<p>Loaded {html.escape(name)}. {html.escape(restored)}{held}</p>")
