"""Schematic pictures drawn from the model: a blood film and a lesion view.

Both are drawings, labelled "schematic" (no photographs, nothing licensed), and
both follow the simulated course day by day:

- :class:`BloodFilmFigure`: one microscope field. Platelet dots follow the
  count (about one per 15 x10^9/L); a share of large, young platelets appears
  only while the marrow's output is raised; red-cell fragments (schistocytes)
  stay few (0-3), as in KMP's mild microangiopathy.
- :class:`LesionFigure`: the tumour on an infant's thigh. Its area follows
  tumour mass (so it shrinks as the tumour regresses on treatment),
  engorgement adds while it is active, its colour runs from pale to deep
  violaceous with activity, and a dark core follows the consuming bulk. A
  dashed ring keeps the size at the start for comparison.

What is drawn is computed in :mod:`kms_teach.describe` (:func:`film_state`,
:func:`lesion_state`), which also writes the alt text, so picture and words
agree. Static parts are drawn once and cached (see :class:`FastFigure`); a
frame draws a handful of artists, a few milliseconds. No text changes per frame
(laying out text costs as much as the rest of the frame): the day and values
are in the alt text and the summary beside the picture.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import PatchCollection
from matplotlib.colors import to_rgb
from matplotlib.patches import Circle, Ellipse, FancyBboxPatch, Polygon

from .describe import describe_blood_film, describe_lesion, film_state, lesion_state
from .plots import PALETTE, FastFigure

__all__ = ["BloodFilmFigure", "LesionFigure", "lesion_colour"]

_QUIET = "#d9b3a3"   # a quiet vascular lesion: faint pink-brown stain
_ACTIVE = "#5a1f6b"  # an engorged KHE in KMP: deep violaceous, tense
_SKIN = "#f6dccb"


def lesion_colour(activity: float) -> tuple[float, float, float]:
    """RGB colour of the lesion for a tumour activity (0 quiet ... 1 or more fully active)."""
    t = float(np.clip(activity, 0.0, 1.0)) ** 0.7  # early activity already shows
    quiet, active = np.array(to_rgb(_QUIET)), np.array(to_rgb(_ACTIVE))
    return tuple(float(v) for v in quiet + t * (active - quiet))


def _label(ax, title: str) -> None:
    ax.set_title(title, fontsize=10, loc="left")
    ax.text(0.98, 0.02, "schematic, not a photograph", transform=ax.transAxes, ha="right", va="bottom",
            fontsize=7.5, style="italic", color="#555555")




def _picture_axes(figure, title: str):
    """One square, frameless axes spanning -1..1, labelled as a schematic picture."""
    figure.subplots_adjust(left=0.03, right=0.97, bottom=0.14, top=0.9)
    ax = figure.add_subplot(1, 1, 1)
    ax.set_xlim(-1.05, 1.05)
    ax.set_ylim(-1.05, 1.05)
    ax.set_aspect("equal")
    ax.set_axis_off()
    _label(ax, title)
    return ax

class BloodFilmFigure(FastFigure):
    """One field of a schematic blood film that follows the platelet count.

    Parameters
    ----------
    width_px, height_px : int
        Image size.
    """

    RED_CELLS = 34
    MAX_PLATELETS = 40  # 600 x10^9/L and above look the same

    def __init__(self, width_px: int = 340, height_px: int = 360, seed: int = 11):
        super().__init__(width_px, height_px)
        ax = self.ax = _picture_axes(self.figure, "Blood film")
        field = Circle((0, 0), 1.0, facecolor="#fbf4ec", edgecolor="#444444", linewidth=1.5)
        ax.add_patch(field)
        rng = np.random.default_rng(seed)
        cells = self._place(rng, self.RED_CELLS, 0.13, [], spacing=0.25)
        red = PatchCollection([Circle(c, 0.12) for c in cells], facecolor="#e7a3a0", edgecolor="#c97c79",
                              linewidth=0.6)
        pallor = PatchCollection([Circle(c, 0.045) for c in cells], facecolor="#f4cfcc", edgecolor="none")
        for collection in (red, pallor):
            collection.set_clip_path(field)
            ax.add_collection(collection)
        # platelets lie between the red cells, never on them
        gaps = self._place(rng, self.MAX_PLATELETS, 0.04, cells, clear=0.155, spacing=0.07)
        self._platelet_xy = np.array(gaps)
        rng.shuffle(self._platelet_xy)
        self.platelets = self.animate(ax.scatter([], [], s=16, color="#6a3d9a", edgecolors="none"))
        self.large = self.animate(ax.scatter([], [], s=46, color="#6a3d9a", edgecolors="#3f1f63", linewidths=0.6))
        self.fragments = []
        for centre in self._place(rng, 3, 0.1, cells + gaps, clear=0.17, spacing=0.3):
            angle = rng.uniform(0, 2 * np.pi)
            shape = np.array([[-0.07, -0.03], [0.07, -0.03], [0.03, 0.05], [-0.02, 0.045]])  # helmet cell
            rot = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
            patch = ax.add_patch(Polygon(shape @ rot.T + centre, closed=True, facecolor="#d2595a",
                                         edgecolor="#9c3b3c", linewidth=0.6))
            self.fragments.append(self.animate(patch))
        self.figure.text(0.03, 0.07, "purple dots: platelets; large dots: young platelets;", fontsize=7.5)
        self.figure.text(0.03, 0.025, "red fragments: schistocytes", fontsize=7.5)

    @staticmethod
    def _place(rng, n, margin, avoid, clear=0.0, spacing=0.25, tries=6000):
        """Up to ``n`` points inside the field: ``clear`` from every point of ``avoid``, ``spacing`` apart.

        Bounded: gives up after ``tries`` draws (the layout is fixed by the seed, so this is deterministic).
        """
        points: list[tuple[float, float]] = []
        avoid = np.asarray(avoid, dtype=float).reshape(-1, 2)
        for _ in range(tries):
            if len(points) >= n:
                break
            r, a = np.sqrt(rng.uniform(0, 1)) * (0.97 - margin), rng.uniform(0, 2 * np.pi)
            x, y = r * np.cos(a), r * np.sin(a)
            if avoid.size and np.min((avoid[:, 0] - x) ** 2 + (avoid[:, 1] - y) ** 2) < clear ** 2:
                continue
            if all((x - q[0]) ** 2 + (y - q[1]) ** 2 > spacing ** 2 for q in points):
                points.append((x, y))
        return points

    def render(self, result, day: float) -> bytes:
        """Draw the field for ``day`` of ``result``; PNG bytes."""
        state = film_state(result, day)
        n = min(state.platelets, len(self._platelet_xy))
        large = min(state.large, n)
        self.platelets.set_offsets(self._platelet_xy[large:n] if n > large else np.empty((0, 2)))
        self.large.set_offsets(self._platelet_xy[:large] if large else np.empty((0, 2)))
        for k, fragment in enumerate(self.fragments):
            fragment.set_visible(k < state.schistocytes)
        return self.render_png()

    @staticmethod
    def describe(result, day: float) -> str:
        """The alt text for ``day`` (from :func:`kms_teach.describe.describe_blood_film`)."""
        return describe_blood_film(result, day)


class LesionFigure(FastFigure):
    """The tumour on an infant's thigh: size from mass, colour from activity, core from bulk.

    Parameters
    ----------
    width_px, height_px : int
        Image size.
    """

    RADIUS = 0.62  # lesion radius at the start (mass 1, not engorged), in axes units

    def __init__(self, width_px: int = 340, height_px: int = 360):
        super().__init__(width_px, height_px)
        ax = self.ax = _picture_axes(self.figure, "Lesion on the thigh")
        ax.add_patch(FancyBboxPatch((-0.8, -1.0), 1.6, 1.95, boxstyle="round,pad=0.05,rounding_size=0.7",
                                    facecolor=_SKIN, edgecolor="#b88f7a", linewidth=1.2))
        ax.add_patch(Ellipse((0, 0), 2 * self.RADIUS, 2 * self.RADIUS * 1.15, facecolor="none",
                             edgecolor=PALETTE["grey"], linewidth=1, linestyle="--"))
        self.figure.text(0.03, 0.07, "dashed ring: size at the start; dark core: firm vascular bulk", fontsize=7.5)
        self.figure.text(0.03, 0.025, "colour: pale when quiet, deep purple when active", fontsize=7.5)
        self.lesion = self.animate(ax.add_patch(Ellipse((0, 0), 0, 0, linewidth=1.2)))
        self.core = self.animate(ax.add_patch(Ellipse((0, 0), 0, 0, facecolor="#2d0f38", alpha=0.45,
                                                      edgecolor="none")))

    def render(self, result, day: float) -> bytes:
        """Draw the lesion for ``day`` of ``result``; PNG bytes."""
        state = lesion_state(result, day)
        width = 2 * self.RADIUS * min(state.size, 1.35)
        colour = lesion_colour(state.activity)
        self.lesion.set_width(width)
        self.lesion.set_height(width * 1.15)
        self.lesion.set_facecolor(colour)
        self.lesion.set_edgecolor(tuple(0.7 * c for c in colour))
        self.lesion.set_visible(state.mass >= 0.01)
        core = width * 0.8 * float(np.sqrt(min(state.bulk, 1.5) / 1.5)) if state.mass >= 0.01 else 0.0
        self.core.set_width(min(core, width * 0.85))
        self.core.set_height(min(core, width * 0.85) * 1.15)
        self.core.set_visible(core > 0.01)
        return self.render_png()

    @staticmethod
    def describe(result, day: float) -> str:
        """The alt text for ``day`` (from :func:`kms_teach.describe.describe_lesion`)."""
        return describe_lesion(result, day)
