"""Interactive explorers for the lessons (the only module that imports ipywidgets).

Each explorer wires controls to the model and to a reused figure: a control
change re-simulates only when a model input changed, redraws only what moved,
and updates a plain-language summary that is also the image's alt text.
Ranges and defaults of model sliders come from ``assets/parameters.yaml``.

Display an explorer by making it the last expression of a cell; drive it from
Python by setting its controls' ``value`` (that is how the tests use it).
"""

from __future__ import annotations

import asyncio
import html

import anywidget
import ipywidgets as w
import traitlets

from .cases import case_names, load_case
from .describe import (describe_blood_film, describe_course, describe_lesion, describe_panel,
                       describe_standard_care)
from .markup import to_text
from .model import simulate
from .parameters import load_parameters
from .plots import CourseFigure, TrappingFigure, png_img_tag  # noqa: F401 (png_img_tag re-exported)
from .treatments import load_treatments, parse_treatment

__all__ = [
    "Slider",
    "IntSlider",
    "RadioGroup",
    "PageStyle",
    "PlateletTrappingExplorer",
    "LabPanelExplorer",
    "TreatmentPlanner",
    "PredictReveal",
    "SchematicExplorer",
    "parameter_slider",
]

_STYLE = {"description_width": "initial"}


#: Keys a control handles itself. JupyterLab 4 and Notebook 7 bind the arrow keys, Home/End
#: and Page Up/Down as notebook shortcuts: a key event that reaches them moves the notebook to
#: another cell instead of moving the control. Notebook 7 reads keys on the document in the
#: capture phase, before they reach the control, so stopping them at the control is too late:
#: one listener on the window (the first stop of the capture phase) stops these keys when they
#: are aimed at one of our controls. The browser's own handling of the key (moving a range
#: input, choosing the next radio button) is a default action and still happens.
_OWN_KEYS_JS = """
const OWN_KEYS = new Set(["ArrowLeft", "ArrowRight", "ArrowUp", "ArrowDown", "Home", "End",
                          "PageUp", "PageDown", " "]);
// our own controls, and ipywidgets controls given the class KEYS_CLASS (list boxes, tick boxes)
const CONTROLS = ".kms-slider input, .kms-radio input, .kms-keys input, .kms-keys select";
const GUARD = Symbol.for("kms-teach.own-keys");
if (!window[GUARD]) {
  window[GUARD] = true;
  window.addEventListener("keydown", (event) => {
    const target = event.target;
    if (OWN_KEYS.has(event.key) && !event.altKey && !event.ctrlKey && !event.metaKey
        && target instanceof Element && target.matches(CONTROLS)) {
      event.stopPropagation();
    }
  }, true);
}
"""

_SLIDER_ESM = _OWN_KEYS_JS + """
function render({ model, el }) {
  // A native range input inside its <label>: screen readers announce the label with the value,
  // and the arrow keys, Page Up/Down, Home and End work without any extra code.
  const label = document.createElement("label");
  label.className = "kms-slider";
  const text = document.createElement("span");
  text.className = "kms-slider-label";
  const input = document.createElement("input");
  input.type = "range";
  const readout = document.createElement("output");
  readout.className = "kms-slider-readout";
  label.append(text, input, readout);
  el.append(label);
  const show = (value) => {
    const decimals = model.get("readout_decimals");
    readout.textContent = Number(value).toFixed(decimals);
  };
  const sync = () => {
    text.textContent = model.get("description");
    input.min = model.get("min");
    input.max = model.get("max");
    input.step = model.get("step");
    input.value = model.get("value");
    input.disabled = model.get("disabled");
    show(model.get("value"));
  };
  input.addEventListener("input", () => {
    show(input.value);
    model.set("value", Number(input.value));
    model.save_changes();
  });
  for (const name of ["value", "min", "max", "step", "description", "readout_decimals", "disabled"]) {
    model.on(`change:${name}`, sync);
  }
  sync();
}
export default { render };
"""

#: Page-wide rules for every control on a page that shows a kms-teach widget (anywidget puts a
#: widget's CSS in the page head, once per widget class).
#: - Focus (widgets, and links and <details> in the lesson text): a 3 px ring in the theme's main text colour (black on JupyterLab's light theme,
#:   21:1 against white; white on the dark theme), set off by 2 px so that it lies on the page
#:   background and shows on blue buttons too. ipywidgets' own ring is 1 px and light blue.
#: - Lab reports inside widgets: Voila's stylesheet gives <pre> in widgets a proportional font,
#:   which breaks the columns.
_PAGE_CSS = """
.jupyter-widgets button:focus-visible, .jupyter-widgets input:focus-visible,
.jupyter-widgets select:focus-visible, .jupyter-widgets textarea:focus-visible,
.jupyter-widgets summary:focus-visible, .jupyter-widgets a:focus-visible,
.jupyter-widgets.jupyter-button:focus-visible, .kms-slider input[type=range]:focus-visible,
.kms-radio input[type=radio]:focus-visible,
.jp-RenderedHTMLCommon summary:focus-visible, .jp-RenderedHTMLCommon a:focus-visible {
  outline: 3px solid var(--jp-ui-font-color0, #111111) !important;
  outline-offset: 2px !important;
}
.jupyter-widgets pre, .widget-html-content pre, .widget-htmlmath-content pre {
  font-family: var(--jp-code-font-family, ui-monospace, "DejaVu Sans Mono", "Liberation Mono", monospace) !important;
}
/* Lesson text (Markdown cells) at most about 100 characters a line at any window width. */
.jp-MarkdownOutput p, .jp-MarkdownOutput li, .jp-MarkdownOutput blockquote, .jp-MarkdownOutput dd,
.jp-MarkdownOutput summary, .jp-MarkdownOutput h1, .jp-MarkdownOutput h2, .jp-MarkdownOutput h3,
.jp-MarkdownOutput h4 { max-width: 72ch; }
.jp-MarkdownOutput table { max-width: 90ch; }
"""

_SLIDER_CSS = _PAGE_CSS + """
/* One grid per slider with the same fixed label column, so that the tracks of the sliders of an
   explorer start at the same x and a long label wraps within its column instead of pushing the
   readout onto a line of its own. */
.kms-slider { display: grid; grid-template-columns: min(19em, 38%) minmax(140px, 1fr) 4.5em;
              align-items: center; column-gap: 0.8em; max-width: 820px;
              font-size: var(--jp-widgets-font-size, 13px); margin: 2px 0; }
.kms-slider input[type=range] { width: 100%; min-width: 0; margin: 0; }
.kms-slider-readout { font-variant-numeric: tabular-nums; }
"""


class Slider(anywidget.AnyWidget):
    """A labelled slider built on the browser's own range input.

    ipywidgets' slider handle has no accessible name (its label is not tied
    to it), which fails WCAG's "input has a name" rule; this one is a native
    ``<input type="range">`` inside its ``<label>``, so screen readers read
    the label and value and the keyboard works as everywhere else. Same
    ``value``, ``min``, ``max``, ``step`` and ``description`` as an ipywidgets
    slider; ``value`` changes while the thumb moves.
    """

    _esm = _SLIDER_ESM
    _css = _SLIDER_CSS
    value = traitlets.Float(0.0).tag(sync=True)
    min = traitlets.Float(0.0).tag(sync=True)
    max = traitlets.Float(100.0).tag(sync=True)
    step = traitlets.Float(0.1).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    readout_decimals = traitlets.Int(2).tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)

    @traitlets.validate("value")
    def _clip(self, proposal):
        return min(max(proposal["value"], self.min), self.max)


class IntSlider(Slider):
    """A :class:`Slider` of whole numbers (days, counts)."""

    value = traitlets.Int(0).tag(sync=True)
    min = traitlets.Int(0).tag(sync=True)
    max = traitlets.Int(100).tag(sync=True)
    step = traitlets.Int(1).tag(sync=True)
    readout_decimals = traitlets.Int(0).tag(sync=True)


_RADIO_ESM = _OWN_KEYS_JS + """
let groups = 0;

function render({ model, el }) {
  // Native radio buttons sharing one name inside a <fieldset>: the <legend> names the group,
  // Tab enters the group once and the arrow keys move the choice, as in any web form.
  const fieldset = document.createElement("fieldset");
  fieldset.className = "kms-radio";
  const legend = document.createElement("legend");
  legend.className = "kms-radio-label";
  fieldset.append(legend);
  el.append(fieldset);
  groups += 1;
  const name = `kms-radio-${groups}-${Math.random().toString(36).slice(2, 10)}`;
  let inputs = [];
  let pending = 0;  // choices sent to the kernel and not yet echoed back
  const check = () => {
    const index = model.get("index");
    fieldset.dataset.kernelIndex = index === null ? "" : String(index);  // what the kernel holds
    if (pending > 0) return;  // an older echo must not undo a newer choice on screen
    inputs.forEach((input, k) => { input.checked = k === index; });
  };
  const build = () => {
    for (const old of fieldset.querySelectorAll(".kms-radio-option")) old.remove();
    inputs = model.get("labels").map((text, k) => {
      const label = document.createElement("label");
      label.className = "kms-radio-option";
      const input = document.createElement("input");
      input.type = "radio";
      input.name = name;
      input.value = String(k);
      input.disabled = model.get("disabled");
      input.addEventListener("change", () => {
        if (!input.checked) return;
        // A message, not a state sync: ipywidgets holds back a state sync while an earlier one
        // is unanswered, so a quick "choose, then Check answer" could be graded on the old
        // choice. The kernel answers each choice with an index update.
        pending += 1;
        model.send({ choose: k });
      });
      const span = document.createElement("span");
      span.textContent = text;  // plain text, never markup
      label.append(input, span);
      fieldset.append(label);
      return input;
    });
    pending = 0;
    check();
  };
  const describe = () => {
    legend.textContent = model.get("description");
    fieldset.disabled = model.get("disabled");
  };
  model.on("change:labels", build);
  model.on("change:index", () => { pending = Math.max(0, pending - 1); check(); });
  model.on("change:description", describe);
  model.on("change:disabled", () => { describe(); build(); });
  describe();
  build();
}
export default { render };
"""

_RADIO_CSS = _PAGE_CSS + """
.kms-radio { border: 0; margin: 2px 0; padding: 0; min-width: 0;
             font-size: var(--jp-widgets-font-size, 13px); color: var(--jp-widgets-label-color, inherit); }
.kms-radio-label { padding: 0 0 0.3em 0; font-weight: 600; }
.kms-radio-option { display: flex; align-items: baseline; gap: 0.5em; padding: 0.15em 0; max-width: 820px;
                    cursor: pointer; }
.kms-radio-option input[type=radio] { margin: 0; flex: 0 0 auto; }
.kms-radio[disabled] .kms-radio-option { cursor: default; opacity: 0.6; }
"""


class RadioGroup(anywidget.AnyWidget):
    """A named group of radio buttons that keeps its arrow keys in every front end.

    Same Python interface as ``ipywidgets.RadioButtons`` for what the lessons use:
    ``options`` (labels, or ``(label, value)`` pairs), ``value`` (the chosen option's
    value, or None), ``index`` and ``description``. The view is native radio inputs in a
    ``<fieldset>`` whose ``<legend>`` is the description, so screen readers name the group
    and the arrow keys move the choice. ipywidgets' own radio buttons let the arrow keys
    bubble up to JupyterLab and Notebook 7, which move to another cell instead.
    """

    _esm = _RADIO_ESM
    _css = _RADIO_CSS
    labels = traitlets.List(traitlets.Unicode()).tag(sync=True)
    index = traitlets.Int(None, allow_none=True).tag(sync=True)
    description = traitlets.Unicode("").tag(sync=True)
    disabled = traitlets.Bool(False).tag(sync=True)
    options = traitlets.List()
    value = traitlets.Any(None, allow_none=True)

    def __init__(self, options=(), value=None, **kwargs):
        super().__init__(**kwargs)
        self.options = list(options)
        self.value = value
        self.on_msg(self._on_choose)

    def _on_choose(self, _widget, content, _buffers) -> None:
        """The learner chose option ``content["choose"]`` in the browser."""
        index = content.get("choose") if isinstance(content, dict) else None
        if isinstance(index, int) and 0 <= index < len(self.options) and not self.disabled:
            self.index = index

    @property
    def values(self) -> list:
        """The options' values, in the order shown."""
        return [option_value for _label, option_value in self.options]

    @traitlets.validate("options")
    def _pairs(self, proposal):
        pairs = []
        for option in proposal["value"]:
            if isinstance(option, (tuple, list)) and len(option) == 2:
                pairs.append((str(option[0]), option[1]))
            else:
                pairs.append((str(option), option))
        return pairs

    @traitlets.observe("options")
    def _options_changed(self, change):
        self.labels = [label for label, _value in change["new"]]
        if self.value is not None and self.value in self.values:
            self.index = self.values.index(self.value)
        else:
            self.value = None
            self.index = None

    @traitlets.validate("value")
    def _known_value(self, proposal):
        value = proposal["value"]
        if value is not None and value not in self.values:
            raise traitlets.TraitError(f"{value!r} is not one of the options; valid values: {self.values}")
        return value

    @traitlets.observe("value")
    def _value_changed(self, change):
        self.index = None if change["new"] is None else self.values.index(change["new"])

    @traitlets.validate("index")
    def _known_index(self, proposal):
        index = proposal["value"]
        if index is not None and not 0 <= index < len(self.options):
            raise traitlets.TraitError(f"index {index} is out of range 0-{len(self.options) - 1}")
        return index

    @traitlets.observe("index")
    def _index_changed(self, change):  # a choice made in the browser
        self.value = None if change["new"] is None else self.values[change["new"]]

    @property
    def label(self) -> str | None:
        """The chosen option's label (None if nothing is chosen)."""
        return None if self.index is None else self.options[self.index][0]


#: Give an ipywidgets list box, tick box or radio button group this DOM class (``_dom_classes``)
#: to keep its arrow keys and Space in JupyterLab and Notebook 7 (see ``_OWN_KEYS_JS``).
KEYS_CLASS = "kms-keys"


class PageStyle(anywidget.AnyWidget):
    """Draws nothing; puts the page-wide focus ring, monospace lab report rules and key guard in the page.

    Every explorer and quiz includes one, so these apply even where no slider or radio group
    is on screen (anywidget adds a widget's CSS to the page head once per class). The key
    guard keeps the arrow keys and Space of our controls, and of ipywidgets controls with the
    class :data:`KEYS_CLASS`, from reaching the notebook's shortcuts.
    """

    _esm = _OWN_KEYS_JS + "export default { render({ el }) { el.style.display = 'none'; } };"
    _css = _PAGE_CSS


def parameter_slider(name: str, **overrides) -> Slider:
    """A slider for one model parameter, built from the parameter table.

    The description carries the plain label and unit; min, max and the
    starting value are the table's range and default, so a slider can never
    disagree with the model.
    """
    p = load_parameters()[name]
    span = p.high - p.low
    options = dict(
        min=p.low, max=p.high, value=p.value, step=round(span / 100, 6) or 0.01,
        description=f"{p.label} ({p.unit})", readout_decimals=2,
    )
    options.update(overrides)
    return Slider(**options)


#: Inline style of a lab report: monospace even where the page's CSS does not reach (the columns
#: of flags and ranges only line up in a fixed-width font).
REPORT_PRE_STYLE = "font-size:12px;line-height:1.3;font-family:var(--jp-code-font-family,monospace)"


def _platelet_scale_toggle() -> w.ToggleButtons:
    """Platelet axis: 0-500 (the whole range) or a log axis that keeps low counts apart (zoom)."""
    return w.ToggleButtons(options=[("0-500 axis", "linear"), ("Log axis (low counts)", "log")], value="linear",
                           description="Platelet axis", style=_STYLE,
                           tooltips=["Platelets on a 0-500 axis", "Platelets on a log axis: 10 and 20 are far apart"])


def _text_block(text: str) -> str:
    return f'<pre style="{REPORT_PRE_STYLE}">{html.escape(text)}</pre>'


def _summary_html(text: str) -> str:
    # role=status makes screen readers announce the new summary after a change
    return f'<div role="status" aria-live="polite"><strong>Summary:</strong> {html.escape(text)}</div>'


def _toggle_play(explorer, change, play_course) -> None:
    """Start or stop stepping an explorer's day slider from the kernel (the Play toggle's handler)."""
    _show_play_state(explorer.play, change["new"])  # the button says what pressing it does next
    if not change["new"]:
        return
    if explorer.day.value >= explorer.day.max:
        explorer.day.value = 0
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:  # no event loop (a plain script): nothing can run in the background
        explorer.play.value = False
        return
    explorer._player = loop.create_task(play_course())


class _Explorer:
    """Shared display plumbing: an explorer shows as its ``widget``."""

    widget: w.Widget

    def _repr_mimebundle_(self, **kwargs):
        bundle = self.widget._repr_mimebundle_(**kwargs)
        data = bundle[0] if isinstance(bundle, tuple) else bundle
        data["text/plain"] = repr(self)  # static views show a sentence, not widget internals
        return bundle

    def _simulate(self):  # explorers that run the model override this
        pass

    def _draw(self):
        raise NotImplementedError

    def _on_model_change(self, _change=None):
        """A model input changed: re-simulate, then redraw."""
        self._simulate()
        self._draw()

    def _on_view_change(self, _change=None):
        """Only the view changed (day, units): redraw without simulating."""
        self._draw()

    def __repr__(self) -> str:  # deterministic text for notebook checks
        return f"<{type(self).__name__}: interactive explorer; run the notebook to use it>"


class PlateletTrappingExplorer(_Explorer):
    """Step through the days after a tumour becomes active and watch platelets being trapped.

    Parameters
    ----------
    case : str
        Case to follow (default ``"khe-onset"``: a healthy newborn whose tumour
        becomes active in week two).
    days : int
        Length of the course, days.
    """

    def __init__(self, case: str = "khe-onset", days: int = 60):
        self.case = load_case(case)
        self.days = int(days)
        self.figure = TrappingFigure()
        self.day = IntSlider(min=0, max=self.days, value=0,
                             description="Day since birth" if self.case.age_days == 0 else "Day")
        # Played from the kernel: ipywidgets' Play control draws icon-only buttons with no name.
        self.play = w.ToggleButton(value=False, description="Play the course", icon="play",
                                   tooltip="Advance one day every 0.4 seconds; press again to pause")
        self.play.observe(self._on_play, names="value")
        self.step = w.Button(description="Next day", tooltip="Advance one day", icon="")
        self.step.on_click(self._next_day)
        self.activity = Slider(min=0.0, max=2.0, step=0.05, value=self.case.activity.severity,
                               description="Tumour activity at full growth (1 = typical KMS)")
        self.trapping = parameter_slider("platelet_trapping")
        self.platelet_scale = _platelet_scale_toggle()
        self.platelet_scale.observe(self._on_scale, names="value")
        self.image = w.HTML()
        self.summary = w.HTML()
        self.report = w.HTML()
        self.result = None
        for control in (self.activity, self.trapping):
            control.observe(self._on_model_change, names="value")
        self.day.observe(self._on_view_change, names="value")
        self._simulate()
        self._draw()
        self.widget = w.VBox([
            w.HBox([self.play, self.step]), self.day, self.activity, self.trapping, self.platelet_scale,
            self.image, self.summary, self.report, PageStyle(),
        ])

    def _on_scale(self, change):
        self.figure.set_platelet_scale(change["new"])
        self._draw()

    def trapped_fraction(self, day: float) -> float:
        """Share (0-1) of platelets leaving the blood that the tumour takes on ``day``."""
        p = self.result.parameters
        i = self.result.index(day)
        trap = p["platelet_trapping"] * float(self.result.tumour_activity[i])
        return trap / (trap + 1.0 / p["platelet_lifespan"])

    def _next_day(self, _button=None):
        self.day.value = min(self.day.max, self.day.value + 1)

    PLAY_INTERVAL = 0.4  # seconds per day while playing

    def _on_play(self, change):
        _toggle_play(self, change, self.play_course)

    async def play_course(self) -> None:
        """Advance one day every :attr:`PLAY_INTERVAL` seconds until the end or a pause."""
        while self.play.value and self.day.value < self.day.max:
            await asyncio.sleep(self.PLAY_INTERVAL)
            if self.play.value:
                self._next_day()
        self.play.value = False

    def _simulate(self):
        self.result = simulate(self.case, days=self.days, every_hours=6,
                               parameters={"platelet_trapping": self.trapping.value}, severity=self.activity.value)

    def _draw(self):
        day = self.day.value
        text = describe_course(self.result, "platelets", 0, day)
        share = self.trapped_fraction(day)
        text += f" On day {day} the tumour catches {share:.0%} of the platelets leaving the blood."
        png = self.figure.render(self.result, day, share)
        self.image.value = png_img_tag(png, text)
        self.summary.value = _summary_html(text)
        self.report.value = _text_block(str(self.result.lab_panel(day)))


def _show_play_state(button: w.ToggleButton, playing: bool | None = None) -> None:
    """A playing Play button reads Pause (label, icon and tooltip), so its state is never only a shade."""
    if button.value if playing is None else playing:
        button.description, button.icon, button.tooltip = "Pause the course", "pause", "Pause the course"
    else:
        button.description, button.icon = "Play the course", "play"
        button.tooltip = "Advance one day every 0.4 seconds; press again to pause"


class SchematicExplorer(_Explorer):
    """Schematic pictures of one course: a blood film and the lesion, day by day.

    The blood film's platelet dots follow the count, large young platelets
    appear only while the marrow's output is raised and red-cell fragments stay
    few; the lesion's size follows tumour mass (shrinking as it regresses on
    treatment), its colour the tumour's activity. Both are labelled schematic
    and carry alt text from :mod:`kms_teach.describe`.

    Parameters
    ----------
    case : str
        Case to follow (default ``"khe-kms"``, day 0 = diagnosis).
    plan : sequence of str, optional
        Treatments as ``NAME@START`` or ``NAME@START-STOP`` (default none).
    days : int
        Length of the course, days (up to 730).
    """

    def __init__(self, case: str = "khe-kms", plan=(), days: int = 182):
        from .pictures import BloodFilmFigure, LesionFigure  # only lessons that show pictures pay for them

        self.case = load_case(case)
        self.plan = list(plan or ())
        self.days = int(days)
        if not 1 <= self.days <= 730:
            raise ValueError(f"SchematicExplorer: days must be 1-730, not {days}")
        self.film, self.lesion = BloodFilmFigure(), LesionFigure()
        # Daily samples are enough for pictures; 6-hourly ones on short courses keep early days exact.
        self.result = simulate(self.case, self.plan, days=self.days, every_hours=6.0 if self.days <= 84 else 24.0)
        self.day = IntSlider(min=0, max=self.days, value=0, description="Day")
        self.play = w.ToggleButton(value=False, description="Play the course", icon="play",
                                   tooltip="Advance one day every 0.4 seconds; press again to pause")
        self.play.observe(self._on_play, names="value")
        self.film_image, self.lesion_image = w.HTML(), w.HTML()
        self.summary = w.HTML()
        self.day.observe(self._on_view_change, names="value")
        self._draw()
        plan_text = ", ".join(self.plan) or "no treatment"
        self.widget = w.VBox([
            w.HTML(f"<p><strong>{html.escape(self.case.title)}</strong>; plan: {html.escape(plan_text)}. "
                   "Pictures are schematic drawings from the model, not photographs.</p>"),
            w.HBox([self.play]), self.day, w.HBox([self.film_image, self.lesion_image]), self.summary,
        ], layout=w.Layout(max_width="52em"))

    PLAY_INTERVAL = 0.4

    @property
    def step_days(self) -> int:
        """Days advanced per Play step (longer courses move faster)."""
        return 1 if self.days <= 84 else 7

    def _on_play(self, change):
        _toggle_play(self, change, self._play_course)

    async def _play_course(self) -> None:
        while self.play.value and self.day.value < self.day.max:
            await asyncio.sleep(self.PLAY_INTERVAL)
            if self.play.value:
                self.day.value = min(self.day.max, self.day.value + self.step_days)
        self.play.value = False

    def _draw(self):
        day = self.day.value
        film_text = describe_blood_film(self.result, day)
        lesion_text = describe_lesion(self.result, day)
        self.film_image.value = png_img_tag(self.film.render(self.result, day), film_text)
        self.lesion_image.value = png_img_tag(self.lesion.render(self.result, day), lesion_text)
        self.summary.value = _summary_html(f"{film_text} {lesion_text}")


class LabPanelExplorer(_Explorer):
    """The whole lab panel over time with normal-for-age bands and flags.

    Parameters
    ----------
    case : str
        Starting case; a dropdown switches between all built-in cases.
    days : int
        Length of each course, days.
    """

    LABS = ("platelets", "fibrinogen", "d_dimer", "hemoglobin", "pt", "aptt")

    def __init__(self, case: str = "khe-onset", days: int = 60):
        self.days = int(days)
        self.figure = CourseFigure(self.LABS, columns=3, width_px=900, main_label="course")
        self.case = w.Dropdown(options=case_names(), value=case, description="Case", style=_STYLE)
        self.day = IntSlider(min=0, max=self.days, value=0, description="Day")
        self.units = w.ToggleButtons(options=[("SI units", "SI"), ("Conventional units", "conventional")],
                                     value="SI", description="Report units", style=_STYLE)
        self.platelet_scale = _platelet_scale_toggle()
        self.narrative = w.HTML()
        self.image = w.HTML()
        self.summary = w.HTML()
        self.report = w.HTML()
        self.case.observe(self._on_model_change, names="value")
        self.day.observe(self._on_view_change, names="value")
        self.units.observe(self._on_view_change, names="value")
        self.platelet_scale.observe(self._on_view_change, names="value")
        self._drawn_result = None
        self._simulate()
        self._draw()
        self.widget = w.VBox([self.case, self.narrative, self.day, self.units, self.platelet_scale,
                              self.image, self.summary, self.report, PageStyle()])

    def _simulate(self):
        case = load_case(self.case.value)
        self.result = simulate(case, days=self.days, every_hours=6)
        self.narrative.value = f"<p><em>{html.escape(case.title)}.</em> {html.escape(case.narrative)}</p>"

    def _draw(self):
        day = self.day.value
        panel = self.result.lab_panel(day, units=self.units.value)
        text = f"Day {day}. " + describe_standard_care(load_case(self.case.value)) + describe_panel(panel)
        # the axes follow the report's units and the chosen platelet axis; a change redraws the course
        restyled = (self.figure.units, self.figure.platelet_scale) != (self.units.value, self.platelet_scale.value)
        self.figure.set_units(self.units.value)
        self.figure.set_platelet_scale(self.platelet_scale.value)
        course = self.result if (restyled or self._drawn_result is not self.result) else None
        self._drawn_result = self.result
        self.image.value = png_img_tag(self.figure.render(course, day), text)
        self.summary.value = _summary_html(text)
        self.report.value = _text_block(str(panel))


class TreatmentPlanner(_Explorer):
    """Plan drugs, procedures and transfusions and compare the course with no treatment.

    Parameters
    ----------
    case : str
        Case to treat (default ``"khe-kms"``, day 0 = diagnosis).
    days : int
        Length of the course, days.
    """

    LABS = ("platelets", "fibrinogen", "d_dimer", "hemoglobin")

    #: Course lengths offered, up to the usual two years of treatment.
    COURSE_LENGTHS = (("4 weeks", 28), ("12 weeks", 84), ("6 months", 182), ("1 year", 365), ("2 years", 730))

    def __init__(self, case: str = "khe-kms", days: int = 84):
        self.case = load_case(case)
        self.days = int(days)
        self.catalogue = load_treatments()
        self.figure = CourseFigure(self.LABS, columns=2, width_px=820, main_label="with your plan",
                                   comparison_label="untreated", previous_label="previous plan")
        self.previous = None  # the course before the last change of plan, drawn faintly to compare
        self._quiet = False
        lengths = dict(self.COURSE_LENGTHS)
        if self.days not in lengths.values():
            lengths[f"{self.days} days"] = self.days
        self.length = w.Dropdown(options=sorted(lengths.items(), key=lambda kv: kv[1]), value=self.days,
                                 description="Course length", style=_STYLE)
        self.length.observe(self._on_length_change, names="value")
        self.choices, self.start_days, self.stop_days = {}, {}, {}
        rows = []
        for name, treatment in self.catalogue.items():
            box = w.Checkbox(value=False, description=to_text(treatment.label), indent=False,  # MathJax typesets labels
                             layout=w.Layout(width="230px"))
            start = w.BoundedIntText(value=0, min=0, max=self.days - 1, description="from day",
                                     style=_STYLE, layout=w.Layout(width="140px"))
            controls = [box, start]
            box.observe(self._on_plan_change, names="value")
            start.observe(self._on_plan_change, names="value")
            if treatment.kind in ("drug", "anticoagulant") or (treatment.kind == "procedure" and not treatment.removes_tumour):
                # 0 = given to the end of the course
                stop = w.BoundedIntText(value=0, min=0, max=self.days, description="until day (0 = end)",
                                        style=_STYLE, layout=w.Layout(width="190px"))
                stop.observe(self._on_plan_change, names="value")
                self.stop_days[name] = stop
                controls.append(stop)
            self.choices[name], self.start_days[name] = box, start
            rows.append(w.HBox(controls))
        self.day = IntSlider(min=0, max=self.days, value=min(28, self.days), description="Day")
        self.day.observe(self._on_view_change, names="value")
        self.platelet_scale = _platelet_scale_toggle()
        self.platelet_scale.observe(self._on_scale, names="value")
        self.image = w.HTML()
        self.summary = w.HTML()
        self.cautions = w.HTML()
        self.report = w.HTML()
        self.problem = w.HTML()
        self.untreated = simulate(self.case, days=self.days, every_hours=self._every())
        self._simulate()
        self._draw()
        self.widget = w.VBox([
            w.HTML("<strong>Your plan</strong> (tick a treatment, choose its start day and, for a drug, "
                   "the day it stops)"),
            self.length,
            w.GridBox(rows, layout=w.Layout(grid_template_columns="repeat(2, 420px)")),
            self.problem, self.day, self.platelet_scale, self.image, self.summary, self.cautions, self.report,
            PageStyle(),
        ])

    def _on_scale(self, change):
        self.figure.set_platelet_scale(change["new"])
        self._draw()

    def _every(self) -> float:
        # 6-hourly samples show a transfusion's brief rise; daily samples keep long courses light
        return 6.0 if self.days <= 182 else 24.0

    @property
    def plan(self) -> list[str]:
        """The current plan as ``NAME@START`` or ``NAME@START-STOP`` strings."""
        plan = []
        for name, box in self.choices.items():
            if not box.value:
                continue
            start = self.start_days[name].value
            stop = self.stop_days[name].value if name in self.stop_days else 0
            plan.append(f"{name}@{start}-{stop}" if stop > start else f"{name}@{start}")
        return plan

    def set_plan(self, plan) -> None:
        """Tick exactly the treatments in ``plan`` (``NAME``, ``NAME@DAY`` or ``NAME@START-STOP`` strings)."""
        wanted = {}
        for item in plan:
            name, _, days = item.partition("@")
            start, _, stop = (days or "0").partition("-")
            wanted[name] = (int(float(start or 0)), int(float(stop)) if stop else 0)
        self._quiet = True  # one simulation for the whole plan, not one per control
        try:
            for name, box in self.choices.items():
                box.value = name in wanted
                if name in wanted:
                    self.start_days[name].value = wanted[name][0]
                    if name in self.stop_days:
                        self.stop_days[name].value = wanted[name][1]
        finally:
            self._quiet = False
        self._simulate()
        self._draw()

    def _on_length_change(self, change):
        self.days = int(change["new"])
        self._quiet = True
        try:
            for name, start in self.start_days.items():
                start.max = self.days - 1
                if name in self.stop_days:
                    self.stop_days[name].max = self.days
            self.day.max = self.days
            self.day.value = min(self.day.value, self.days)
        finally:
            self._quiet = False
        self.untreated = simulate(self.case, days=self.days, every_hours=self._every())
        self._on_model_change()

    def _simulate(self):
        try:
            before = getattr(self, "result", None)
            self.result = simulate(self.case, self.plan, days=self.days, every_hours=self._every())
            self.previous = before if before is not None and len(before.day) == len(self.result.day) else None
            self.problem.value = ""
        except ValueError as exc:  # e.g. a stop day before the start day: say so, keep the last course
            self.problem.value = f'<p role="alert"><strong>Plan not run:</strong> {html.escape(str(exc))}</p>'
            if not hasattr(self, "result"):
                self.result = self.untreated

    def _on_plan_change(self, _change):
        if not self._quiet:
            self._on_model_change()

    def _draw(self):
        day = self.day.value
        plan = ", ".join(self.plan) or "no treatment"
        parts = [describe_course(self.result, lab, 0, day) for lab in ("platelets", "fibrinogen")]
        when = f"Day {day} (week {day // 7}, month {day / 30.4375:.1f}). " if self.days > 84 else ""
        text = f"{when}Plan: {plan}. " + describe_standard_care(self.case) + " ".join(parts)
        png = self.figure.render(self.result, day, comparison=self.untreated, previous=self.previous)
        self.image.value = png_img_tag(png, text)
        self.summary.value = _summary_html(text)
        notes = []
        for n, box in self.choices.items():
            if not box.value:
                continue
            tr = self.catalogue[n]
            dose = (f" Dose: {html.escape(parse_treatment(n).dose_text(self.case.weight_kg))}."
                    if tr.kind == "transfusion" else "")
            notes.append(f"<li><strong>{html.escape(tr.label)}</strong>: {html.escape(tr.harms)}{dose} "
                         f"<em>({html.escape(tr.citation)})</em></li>")
        self.cautions.value = f"<p><strong>Cautions</strong></p><ul>{''.join(notes)}</ul>" if notes else ""
        self.report.value = _text_block(str(self.result.lab_panel(day)))


class PredictReveal(_Explorer):
    """Ask for a prediction, judge it, then show the explanation and what the model shows.

    ``PredictReveal("activity-doubles")`` takes the question and options from
    ``assets/predictions.yaml``; the right answer and the explanation stay in
    the kernel until the learner presses *Reveal*, so neither is in the
    notebook's code nor on the page before then. The first choice is judged
    right or wrong, recorded in the lesson's answers file (quiz id
    ``predictions-lesson-NN``) and locked; the verdict comes before the
    explanation.

    Parameters
    ----------
    prediction : str
        Id of a prediction in ``assets/predictions.yaml``. (Deprecated: the
        question text, with ``options`` and ``explanation`` given as well; such
        a prediction has no right answer, so it is neither judged nor recorded.)
    options, explanation : optional
        Deprecated path only (kms-teach 0.1 lessons).
    observe : widget, explorer, text, lab panel, list of these, or callable, optional
        What the learner observes after revealing (for example the lesson's
        demonstration): shown only after *Reveal*. Text and lab panels are
        shown as fixed-width blocks. A callable is called then, so nothing of
        it exists before.
    answers_file : str, optional
        Answers file that records the choice (default: the lesson's,
        ``answers-lesson-NN.json``, shared with the lesson's quiz).
    """

    def __init__(self, prediction: str, options=None, explanation: str | None = None, *,
                 observe=None, answers_file: str | None = None):
        from .progress import answer_book, default_answers_file
        from .predictions import prediction as find_prediction, predictions_version

        if options is None:
            self.prediction = find_prediction(prediction)
            question, choices = self.prediction.question, self.prediction.options
            self.explanation = f"{self.prediction.explanation} ({self.prediction.citation})"
            self.book = answer_book(answers_file or default_answers_file(self.prediction.lesson))
            self._version = predictions_version()
            self.book.on_restore(self._restore)
        else:
            import warnings
            warnings.warn("PredictReveal(question, options, explanation) is deprecated: put the prediction in "
                          "assets/predictions.yaml and use PredictReveal('ID')", PendingDeprecationWarning,
                          stacklevel=2)
            if explanation is None:
                raise ValueError("PredictReveal: give a prediction id, or question, options and explanation")
            self.prediction, self.book = None, None
            question, choices, self.explanation = prediction, list(options), explanation
        self._observe = observe
        self.verdict: bool | None = None  # True right, False wrong, None not yet judged (or no answer known)
        self.revealed = False
        self.question = w.HTML(f'<p class="kms-text"><strong>Predict:</strong> {html.escape(question)}</p>')
        # values: option indices (judged against the answer); the deprecated path keeps its texts as values
        values = [(text, i) for i, text in enumerate(choices)] if self.prediction is not None else list(choices)
        self.choice = RadioGroup(options=values, value=None, description="Your prediction")
        self.button = w.Button(description="Reveal", disabled=True,
                               tooltip="Commit to your prediction, see whether it is right, then the explanation")
        self.feedback = w.HTML()
        self.observation = w.VBox()
        self.choice.observe(self._on_choice, names="value")
        self.button.on_click(self.reveal)
        self.widget = w.VBox([self.question, self.choice, self.button, self.feedback, self.observation, PageStyle()],
                             layout=w.Layout(max_width="52em"))

    def _on_choice(self, change) -> None:
        self.button.disabled = change["new"] is None or self.revealed

    def predict(self, option) -> None:
        """Choose an option by index or by its text, as a learner would."""
        labels = [o[0] if isinstance(o, tuple) else o for o in self.choice.options]
        index = labels.index(option) if isinstance(option, str) else int(option)
        self.choice.value = self.choice.options[index][1] if self.prediction is not None else labels[index]

    def reveal(self, _button=None) -> None:
        """Judge the chosen prediction, record it, lock it, then show the explanation and the observation."""
        if self.revealed:
            return
        if self.choice.value is None:
            self.feedback.value = '<div role="status" aria-live="polite"><p>Choose a prediction first.</p></div>'
            return
        picked = self.choice.value
        if self.prediction is not None:
            self.verdict = self.prediction.judge(picked)
            self.book.answers.record_attempt(
                self.prediction.quiz_id, self.prediction.id, int(picked), float(self.verdict), self.verdict,
                bank_version=self._version, title=f"Predictions, lesson {self.prediction.lesson:02d}",
                lesson=self.prediction.lesson)
            self.book.changed()
        self._show(picked)

    def _show(self, picked: int) -> None:
        self.revealed = True
        self.choice.disabled = True  # a prediction is made once: it cannot be changed after the answer is out
        self.button.disabled = True
        chosen = self.choice.options[picked][0] if self.prediction is not None else str(picked)
        if self.verdict is None:
            verdict = f"<p>You predicted: <em>{html.escape(chosen)}</em>.</p>"
        elif self.verdict:
            verdict = f"<p><strong>Right.</strong> You predicted: <em>{html.escape(chosen)}</em>.</p>"
        else:
            verdict = (f"<p><strong>Not right.</strong> You predicted: <em>{html.escape(chosen)}</em>. "
                       f"The answer: <em>{html.escape(self.prediction.answer_text)}</em>.</p>")
        self.feedback.value = (f'<div role="status" aria-live="polite" class="kms-text">{verdict}'
                               f"<p>{html.escape(self.explanation)}</p></div>")
        shown = self._observe() if callable(self._observe) and not isinstance(self._observe, w.Widget) else self._observe
        if shown is not None:
            items = shown if isinstance(shown, (list, tuple)) else [shown]
            views = []
            for item in items:
                item = getattr(item, "widget", item)
                # text, a lab panel or a sentence from kms_teach.describe: shown as a fixed-width block
                views.append(item if isinstance(item, w.Widget) else w.HTML(_text_block(str(item))))
            self.observation.children = (w.HTML("<p><strong>Now observe:</strong></p>"), *views)

    def _restore(self, book) -> None:
        """A loaded answers file holds this prediction: show it as judged (the first choice counts)."""
        if self.revealed or self.prediction is None:
            return
        first = book.answers.first_attempts(self.prediction.quiz_id).get(self.prediction.id)
        response = None if first is None else first.get("response")
        if isinstance(response, int) and not isinstance(response, bool) and 0 <= response < len(self.choice.options):
            self.verdict = self.prediction.judge(response)
            self.choice.value = response
            self._show(response)
