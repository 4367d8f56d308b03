"""Hostile content for the sanitising tests: the corpus, items built from it, and an HTML auditor.

The corpus (``tests/data/hostile_strings.txt``, one JSON string per line) is written by
``python tests/hostile_corpus.py``; the tests read the file, so a reviewer can add lines by hand.
Every payload that could run sets ``window.__kms_pwned`` (the browser tests watch that flag).

Shared by ``tests/test_hostile_content.py`` (Python side) and
``tests/browser/test_hostile_pages.py`` (Chromium), which loads it by path.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from html.parser import HTMLParser
from pathlib import Path

HERE = Path(__file__).resolve().parent
CORPUS = HERE / "data" / "hostile_strings.txt"

#: What every payload runs.
JS = "window.__kms_pwned=1"
#: The same for payloads inside TeX, where "_" would become a subscript: atob("X19rbXNfcHduZWQ") is "__kms_pwned".
JS_TEX = "window[atob('X19rbXNfcHduZWQ')]=1"
#: MathJax commands that must never reach a page with their backslash.
MATHJAX_UNSAFE = ("href", "url", "class", "cssId", "style", "unicode", "require", "data", "html", "mmlToken",
                  "def", "let", "newcommand", "renewcommand", "bbox", "texttip", "mathtip", "toggle", "setOptions")


def _entities(text: str, style: str) -> str:
    if style == "dec":
        return "".join(f"&#{ord(c)};" for c in text)
    if style == "dec-padded":
        return "".join(f"&#{ord(c):07d}" for c in text)  # no semicolons, zero padded
    if style == "hex":
        return "".join(f"&#x{ord(c):x};" for c in text)
    if style == "hex-upper":
        return "".join(f"&#X{ord(c):X}" for c in text)
    raise ValueError(style)


def script_urls() -> list[str]:
    """``javascript:``, ``vbscript:`` and ``data:`` URLs in every encoding and split form."""
    js = f"javascript:{JS}"
    urls = [
        js, f"JaVaScRiPt:{JS}", f"JAVASCRIPT:{JS}", f" javascript:{JS}", f"\x01javascript:{JS}",
        f"\x00javascript:{JS}", f"java\tscript:{JS}", f"java\nscript:{JS}", f"java\rscript:{JS}",
        f"jav\x0bascript:{JS}", f"j\ta\tv\ta\ts\tc\tr\ti\tp\tt:{JS}", f"javascript\t:{JS}", f"javascript\n:{JS}",
        f"java\u200bscript:{JS}", f"java\u00adscript:{JS}", f"java\u202escript:{JS}", f"java\ufeffscript:{JS}",
        f"javascript&colon;{JS}", f"javascript&#58;{JS}", f"javascript&#x3A;{JS}", f"javascript&#0000058{JS}",
        f"java&Tab;script:{JS}", f"java&NewLine;script:{JS}", f"java&#9;script:{JS}", f"java&#x0A;script:{JS}",
        f"&#106;avascript:{JS}", f"&#x6A;avascript:{JS}", _entities("javascript:", "dec") + JS,
        _entities("javascript:", "dec-padded") + JS, _entities("javascript:", "hex") + JS,
        _entities("javascript:", "hex-upper") + JS, f"%6Aavascript:{JS}", f"javascript%3A{JS}",
        f"javascript://%0a{JS}", f"javascript://comment%0d%0a{JS}", f"javascript:void(0);{JS}",
        f"javascript:{urllib.parse.quote(JS)}", f"\\javascript:{JS}", f"javascript\\:{JS}",
        f"vbscript:{JS}", f"VBScript:{JS}", f"vb\tscript:{JS}", f"livescript:{JS}",
        f"data:text/html,<script>{JS}</script>", f"DATA:text/html;base64,PHNjcmlwdD53aW5kb3cuX19rbXNfcHduZWQ9MTwvc2NyaXB0Pg==",
        f"data:text/html;charset=utf-8,%3Cscript%3E{JS}%3C/script%3E",
        f"data:image/svg+xml,<svg xmlns='http://www.w3.org/2000/svg' onload='{JS}'/>",
        f"da\tta:text/html,<script>{JS}</script>", f"&#100;ata:text/html,<script>{JS}</script>",
        f"ｊａｖａｓｃｒｉｐｔ:{JS}", f"javascript\u2028:{JS}",
    ]
    return urls


def _url_wrappers(url: str) -> list[str]:
    safe = url.replace(")", "%29")
    return [
        f"[click the reference]({url})",
        f"![a figure]({url})",
        f"<{url}>",
        f"[the reference][r1]\n\n[r1]: {url}",
        f'<a href="{url}">a reference</a>',
        "$\\href{" + url.replace(JS, JS_TEX) + "}{the maths link}$",
        f'[titled](<{safe}> "a title")',
    ]


def generate() -> list[str]:
    """Every hostile string, in a fixed order, without duplicates."""
    out: list[str] = []
    # 1. script elements
    out += [f"<script>{JS}</script>", f"<SCRIPT>{JS}</SCRIPT>", f"<script >{JS}</script >",
            f"<script/x>{JS}</script>", f"<scr<script>ipt>{JS}</scr</script>ipt>", f"<script>{JS}",
            f"<script src=\"data:,{JS}\"></script>", f"<svg><script>{JS}</script></svg>",
            f"<math><mtext><script>{JS}</script></mtext></math>", f"</title><script>{JS}</script>",
            f"</textarea><script>{JS}</script>", f"<!--<script>{JS}</script>-->",
            f"<![CDATA[<script>{JS}</script>]]>", f"<script\n>{JS}</script>",
            f"```\n</code></pre><script>{JS}</script>\n```", f"`</code><script>{JS}</script>`",
            f"<noscript><p title=\"</noscript><img src=x onerror={JS}>\"></noscript>",
            f"<svg><style><img src=x onerror={JS}></style></svg>",
            f"<math><mi><mglyph><style><img src=x onerror={JS}>",
            f"<template><script>{JS}</script></template>", f"<iframe srcdoc=\"<script>parent.{JS}</script>\"></iframe>",
            f"<object data=\"data:text/html,<script>parent.{JS}</script>\"></object>",
            f"<embed src=\"data:text/html,<script>parent.{JS}</script>\">",
            f"<style>@import 'javascript:{JS}';</style>", f"<link rel=stylesheet href=\"javascript:{JS}\">",
            f"<meta http-equiv=\"refresh\" content=\"0;url=javascript:{JS}\">", f"<base href=\"javascript:{JS}//\">"]
    # 2. event handlers, closed, unclosed, split over lines
    handlers = [
        ("img", f"src=x onerror={JS}"), ("img", f"src=x onerror=\"{JS}\""), ("img", f"src=x\nonerror={JS}"),
        ("img", f"src=x/onerror={JS}"), ("img", f"src=x onerror\t=\t'{JS}'"), ("IMG", f"SRC=x ONERROR={JS}"),
        ("svg", f"onload={JS}"), ("svg/", f"onload={JS}"), ("body", f"onload={JS}"),
        ("iframe", f"onload={JS}"), ("details", f"open ontoggle={JS}"), ("input", f"autofocus onfocus={JS}"),
        ("select", f"autofocus onfocus={JS}"), ("textarea", f"autofocus onfocus={JS}"),
        ("video", f"src=x onerror={JS}"), ("audio", f"src=x onerror={JS}"), ("marquee", f"onstart={JS}"),
        ("a", f"href=\"https://example.org\" onmouseover={JS}"), ("div", f"onpointerenter={JS}"),
        ("div", f"onmouseover=\"{JS}\" style=\"position:fixed;inset:0\""),
        ("p", f"style=\"animation:x 1s\" onanimationstart={JS}"), ("span", f"onclick={JS}"),
        ("button", f"onclick={JS}"), ("form", f"onsubmit={JS}"), ("object", f"data=x onerror={JS}"),
        ("image", f"src=x onerror={JS}"), ("img", f"src=`x`onerror={JS}"), ("img", f"src=x onerror=&#x77;indow.__kms_pwned=1"),
    ]
    for tag, attributes in handlers:
        out.append(f"<{tag} {attributes}>")
        out.append(f"text before <{tag} {attributes}")  # unclosed: no '>' in the field
    # 3. script URLs in every wrapper
    for url in script_urls():
        out += _url_wrappers(url)
    # 4. Markdown link and title tricks, reference links, autolinks
    out += [f'[x](https://example.org "t\\" onmouseover=\\"{JS}")', f"[x](https://example.org 'a\" onclick=\"{JS}')",
            f'[x](https://example.org" onmouseover="{JS})', f'[x](x" onmouseover="{JS})',
            f"[hover me](x\" onmouseover=\"{JS}\" x=\")", f"[<img src=x onerror={JS}>](https://example.org)",
            f"[x](https://example.org)<img src=x onerror={JS}", f"\\[x\\](javascript:{JS})",
            f"[x] (javascript:{JS})", f"[x](javascript:{JS} \"title\")", f"[x](<javascript:{JS}>)",
            f"[r]\n\n[r]: javascript:{JS} \"title\"", f"[r][]\n\n[r]: <javascript:{JS}>",
            f"[r]\n\n[R]:\njavascript:{JS}", f"![x](https://example.org/a.png\" onerror=\"{JS})",
            f"![x\" onerror=\"{JS}](https://example.org/a.png)", f"[![x](javascript:{JS})](javascript:{JS})",
            f"<https://example.org\" onmouseover=\"{JS}>", f"<mailto:a@example.org?body=\"onmouseover={JS}>",
            f"https://example.org/\" onmouseover=\"{JS}", f"www.example.org/<img src=x onerror={JS}>",
            f"[x](https://example.org)[y](javascript:{JS})", f"[a](https://example.org \"<img src=x onerror={JS}>\")",
            f"*[x](javascript:{JS})*", f"> [x](javascript:{JS})", f"- [x](javascript:{JS})",
            f"| a |\n|---|\n| [x](javascript:{JS}) |", f"| <img src=x onerror={JS}> |\n|---|\n| b |",
            f"~~[x](javascript:{JS})~~", f"[x](  javascript:{JS}  )", f"[x](\njavascript:{JS})",
            f"[x](java%09script:{JS})", f"[x](//example.org/\" onmouseover=\"{JS})", f"[x](#\" onmouseover=\"{JS})",
            f"[x]: javascript:{JS}\n[x]", f"<<javascript:{JS}>>", f"`[x](javascript:{JS})`",
            f"[x]( javascript&#58;{JS} )", f"[x](ja&#x09;vascript:{JS})"]
    # 5. MathJax commands
    out += [f"$\\href{{javascript:{JS_TEX}}}{{x}}$", f"$\\href{{java\tscript:{JS_TEX}}}{{x}}$",
            f"$\\href{{java\nscript:{JS_TEX}}}{{x}}$", f"$$\\href{{javascript:{JS_TEX}}}{{x}}$$",
            f"\\\\(\\href{{javascript:{JS_TEX}}}{{x}}\\\\)", f"\\\\[\\href{{javascript:{JS_TEX}}}{{x}}\\\\]",
            f"\\begin{{equation}}\\href{{javascript:{JS_TEX}}}{{x}}\\end{{equation}}",
            f"$\\url{{javascript:{JS_TEX}}}$", f"$\\class{{jp-Dialog}}{{x}}$", f"$\\cssId{{kms-fake}}{{x}}$",
            f"$\\style{{position:fixed;top:0;left:0;width:100%;height:100%;background:url(javascript:{JS_TEX})}}{{x}}$",
            "$\\unicode[some-font]{x263A}$", "$\\unicode{x202E}$", "$\\require{html}\\class{x}{y}$",
            f"$\\require{{[tex]/../../x}}$", "$\\data{x=1}{y}$", f"$\\html{{<img src=x onerror={JS_TEX}>}}$",
            f"$\\mmlToken{{mi}}[href=\"javascript:{JS_TEX}\"]{{x}}$", "$\\texttip{x}{tip}$", "$\\mathtip{x}{tip}$",
            "$\\toggle{a}{b}\\endtoggle$", "$\\bbox[border:99px solid red]{x}$",
            f"$\\def\\h{{\\href}}\\h{{javascript:{JS_TEX}}}{{x}}$", f"$\\let\\h=\\href \\h{{javascript:{JS_TEX}}}{{x}}$",
            f"$\\newcommand{{\\h}}[1]{{\\href{{#1}}{{x}}}}\\h{{javascript:{JS_TEX}}}$",
            f"$\\renewcommand{{\\frac}}{{\\href}}\\frac{{javascript:{JS_TEX}}}{{x}}$", "$\\setOptions[tex]{x=y}$",
            f"$\\HREF{{javascript:{JS_TEX}}}{{x}}$", f"$\\Href{{javascript:{JS_TEX}}}{{x}}$",
            f"$\\\\href{{javascript:{JS_TEX}}}{{x}}$", f"$\\hr\u200bef{{javascript:{JS_TEX}}}{{x}}$",
            f"$\\h\u00adref{{javascript:{JS_TEX}}}{{x}}$", f"$&#92;href{{javascript:{JS_TEX}}}{{x}}$",
            f"$\\&#104;ref{{javascript:{JS_TEX}}}{{x}}$", f"\\$\\href{{javascript:{JS_TEX}}}{{x}}\\$",
            f"$`\\href{{javascript:{JS_TEX}}}{{x}}`$", f"`$\\href{{javascript:{JS_TEX}}}{{x}}$`",
            f"$\\href {{javascript:{JS_TEX}}}{{x}}$", f"$\\href\n{{javascript:{JS_TEX}}}{{x}}$",
            f"$\\color{{red}}{{\\href{{javascript:{JS_TEX}}}{{x}}}}$", f"$\\text{{\\href{{javascript:{JS_TEX}}}{{x}}}}$",
            f"$x$ and $\\href{{javascript:{JS_TEX}}}{{y}}$ and $z$", "$\\frac{1}{2}$ (harmless maths)"]
    # 6. invisible and direction-changing characters
    out += ["Correct answer\u202e (reversed)", "\u202dforced left\u202c", "\u2066isolated\u2069 \u2067rtl\u2069",
            "zero\u200bwidth\u200bspace", "byte\ufefforder mark", "null\x00byte", "bell\x07and\x1bescape",
            "soft\u00adhyphen", "tag\U000e0041\U000e0042chars", "line\u2028separator\u2029paragraph",
            "c1\x85control\x9bcsi", "\u061carabic letter mark", "A.\u202e .B looks swapped"]
    # 7. GIFT control characters and multi-line break-outs
    out += ["}", "{", "{=right}", "~wrong", "=right", "#feedback", "::injected-title::", "// comment",
            "\n\n::injected-question::Injected?{=yes ~no}\n\n", "line one\nline two", "a\r\nb\rc",
            "trailing backslash \\", "\\\\ double", "[html]<b>x</b>", "[markdown]*x*", "[moodle]x", "%50%half",
            "%100%full", "a -> b", "####", "{#", "1..2", "=%0%1..2#x", "C:\\temp\\new", "\u2028::u2028::Q{=A}",
            "a\x0bb\x0cc", "}\n\n::injected-2::Injected?{=yes}\n// ", "$$ a {b} c $$"]
    # 8. other contexts: attributes, templates, CSS
    out += [f"\" onmouseover=\"{JS}", f"' onmouseover='{JS}", f"\"><img src=x onerror={JS}>",
            f"'><svg onload={JS}>", f"</p><img src=x onerror={JS}><p>", "{{constructor.constructor('window.__kms_pwned=1')()}}",
            f"${{{JS}}}", f"<style>*{{background:url(\"javascript:{JS}\")}}</style>",
            f"<div style=\"background:url(javascript:{JS})\">x</div>", f"<a href=\"&#x6A;avascript:{JS}\">x</a>",
            f"<a href=\"javas&#99;ript:{JS}\">x</a>", f"<a href=\"jav&#x0D;ascript:{JS}\">x</a>",
            f"<a href=javascript&colon;{JS}>x</a>", f"<svg><a xlink:href=\"javascript:{JS}\"><text y=9>x</text></a></svg>",
            f"<math><maction actiontype=\"statusline\" xlink:href=\"javascript:{JS}\">x</maction></math>",
            f"<form><button formaction=\"javascript:{JS}\">x</button></form>",
            f"<isindex action=\"javascript:{JS}\" type=image>", f"<x onclick={JS}>x</x>",
            f"<img src=\"x\" alt=\"\" onerror=\"{JS}\"/>", f"<img\x00 src=x onerror={JS}>",
            f"<img\u000c src=x onerror={JS}>", f"<\x00img src=x onerror={JS}>", f"<img src=x oNeRrOr={JS}>",
            f"<<img src=x onerror={JS}>>", f"&lt;img src=x onerror={JS}&gt;", f"&#60;img src=x onerror={JS}&#62;",
            f"\\<img src=x onerror={JS}\\>", f"<img src=x onerror={JS}//", f"<a href=\"https://example.org\">ok</a",
            f"<a href=\"javascript:{JS}\"", f"<iframe src=javascript:{JS}", f"<svg onload={JS}//"]
    seen, unique = set(), []
    for text in out:
        if text not in seen:
            seen.add(text)
            unique.append(text)
    return unique


def write(path: Path = CORPUS) -> int:
    strings = generate()
    lines = ["# Hostile content strings, one JSON-encoded string per line (lines starting with # are comments).",
             "# Written by `python tests/hostile_corpus.py`; every payload that could run sets window.__kms_pwned.",
             *(json.dumps(s, ensure_ascii=True) for s in strings)]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return len(strings)


def load(path: Path = CORPUS) -> list[str]:
    """The corpus as written in the file."""
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]


# ----------------------------------------------------------------------------- items


def chunks(strings: list[str], size: int) -> list[list[str]]:
    """Groups of ``size`` strings; the last group is topped up from the start so every group is full."""
    groups = [strings[i:i + size] for i in range(0, len(strings), size)]
    if groups and len(groups[-1]) < size:
        groups[-1] = groups[-1] + strings[: size - len(groups[-1])]
    return groups


def hostile_questions(strings: list[str], size: int = 8):
    """Items that carry every string in every text field the quiz and the exports show.

    Per group of ``size`` strings: a many-choice item whose options are the strings (labels), each
    option's feedback is the next string, the stem and explanation hold the group, and each string
    is also a citation; plus a numeric item whose feedback texts and unit are hostile. Every option
    is right, so ticking all shows every option's feedback.
    """
    from kms_teach.questions import Option, Question

    items = []
    for n, group in enumerate(chunks(strings, size)):
        options = tuple(Option(text, True, group[(k + 1) % len(group)]) for k, text in enumerate(group))
        items.append(Question(
            id=f"hostile-{n:03d}", topic="hostile", type="many_choice", question="\n\n".join(group),
            objective=group[0], difficulty="easy", explanation="\n\n".join(reversed(group)), citations=tuple(group),
            options=options))
        items.append(Question(
            id=f"hostile-numeric-{n:03d}", topic="hostile", type="numeric", question=group[1],
            objective=group[2], difficulty="easy", explanation=group[3], citations=(group[4],), unit=group[5],
            value=2.0, tolerance=0.5, range_feedback=((3.0, 5.0, group[6]),), feedback_correct=group[7],
            feedback_default=group[0]))
    return items


def hostile_workup(base, strings):
    """A copy of the work-up ``base`` whose every shown text is taken, in turn, from ``strings``."""
    import dataclasses

    feed = iter(strings * 4)

    def choice(c):
        return dataclasses.replace(c, label=next(feed), feedback=next(feed), citations=(next(feed),))

    def decision(d):
        return dataclasses.replace(d, prompt=next(feed), explanation=next(feed), citations=(next(feed),),
                                   options=tuple(choice(c) for c in d.options))

    tests = tuple(dataclasses.replace(t, label=next(feed), debrief=next(feed), citations=(next(feed),),
                                      finding=next(feed), finding_without=next(feed)) for t in base.tests)
    return dataclasses.replace(base, title=next(feed), presentation=next(feed), tests=tests,
                               diagnosis=decision(base.diagnosis), plans=decision(base.plans))


def workup_slots(base) -> int:
    """How many strings :func:`hostile_workup` places in one copy of ``base``."""
    return (2 + 5 * len(base.tests) + 3 + 3 * len(base.diagnosis.options) + 3 + 3 * len(base.plans.options))


def drive_workup(view, n: int = 0) -> None:
    """Take a CaseWorkup through every step to the debrief, as a learner would."""
    workup = view.workup
    for k, box in enumerate(view.tests.values()):
        box.value = k < workup.budget
    view.order()
    view.diagnosis.value = workup.diagnosis.options[n % len(workup.diagnosis.options)].id
    view.confirm_diagnosis()
    view.plan.value = workup.plans.options[n % len(workup.plans.options)].id
    view.start_plan()
    view.show_debrief()


# ----------------------------------------------------------------------------- the audit

ALLOWED_SCHEMES = ("http", "https", "mailto")
_UNSAFE_TEX = re.compile(r"\\(" + "|".join(MATHJAX_UNSAFE) + r")(?![A-Za-z])", re.IGNORECASE)
_INVISIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u200b\u202a-\u202e\u2066-\u2069\ufeff]")
_SCRIPT_TAGS = {"script", "iframe", "object", "embed", "style", "link", "meta", "base", "svg", "math", "form",
                "input", "button", "textarea", "select", "video", "audio", "img", "image", "template",
                "noscript", "frame", "frameset", "applet", "isindex", "marquee", "body", "x"}


def _compact(url: str) -> str:
    return re.sub(r"[\s\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff]", "", url)


class _Collector(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.attributes, self.text = [], [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attributes.extend((tag, name, value or "") for name, value in attrs)

    handle_startendtag = handle_starttag

    def handle_data(self, data):
        self.text.append(data)


def audit_html(fragment: str, *, own_figures: bool = False) -> list[str]:
    """What in an HTML fragment could run script or reach MathJax; empty when clean.

    ``own_figures`` allows ``<img src="data:image/png;base64,...">`` (the project's figures) and the
    base64 JSON download link of *Save answers* (made by the code, never by content).
    """
    collector = _Collector()
    collector.feed(fragment)
    collector.close()
    found = []
    for tag in collector.tags:
        if tag in _SCRIPT_TAGS and not (own_figures and tag == "img"):
            found.append(f"<{tag}> element")
    for tag, name, value in collector.attributes:
        if name.startswith("on"):
            found.append(f"{name} attribute on <{tag}>")
        if name in ("href", "src", "action", "formaction", "xlink:href", "data", "srcdoc", "style"):
            # the project's own inline styles (CSS variables allowed); never url() or expression()
            if name == "style" and re.fullmatch(r"[\w\s:;.%#,()-]*", value) and not re.search(
                    r"url|expression|image", value, re.I):
                continue
            url = _compact(value)
            if own_figures and tag == "img" and name == "src" and url.startswith("data:image/png;base64,"):
                continue
            # the answers file the project builds for *Save answers* in Voila: base64 JSON, downloaded
            if own_figures and tag == "a" and name == "href" and re.fullmatch(
                    r"data:application/json;base64,[A-Za-z0-9+/=]*", url):
                continue
            match = re.match(r"([A-Za-z][A-Za-z0-9+.\-]*):", url)
            if name in ("srcdoc", "data", "action", "formaction", "style") or not match \
                    or match.group(1).lower() not in ALLOWED_SCHEMES:
                found.append(f"{name}={value[:60]!r} on <{tag}>")
    text = "".join(collector.text)
    for source, label in ((text, "text"), (fragment, "markup")):
        unsafe = _UNSAFE_TEX.search(source)
        if unsafe:
            found.append(f"MathJax \\{unsafe.group(1)} in the {label}")
    invisible = _INVISIBLE.search(text)
    if invisible:
        found.append(f"invisible character U+{ord(invisible.group()):04X} in the text")
    return found


def audit_text(text: str) -> list[str]:
    """What in plain text (a widget label) could reach MathJax or spoof the reading order."""
    found = []
    unsafe = _UNSAFE_TEX.search(text)
    if unsafe:
        found.append(f"MathJax \\{unsafe.group(1)} in a label")
    invisible = _INVISIBLE.search(text)
    if invisible:
        found.append(f"invisible character U+{ord(invisible.group()):04X} in a label")
    return found


# jupyterquiz 2.9.6.4, js/helpers.js, jaxify(): the rewriting it does before setting innerHTML.
def jaxify(string: str) -> str:
    """A line-for-line port of jupyterquiz's ``jaxify`` (checked against the installed package)."""
    count = count2 = 0
    single, double = re.compile(r"([^\\]|^)(\$)"), re.compile(r"([^\\]|^)(\$\$)")
    while single.search(string) or double.search(string):
        if double.search(string):
            string = double.sub(lambda m: m.group(1) + ("\\]" if count2 % 2 else "\\["), string, count=1)
            count2 += 1
        else:
            string = single.sub(lambda m: m.group(1) + ("\\)" if count % 2 else "\\("), string, count=1)
            count += 1
    string = re.sub(r"<http(.*?)>", r'<a href="http\1" target="_blank" class="Quiz JQLink">http\1</a>', string)
    string = re.sub(r"\[(.*?)\]\((.*?)\)", r'<a href="\2" target="_blank" class="Quiz JQLink">\1</a>', string)
    return string


if __name__ == "__main__":
    print(f"wrote {write()} strings to {CORPUS.relative_to(HERE.parent)}")
