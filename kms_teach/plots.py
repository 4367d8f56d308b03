"""Figures for the lessons: time courses with normal-for-age bands.

Plots never run a simulation: they take results and draw them. Each figure is
one reused matplotlib ``Figure`` (no pyplot, fixed margins). Static parts
(axes, bands, labels) are drawn once and cached as a background; a frame
restores that background, draws only the changing artists and encodes the
Agg buffer as PNG, which keeps a slider update to a few milliseconds.

Colours come from the Okabe-Ito palette, safe for colour-blind readers, and
every flag is also shown by marker shape and letter, never by colour alone.
"""

from __future__ import annotations

import base64
import html
import io

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from PIL import Image

from . import labs
from .describe import LAB_NAMES

__all__ = ["PALETTE", "FastFigure", "CourseFigure", "TrappingFigure", "png_img_tag", "AXIS"]

#: Okabe-Ito colour-blind-safe palette.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "vermillion": "#D55E00",
    "green": "#009E73",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
    "grey": "#999999",
}
#: Fixed axis limits and scale per lab, so the cached background stays valid.
#: Haemoglobin is in g/L, the unit of the SI report (see :data:`DISPLAY`).
AXIS = {
    "platelets": (0, 500, "linear"),
    "fibrinogen": (0, 4.5, "linear"),
    "d_dimer": (0.05, 100, "log"),
    "hemoglobin": (40, 200, "linear"),
    "pt": (8, 40, "linear"),
    "aptt": (20, 120, "linear"),
}
#: A log platelet axis that keeps counts of 5-50 x10^9/L apart (the zoom for low counts).
PLATELETS_LOG_AXIS = (5, 1000, "log")
#: Figure units that differ from the model's: lab -> (factor from model units, unit shown).
DISPLAY = {"hemoglobin": (10.0, "g/L")}
#: Colours in each PNG frame (see :meth:`FastFigure.render_png`).
PNG_COLOURS = 128
#: The palette's fixed entries: white and every named colour, as flat R, G, B values.
_NAMED_RGB = [channel for colour in ("#ffffff", *PALETTE.values())
              for channel in bytes.fromhex(colour.lstrip("#"))]
_MARKERS = {"": "o", "L": "v", "LL": "v", "H": "^", "HH": "^"}
#: Transfusions are marked on the time axis: their rise lasts hours and can fall between samples.
TRANSFUSIONS = ("platelet-transfusion", "red-cell-transfusion", "cryoprecipitate", "fresh-frozen-plasma")


#: The same in conventional units (the report's other choice): haemoglobin stays g/dL.
DISPLAY_CONVENTIONAL = {}


def display_values(lab: str, values, units: str = "SI"):
    """Model values in the unit the figure shows (haemoglobin g/dL -> g/L for the SI report)."""
    factor = (DISPLAY if units == "SI" else DISPLAY_CONVENTIONAL).get(lab, (1.0, None))[0]
    return np.asarray(values, dtype=float) * factor if factor != 1.0 else values


def display_title(lab: str, units: str = "SI") -> str:
    """Panel title: the lab and the unit the figure shows, typeset (x10^9/L as ×10⁹/L)."""
    name, unit = LAB_NAMES[lab]
    unit = (DISPLAY if units == "SI" else DISPLAY_CONVENTIONAL).get(lab, (1.0, unit))[1] or unit
    return f"{name} ({unit.replace('x10^9/L', '×10⁹/L')})"


def _flag_offset(ax):
    """Flag letters sit 5 points right of and above their marker, off the line and the day cursor."""
    from matplotlib.transforms import offset_copy

    return offset_copy(ax.transData, fig=ax.figure, x=5, y=4, units="points")


def png_img_tag(png: bytes, alt: str, width: int | None = None) -> str:
    """An ``<img>`` element embedding ``png`` with escaped ``alt`` text."""
    size = f' width="{width}"' if width else ""
    data = base64.b64encode(png).decode("ascii")
    return f'<img src="data:image/png;base64,{data}" alt="{html.escape(alt, quote=True)}"{size} style="max-width:100%;height:auto">'


class FastFigure:
    """A figure redrawn by restoring a cached background and drawing only dynamic artists."""

    def __init__(self, width_px: int, height_px: int, dpi: int = 100):
        self.figure = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
        self.canvas = FigureCanvasAgg(self.figure)
        self.dynamic: list = []
        self._slow: set[int] = set()  # ids of dynamic artists that change with the course, not the day
        self._background = None
        self._backgrounds = {}  # backgrounds kept per time axis by figures that switch between several
        self._layer = None  # background plus the slow artists, reused while only the day moves

    def animate(self, artist, slow: bool = False):
        """Register an artist that changes between frames.

        ``slow`` artists (a course, its bands) change only when the course does: they are drawn
        once onto a cached layer, and a frame that only moves the day draws just the fast ones.
        Call :meth:`restyle` after changing a slow artist.
        """
        artist.set_animated(True)
        self.dynamic.append(artist)
        if slow:
            self._slow.add(id(artist))
        return artist

    def restyle(self) -> None:
        """A slow artist changed: redraw the course layer on the next frame."""
        self._layer = None

    def invalidate(self) -> None:
        """Forget the cached backgrounds (call after changing static artists)."""
        self._background = None
        self._backgrounds = {}
        self._layer = None

    def render_png(self) -> bytes:
        """Draw the current frame and return it as PNG bytes."""
        if self._background is None:
            self.canvas.draw()  # animated artists are skipped here
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
            self._layer = None
        if self._layer is None:
            self.canvas.restore_region(self._background)
            for artist in self.dynamic:
                if id(artist) in self._slow and artist.get_visible():
                    self.figure.draw_artist(artist)
            self._layer = self.canvas.copy_from_bbox(self.figure.bbox) if self._slow else self._background
        else:
            self.canvas.restore_region(self._layer)
        for artist in self.dynamic:
            if id(artist) not in self._slow and artist.get_visible():
                self.figure.draw_artist(artist)
        width, height = self.canvas.get_width_height()
        image = Image.frombuffer("RGBA", (width, height), self.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
        out = io.BytesIO()
        # A 128-colour palette image: compressing full RGB costs ~12 ms for a 900x460 figure and
        # sends twice the bytes. The palette is chosen from every third pixel each way (0.9 ms
        # against 3.7 ms for every pixel, same error), always with white and the named colours,
        # which a 1-px line could otherwise hide between the sampled pixels.
        rgb = image.convert("RGB")
        sample = rgb.resize((max(1, width // 3), max(1, height // 3)), Image.Resampling.NEAREST)
        chosen = sample.quantize(colors=PNG_COLOURS - len(_NAMED_RGB) // 3, method=Image.Quantize.FASTOCTREE)
        palette = Image.new("P", (1, 1))
        palette.putpalette(_NAMED_RGB + chosen.getpalette()[:3 * (PNG_COLOURS - len(_NAMED_RGB) // 3)])
        rgb.quantize(palette=palette, dither=Image.Dither.NONE).save(out, format="PNG", compress_level=1)
        return out.getvalue()


def _platelet_axis(ax, scale: str) -> None:
    """Set a platelet axis to the linear 0-500 view or the log view that keeps low counts readable."""
    low, high, kind = AXIS["platelets"] if scale == "linear" else PLATELETS_LOG_AXIS
    ax.set_yscale(kind)
    ax.set_ylim(low, high)
    if kind == "log":
        from matplotlib.ticker import FixedLocator, NullLocator, ScalarFormatter
        ax.yaxis.set_major_locator(FixedLocator([5, 10, 20, 50, 100, 200, 500, 1000]))
        ax.yaxis.set_major_formatter(ScalarFormatter())
        ax.yaxis.set_minor_locator(NullLocator())


def _log_minor_ticks(ax) -> None:
    """Unlabelled minor ticks at 2 and 5 of each decade only.

    Matplotlib's default puts one at every integer multiple (40 on the D-dimer axis): each tick
    is five artists, about 3 MB of a lesson kernel per figure, for marks no one reads.
    """
    from matplotlib.ticker import LogLocator, NullFormatter

    ax.yaxis.set_minor_locator(LogLocator(base=10, subs=(2.0, 5.0)))
    ax.yaxis.set_minor_formatter(NullFormatter())


def _time_ticks(ax, last_day: float) -> None:
    """Label a long time axis in weeks or months, so a 2-year course reads at a glance."""
    from matplotlib.ticker import AutoLocator, FixedLocator, ScalarFormatter

    if last_day > 182:
        step = 3 if last_day <= 400 else 6
        months = np.arange(0, last_day / 30.4375 + 1e-9, step)
        ax.xaxis.set_major_locator(FixedLocator(months * 30.4375))
        ax.set_xticklabels([f"{m:g}" for m in months])
        ax.set_xlabel("months since day 0", fontsize=9)
    elif last_day > 84:
        weeks = np.arange(0, last_day / 7 + 1e-9, 2 if last_day <= 126 else 4)
        ax.xaxis.set_major_locator(FixedLocator(weeks * 7))
        ax.set_xticklabels([f"{w:g}" for w in weeks])
        ax.set_xlabel("weeks since day 0", fontsize=9)
    else:
        ax.xaxis.set_major_locator(AutoLocator())
        ax.xaxis.set_major_formatter(ScalarFormatter())
        ax.set_xlabel("day", fontsize=9)


class CourseFigure(FastFigure):
    """Time courses of one or more labs, each on its own axes with the normal-for-age band.

    Parameters
    ----------
    lab_names : sequence of str
        Labs to show, one panel each (see :data:`AXIS`).
    columns : int
        Panels per row.
    comparison_label : str, optional
        Legend label of a dashed comparison course (e.g. "untreated").
    """

    def __init__(self, lab_names=("platelets",), columns=1, width_px=640, height_px=None,
                 main_label="course", comparison_label=None, previous_label=None):
        rows = -(-len(lab_names) // columns)
        height_px = height_px or 80 + 190 * rows
        super().__init__(width_px, height_px)
        self.lab_names = tuple(lab_names)
        # Fixed margins in pixels: the legend has its own strip above the panels (never over data),
        # titles and tick labels always fit, whatever the figure's size.
        self.figure.subplots_adjust(left=0.1 if columns == 1 else 0.08, right=0.97,
                                    bottom=44 / height_px, top=1 - 52 / height_px, hspace=0.62, wspace=0.3)
        self.axes = {}
        self.lines, self.comparisons, self.previous, self.cursors, self.markers, self.flags = {}, {}, {}, {}, {}, {}
        self.events = {}
        self._bands = {}
        self.platelet_scale = "linear"
        self.units = "SI"
        self._shown = (None, None, None, None, None)
        self._scale_backgrounds = {}  # platelet scale -> (background, backgrounds, frame) drawn for it
        for n, lab in enumerate(self.lab_names):
            ax = self.figure.add_subplot(rows, columns, n + 1)
            low, high, scale = AXIS[lab]
            ax.set_yscale(scale)
            ax.set_ylim(low, high)
            if scale == "log":
                _log_minor_ticks(ax)
            ax.set_title(display_title(lab), fontsize=10, loc="left")
            ax.set_xlabel("day", fontsize=9)
            ax.tick_params(labelsize=8)
            ax.grid(True, color="#dddddd", linewidth=0.6)
            self.axes[lab] = ax
            if previous_label:
                self.previous[lab] = self.animate(ax.plot([], [], color=PALETTE["grey"], linewidth=1.4, alpha=0.55,
                                                          label=previous_label)[0], slow=True)
            self.lines[lab] = self.animate(ax.plot([], [], color=PALETTE["blue"], linewidth=2, label=main_label)[0],
                                           slow=True)
            if comparison_label:
                self.comparisons[lab] = self.animate(
                    ax.plot([], [], color=PALETTE["vermillion"], linewidth=1.6, linestyle="--", label=comparison_label)[0],
                    slow=True)
            self.events[lab] = self.animate(ax.plot([], [], marker="v", markersize=7, linestyle="none",
                                                    color=PALETTE["orange"], markeredgecolor=PALETTE["black"],
                                                    markeredgewidth=0.5, clip_on=False, label="transfusion")[0],
                                        slow=True)
            self.cursors[lab] = self.animate(ax.axvline(0, color=PALETTE["black"], linewidth=1, linestyle=":"))
            self.markers[lab] = self.animate(ax.plot([], [], marker="o", markersize=8, color=PALETTE["black"],
                                                     markerfacecolor=PALETTE["yellow"], linestyle="none",
                                                     clip_on=False)[0])  # whole on day 0 and the last day
            self.flags[lab] = self.animate(ax.text(0, 0, "", fontsize=9, fontweight="bold", ha="left", va="bottom",
                                                   transform=_flag_offset(ax), clip_on=False))
        lab0 = self.lab_names[0]
        handles = [h for h in (self.lines[lab0], self.comparisons.get(lab0), self.previous.get(lab0)) if h]
        handles.append(self.axes[lab0].fill_between([], [], [], color=PALETTE["green"], alpha=0.18,
                                                     label="normal for age"))
        if comparison_label:  # treatment figures, where transfusions can be given
            handles.append(self.events[lab0])
        self.figure.legend(handles=handles, fontsize=8, loc="upper right", ncol=len(handles), frameon=False,
                           bbox_to_anchor=(0.99, 1.0), handlelength=1.8, columnspacing=1.2)
        self._frame = None
        self._band_cache = {}

    def set_platelet_scale(self, scale: str) -> None:
        """Show platelets on the 0-500 axis (``"linear"``) or a log axis that separates low counts (``"log"``)."""
        if scale not in ("linear", "log"):
            raise ValueError(f"platelet scale must be 'linear' or 'log', not {scale!r}")
        if scale == self.platelet_scale or "platelets" not in self.axes:
            self.platelet_scale = scale
            return
        self._scale_backgrounds[self.platelet_scale] = (self._background, dict(self._backgrounds), self._frame)
        self.platelet_scale = scale
        _platelet_axis(self.axes["platelets"], scale)
        self.invalidate()  # the next frame redraws the background; call render with the result again
        background, backgrounds, frame = self._scale_backgrounds.get(scale, (None, {}, None))
        if background is not None and frame is not None and frame[:3] == (self._frame or (None,) * 3)[:3]:
            self._background, self._backgrounds = background, backgrounds  # drawn before for this scale

    def set_units(self, units: str) -> None:
        """Axes in the units of the report: ``"SI"`` (haemoglobin g/L) or ``"conventional"`` (g/dL)."""
        if units not in ("SI", "conventional"):
            raise ValueError(f"units must be 'SI' or 'conventional', not {units!r}")
        if units == self.units:
            return
        self.units = units
        self._scale_backgrounds.clear()  # titles and limits change: backgrounds drawn before are stale
        for lab, ax in self.axes.items():
            ax.set_title(display_title(lab, units), fontsize=10, loc="left")
            low, high = self._limits(lab)
            ax.set_ylim(low, high)
        for band in self._bands.values():  # bands are drawn in the shown unit: draw them afresh
            self.dynamic.remove(band)
        for bands in self._band_cache.values():
            for band in bands.values():
                band.remove()
        self._band_cache.clear()
        self._bands = {}
        self._frame = None
        self.invalidate()

    def _scale(self, lab, value):
        return display_values(lab, value, self.units)

    def _limits(self, lab):
        low, high, _ = AXIS[lab] if lab != "platelets" or self.platelet_scale == "linear" else PLATELETS_LOG_AXIS
        if self.units != "SI" and lab in DISPLAY and lab not in DISPLAY_CONVENTIONAL:
            factor = DISPLAY[lab][0]
            return low / factor, high / factor
        return low, high

    def set_frame(self, day, age_days) -> None:
        """Fix the time axis and draw the normal-for-age bands (static: re-caches the background)."""
        day = np.asarray(day, dtype=float)
        key = (float(day[0]), float(day[-1]), len(day), round(float(age_days[0]), 6))
        if self._frame == key:
            return
        # Bands are drawn per frame (a few ms) rather than baked into the background, so switching
        # to a case of another age needs no full redraw (~250 ms); only a new time axis does.
        for band in self._bands.values():
            self.dynamic.remove(band)
            band.set_visible(False)
        if key not in self._band_cache:
            if len(self._band_cache) >= 16:
                for band in self._band_cache.pop(next(iter(self._band_cache))).values():
                    band.remove()
            bands = {}
            for lab, ax in self.axes.items():
                low, high = labs.reference_limits(lab, np.asarray(age_days))
                low, high = self._scale(lab, low), self._scale(lab, high)
                bands[lab] = ax.fill_between(day, low, high, color=PALETTE["green"], alpha=0.18, linewidth=0)
                bands[lab].set_clip_on(True)
                bands[lab].set_animated(True)
            self._band_cache[key] = bands
        self._bands = self._band_cache[key]
        for band in self._bands.values():
            band.set_visible(True)
            self.dynamic.insert(0, band)  # under the lines
            self._slow.add(id(band))
        self.restyle()
        if self._frame is None or self._frame[:3] != key[:3]:
            if self._frame is not None and self._background is not None:
                self._backgrounds[self._frame[:3]] = self._background
            pad = 0.01 * float(day[-1] - day[0])  # day markers on the first and last day drawn whole
            for ax in self.axes.values():
                ax.set_xlim(day[0] - pad, day[-1] + pad)
                _time_ticks(ax, float(day[-1]))
            # The background holds only axes, ticks and titles, so one drawn for this time axis
            # before can be reused (a full draw costs ~70 ms).
            self._background = self._backgrounds.get(key[:3])
        self._frame = key

    def set_course(self, result, comparison=None, previous=None) -> None:
        """Show a result (and optionally a comparison and a faint previous run) on every panel."""
        shown = (result, comparison, previous, self.units, self.platelet_scale)
        if self._layer is not None and all(a is b for a, b in zip(shown[:3], self._shown[:3])) \
                and shown[3:] == self._shown[3:]:
            return  # the same course: keep the cached layer, only the day moves
        self._shown = shown
        self.restyle()
        self.set_frame(result.day, result.age_days)
        transfused = sorted({float(e.start_day) for e in getattr(result, "treatments", ()) or ()
                             if getattr(e, "name", "") in TRANSFUSIONS})
        for lab in self.lab_names:
            self.lines[lab].set_data(result.day, self._scale(lab, getattr(result, lab)))
            if lab in self.comparisons:
                self.comparisons[lab].set_visible(comparison is not None)  # nothing to draw: not drawn at all
                if comparison is None:
                    self.comparisons[lab].set_data([], [])
                else:
                    self.comparisons[lab].set_data(comparison.day, self._scale(lab, getattr(comparison, lab)))
            if lab in self.previous:
                self.previous[lab].set_visible(previous is not None and len(previous.day) == len(result.day))
                if previous is None or len(previous.day) != len(result.day):
                    self.previous[lab].set_data([], [])
                else:
                    self.previous[lab].set_data(previous.day, self._scale(lab, getattr(previous, lab)))
            # a transfusion's rise lasts hours: mark its day at the top edge so it is never lost
            top = self._limits(lab)[1]
            self.events[lab].set_data(transfused, [top] * len(transfused))
            self.events[lab].set_visible(bool(transfused))
        self._result = result

    def set_day(self, day: float) -> None:
        """Move the day cursor; the marker's shape and letter show the flag."""
        result = self._result
        i = result.index(day)
        age = float(result.age_days[i])
        for lab in self.lab_names:
            value = float(getattr(result, lab)[i])
            flag = labs.flag(lab, value, age)
            self.cursors[lab].set_xdata([result.day[i], result.day[i]])
            low, high = self._limits(lab)
            shown = min(max(float(self._scale(lab, value)), low), high)
            self.markers[lab].set_data([result.day[i]], [shown])
            self.markers[lab].set_marker(_MARKERS[flag])
            text = self.flags[lab]
            text.set_text(flag)
            text.set_position((result.day[i], shown))

    def render(self, result=None, day=None, comparison=None, previous=None) -> bytes:
        """Update what is given and return the frame as PNG bytes."""
        if result is not None:
            self.set_course(result, comparison, previous)
        if day is not None:
            self.set_day(day)
        return self.render_png()


class TrappingFigure(FastFigure):
    """A schematic of platelets in the circulation and trapped in the tumour, beside the platelet course."""

    DOTS = 60

    def __init__(self, width_px=760, height_px=300):
        super().__init__(width_px, height_px)
        self.figure.subplots_adjust(left=0.02, right=0.97, bottom=0.16, top=0.88, wspace=0.25)
        grid = self.figure.add_gridspec(1, 5)
        self.scheme = self.figure.add_subplot(grid[0, :2])
        self.scheme.set_xlim(0, 10)
        self.scheme.set_ylim(0, 6)
        self.scheme.set_axis_off()
        self.scheme.set_title("Where the platelets are", fontsize=10, loc="left")
        from matplotlib.patches import Ellipse, FancyBboxPatch

        self.scheme.add_patch(FancyBboxPatch((0.3, 0.6), 4.4, 4.6, boxstyle="round,pad=0.1",
                                             facecolor="#f2f2f2", edgecolor=PALETTE["grey"]))
        self.scheme.text(2.5, 5.45, "circulating blood", ha="center", fontsize=9)
        self.tumour = Ellipse((7.5, 2.9), 4.2, 4.4, facecolor="#e9d3e0", edgecolor=PALETTE["purple"], linewidth=2)
        self.scheme.add_patch(self.tumour)
        self.scheme.text(7.5, 5.45, "tumour", ha="center", fontsize=9)
        rng = np.random.default_rng(7)
        self._blood_xy = np.column_stack([rng.uniform(0.6, 4.4, self.DOTS), rng.uniform(0.9, 4.9, self.DOTS)])
        angle, radius = rng.uniform(0, 2 * np.pi, self.DOTS), np.sqrt(rng.uniform(0, 1, self.DOTS))
        self._tumour_xy = np.column_stack([7.5 + 1.8 * radius * np.cos(angle), 2.9 + 1.9 * radius * np.sin(angle)])
        self.blood = self.animate(self.scheme.scatter([], [], s=22, color=PALETTE["blue"], marker="o"))
        self.trapped = self.animate(self.scheme.scatter([], [], s=22, color=PALETTE["vermillion"], marker="X"))
        # static key drawn once; only the short share text changes per frame
        self.figure.text(0.02, 0.03, "blue dots: circulating platelets;  crosses: trapped in the tumour", ha="left", fontsize=8)
        self.caption = self.animate(self.scheme.text(7.5, 0.2, "", ha="center", fontsize=9, fontweight="bold"))
        self._course_axes = self.figure.add_subplot(grid[0, 2:])
        self._init_course_panel()

    def _init_course_panel(self):
        ax = self._course_axes
        low, high, _ = AXIS["platelets"]
        ax.set_ylim(low, high)
        ax.set_title(display_title("platelets"), fontsize=10, loc="left")
        ax.set_xlabel("day", fontsize=9)
        ax.tick_params(labelsize=8)
        ax.grid(True, color="#dddddd", linewidth=0.6)
        self.line = self.animate(ax.plot([], [], color=PALETTE["blue"], linewidth=2)[0])
        self.cursor = self.animate(ax.axvline(0, color=PALETTE["black"], linewidth=1, linestyle=":"))
        self.marker = self.animate(ax.plot([], [], marker="o", markersize=8, color=PALETTE["black"],
                                           markerfacecolor=PALETTE["yellow"], linestyle="none")[0])
        self.marker.set_clip_on(False)
        self.flag = self.animate(ax.text(0, 0, "", fontsize=9, fontweight="bold", va="bottom",
                                         transform=_flag_offset(ax), clip_on=False))
        self.platelet_scale = "linear"
        self._band = None
        self._frame = None
        self._scale_backgrounds = {}  # platelet scale -> (background, frame) drawn for it

    def set_platelet_scale(self, scale: str) -> None:
        """Platelet panel on the 0-500 axis (``"linear"``) or a log axis separating low counts (``"log"``)."""
        if scale not in ("linear", "log"):
            raise ValueError(f"platelet scale must be 'linear' or 'log', not {scale!r}")
        if scale == self.platelet_scale:
            return
        self._scale_backgrounds[self.platelet_scale] = (self._background, self._frame)
        self.platelet_scale = scale
        _platelet_axis(self._course_axes, scale)
        self.invalidate()
        background, frame = self._scale_backgrounds.get(scale, (None, None))
        if background is not None and frame == self._frame:
            self._background = background  # drawn before for this scale and this course's time axis

    def render(self, result, day, trapped_fraction: float) -> bytes:
        """Draw the schematic for ``day`` and the platelet course up to the cursor.

        ``trapped_fraction`` is the share of platelets leaving the blood that the
        tumour takes (0-1), computed by the widget from the model's rates.
        """
        ax = self._course_axes
        frame = (float(result.day[0]), float(result.day[-1]), float(result.age_days[0]))
        if frame != self._frame:
            if self._band is not None:
                self._band.remove()
            low, high = labs.reference_limits("platelets", result.age_days)
            self._band = ax.fill_between(result.day, low, high, color=PALETTE["green"], alpha=0.18, linewidth=0)
            pad = 0.01 * float(result.day[-1] - result.day[0])
            ax.set_xlim(result.day[0] - pad, result.day[-1] + pad)
            self._frame = frame
            self.invalidate()
        i = result.index(day)
        value = float(result.platelets[i])
        self.line.set_data(result.day[: i + 1], result.platelets[: i + 1])
        self.cursor.set_xdata([result.day[i], result.day[i]])
        flag = labs.flag("platelets", value, float(result.age_days[i]))
        low, high = (AXIS["platelets"] if self.platelet_scale == "linear" else PLATELETS_LOG_AXIS)[:2]
        shown = min(max(value, low), high)
        self.marker.set_data([result.day[i]], [shown])
        self.marker.set_marker(_MARKERS[flag])
        self.flag.set_text(flag)
        self.flag.set_position((result.day[i], shown))
        normal = labs.expected_value("platelets", float(result.age_days[i]))
        n_blood = int(round(min(1.0, value / normal) * self.DOTS))
        n_trapped = int(round(trapped_fraction * self.DOTS * 0.5))
        self.blood.set_offsets(self._blood_xy[:n_blood] if n_blood else np.empty((0, 2)))
        self.trapped.set_offsets(self._tumour_xy[:n_trapped] if n_trapped else np.empty((0, 2)))
        self.caption.set_text(f"trapping {trapped_fraction:.0%}")
        return self.render_png()
