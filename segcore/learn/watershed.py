"""The watershed lesson: the image as a terrain, flooded level by level.

The terrain is the gradient magnitude of the blurred gray image (the relief the
engine's :func:`segcore.methods.watershed.watershed` floods when it starts from
gradient minima or seeds). Water rises from markers; every pixel the water
reaches joins the basin of the marker it came from, and where two basins meet
a dam is built: the watershed lines. :func:`flood` gives that state at any
level, so a page can scrub through the flooding; at the top level it is
:func:`skimage.segmentation.watershed` with ``watershed_line=True``.

>>> img = np.zeros((9, 9, 1), np.float32); img[:, 5:] = 1
>>> terrain = relief(img, sigma=0)
>>> springs = flood_markers(img, how="minima", sigma=0, h=0.05)
>>> top = flood(terrain, springs, level=float(terrain.max()))
>>> top.n_basins, top.n_flooded == terrain.size
(2, True)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from PIL import Image, ImageDraw
from scipy import ndimage as ndi
from skimage import filters, measure, morphology, segmentation

from segcore import metrics
from segcore.learn import oblique
from segcore.color import label_palette, to_gray
from segcore.methods.watershed import MARKERS, find_markers
from segcore.viz import hex_colour, overlay, to_rgb

__all__ = [
    "MARKER_CHOICES",
    "FLOOD_STEPS",
    "Flood",
    "relief",
    "minima_markers",
    "flood_markers",
    "flood_levels",
    "flood",
    "compare_markers",
    "pooled_terrain",
    "flood_picture",
    "profile_row",
    "terrain_figure",
    "terrain_picture",
    "profile_figure",
]

#: Where floods start: ``"minima"`` (no markers: every local minimum of the
#: terrain is a spring) or one of the engine's automatic markers.
MARKER_CHOICES = ("minima",) + MARKERS
#: Levels a lesson steps through, from the lowest point to the highest ridge.
FLOOD_STEPS = 40
#: Colour of the dams (watershed lines) in :func:`flood_picture` and :func:`profile_figure`.
DAM_COLOUR = (1.0, 1.0, 1.0)


@dataclass(frozen=True)
class Flood:
    """The state of a flooding at one water level.

    Attributes
    ----------
    level : float
        The water level, in the terrain's units.
    labels : (...) int32 ndarray
        The basin (marker label) of every flooded pixel; ``0`` where the water has
        not come yet and on dams.
    dams : (...) bool ndarray
        Flooded pixels where two basins met: the watershed lines so far.

    Examples
    --------
    >>> f = Flood(0.5, np.array([1, 1, 0, 2, 0], np.int32),
    ...           np.array([False, False, True, False, False]))
    >>> f.n_flooded, f.n_basins, f.n_dams
    (4, 2, 1)
    """

    level: float
    labels: np.ndarray
    dams: np.ndarray

    @property
    def flooded(self) -> np.ndarray:
        """Pixels under water: in a basin or on a dam."""
        return (self.labels > 0) | self.dams

    @property
    def n_flooded(self) -> int:
        """How many pixels are under water."""
        return int(np.count_nonzero(self.flooded))

    @property
    def n_basins(self) -> int:
        """How many basins hold water so far."""
        return int(np.count_nonzero(np.bincount(self.labels.ravel())[1:]))

    @property
    def n_dams(self) -> int:
        """How many dam pixels have been built so far."""
        return int(np.count_nonzero(self.dams))


def relief(image: np.ndarray, *, sigma: float) -> np.ndarray:
    """The terrain a watershed floods: the Sobel gradient magnitude of the gray
    image after a Gaussian blur of ``sigma`` pixels (none when ``sigma`` is 0),
    computed as the engine's watershed does.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    sigma : float
        Standard deviation of the blur in pixels, ``>= 0``.

    Returns
    -------
    elevation : (H, W) float32 ndarray, ``>= 0``
        High on edges (ridges), low inside even regions (valleys).

    Examples
    --------
    >>> img = np.zeros((6, 6, 1), np.float32); img[:, 3:] = 1
    >>> (relief(img, sigma=0)[0] > 0).tolist()
    [False, False, True, True, False, False]
    """
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a number >= 0, got {sigma!r}")
    gray = to_gray(np.asarray(image, np.float32))
    smooth = filters.gaussian(gray, sigma=sigma) if sigma > 0 else gray
    return filters.sobel(smooth)


def minima_markers(elevation: np.ndarray) -> np.ndarray:
    """One marker per local minimum of the terrain (a flat minimum counts once),
    numbered ``1..N``: what a watershed floods from when it is given no markers.

    Parameters
    ----------
    elevation : (H, W) or (N,) float ndarray

    Returns
    -------
    markers : int32 ndarray, same shape
        ``0`` off the minima.

    Examples
    --------
    >>> minima_markers(np.array([3.0, 1, 2, 2, 0, 0, 4])).tolist()
    [0, 1, 0, 0, 2, 2, 0]
    """
    elevation = np.asarray(elevation)
    # Connectivity 1 is what skimage.segmentation.watershed uses to find minima.
    return measure.label(morphology.local_minima(elevation, connectivity=1),
                         connectivity=1).astype(np.int32)


def flood_markers(image: np.ndarray, *, how: str, sigma: float, h: float) -> np.ndarray:
    """The markers floods start from on the terrain :func:`relief` gives.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    how : str
        One of :data:`MARKER_CHOICES`: ``"minima"``, every local minimum of the
        terrain (no markers at all); otherwise the engine's automatic markers
        (:func:`segcore.methods.watershed.find_markers`) on the blurred image.
    sigma : float
        The blur of :func:`relief`.
    h : float
        Marker prominence, as in the engine (unused for ``"minima"``).

    Returns
    -------
    markers : (H, W) int32 ndarray
        ``0`` off the markers, ``1..N`` on them.

    Raises
    ------
    ValueError
        If ``how`` is unknown, or no marker is found.

    Examples
    --------
    >>> img = np.zeros((20, 20, 1), np.float32); img[4:16, 4:16] = 1
    >>> int(flood_markers(img, how="distance", sigma=1, h=0.05).max())
    2
    """
    if how not in MARKER_CHOICES:
        raise ValueError(f"how must be one of {', '.join(MARKER_CHOICES)}, got {how!r}")
    elevation = relief(image, sigma=sigma)
    if how == "minima":
        markers = minima_markers(elevation)
    else:
        gray = to_gray(np.asarray(image, np.float32))
        smooth = filters.gaussian(gray, sigma=sigma) if sigma > 0 else gray
        markers = find_markers(smooth, elevation, how, h=h)
    if not markers.any():
        raise ValueError("no markers were found: the terrain is flat, or 'h' is too high")
    return markers


def flood_levels(elevation: np.ndarray, *, n: int = FLOOD_STEPS) -> np.ndarray:
    """``n + 1`` water levels, evenly spaced from the lowest point of the terrain
    to its highest ridge: the water rises by the same height at every step.

    Returns
    -------
    levels : (n + 1,) float64 ndarray, increasing (constant on a flat terrain)

    Examples
    --------
    >>> flood_levels(np.array([[0.5, 2.5], [1.0, 1.5]]), n=4).tolist()
    [0.5, 1.0, 1.5, 2.0, 2.5]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    elevation = np.asarray(elevation, np.float64)
    levels = np.linspace(elevation.min(), elevation.max(), n + 1)
    levels[-1] = elevation.max()  # exactly the highest ridge, whatever the rounding
    return levels


def flood(elevation: np.ndarray, markers: np.ndarray, *, level: float) -> Flood:
    """The flooding of the terrain from the markers when the water stands at ``level``.

    A pixel is flooded when its elevation is at most ``level`` and it is
    connected to a marker pixel through pixels that are all at most ``level``
    (4-neighbours), the marker pixel included: a marker starts to fill once the
    water reaches its height, so basins appear one by one as the level rises.
    Each flooded pixel carries the basin it belongs to in
    ``skimage.segmentation.watershed(elevation, markers, watershed_line=True)``,
    and flooded pixels on that result's watershed lines are the dams. At the
    highest ridge every pixel is flooded, and the result is scikit-image's.

    Parameters
    ----------
    elevation : (H, W) or (N,) float ndarray
        The terrain (:func:`relief` for an image, one row of it for a profile).
    markers : int ndarray, same shape
        ``0`` off the markers, basin labels ``1..`` on them.
    level : float
        The water level.

    Returns
    -------
    Flood

    Raises
    ------
    ValueError
        If the shapes differ or there is no marker.

    Examples
    --------
    >>> terrain = np.array([0.0, 1, 3, 1, 0.5])
    >>> springs = np.array([1, 0, 0, 0, 2])
    >>> flood(terrain, springs, level=0.2).labels.tolist()
    [1, 0, 0, 0, 0]
    >>> flood(terrain, springs, level=1).labels.tolist()
    [1, 1, 0, 2, 2]
    >>> top = flood(terrain, springs, level=3)
    >>> top.labels.tolist(), top.dams.tolist()
    ([1, 1, 0, 2, 2], [False, False, True, False, False])
    """
    elevation = np.asarray(elevation, np.float64)
    markers = np.asarray(markers)
    if elevation.shape != markers.shape:
        raise ValueError(f"elevation {elevation.shape} and markers {markers.shape} differ in shape")
    springs = markers > 0
    if not springs.any():
        raise ValueError("there is no marker to flood from")
    low = elevation <= level
    pieces, n_pieces = ndi.label(low, structure=ndi.generate_binary_structure(elevation.ndim, 1))
    wet = np.zeros(n_pieces + 1, bool)
    wet[pieces[springs & low]] = True
    flooded = wet[pieces]
    basins = segmentation.watershed(elevation, markers, watershed_line=True).astype(np.int32)
    return Flood(float(level), np.where(flooded, basins, 0), flooded & (basins == 0))


def compare_markers(image: np.ndarray, truth: np.ndarray | None = None, *, sigma: float,
                    how: str, h: float, ignore: int | None = None,
                    tolerance: float = 2) -> list[dict]:
    """The watershed without markers on the raw terrain, without markers on the
    blurred terrain, and from markers on the blurred terrain: how many basins each
    makes, and (when ``truth`` is given) how well it scores.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    truth : (H, W) int ndarray, optional
        Ground-truth classes at the image's size.
    sigma, how, h : as in :func:`flood_markers` (``how`` is the third row's markers;
        ``"minima"`` makes it the same as the second row)
    ignore : int, optional
        Truth value of unlabelled pixels, left out of the scores.
    tolerance : float
        Boundary tolerance in pixels for :func:`segcore.metrics.boundary_f1`.

    Returns
    -------
    rows : list of dict
        Each with ``sigma``, ``markers`` (``"minima"`` or ``how``), ``labels``
        ``(H, W) int32`` (no dam lines), ``basins`` and, with a truth,
        ``iou`` (mean IoU with every basin named after the truth class it
        overlaps most, :func:`segcore.metrics.evaluate` with
        ``match="majority"``) and ``boundary`` (precision, recall, f1).

    Examples
    --------
    >>> img = np.zeros((24, 24, 1), np.float32); img[6:18, 6:18] = 0.8
    >>> img += np.random.default_rng(0).normal(0, 0.05, img.shape).astype(np.float32)
    >>> rows = compare_markers(img, sigma=2, how="distance", h=0.05)
    >>> [r["basins"] for r in rows][2], rows[0]["basins"] > rows[1]["basins"]
    (2, True)
    """
    rows = []
    for row_sigma, row_how in ((0.0, "minima"), (sigma, "minima"), (sigma, how)):
        elevation = relief(image, sigma=row_sigma)
        markers = flood_markers(image, how=row_how, sigma=row_sigma, h=h)
        labels = segmentation.watershed(elevation, markers).astype(np.int32)
        row = {"sigma": float(row_sigma), "markers": row_how, "labels": labels,
               "basins": int(np.count_nonzero(np.bincount(labels.ravel())[1:]))}
        if truth is not None:
            report = metrics.evaluate(labels, truth, match="majority", ignore=ignore,
                                      tolerance=tolerance)
            row["iou"] = report["iou"]
            row["boundary"] = report["boundary"]
        rows.append(row)
    return rows


def pooled_terrain(elevation: np.ndarray, flooded: np.ndarray, *,
                   max_side: int = 90) -> tuple[np.ndarray, np.ndarray, int]:
    """A smaller terrain for a 3-D view: blocks of ``factor × factor`` pixels,
    each as high as its highest pixel (so thin ridges stay visible), and whether
    most of the block is under water.

    Parameters
    ----------
    elevation : (H, W) float ndarray
    flooded : (H, W) bool ndarray
    max_side : int
        Longest side of the result.

    Returns
    -------
    heights : (h, w) float64 ndarray
    wet : (h, w) bool ndarray
    factor : int
        Pixels of the terrain per block side.

    Examples
    --------
    >>> e = np.zeros((6, 6)); e[2, 3] = 1
    >>> heights, wet, factor = pooled_terrain(e, e == 0, max_side=3)
    >>> heights.tolist(), factor
    ([[0.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 0.0]], 2)
    """
    elevation = np.asarray(elevation, np.float64)
    factor = max(1, int(np.ceil(max(elevation.shape) / max_side)))
    heights = measure.block_reduce(elevation, (factor, factor), np.max)
    wet = measure.block_reduce(np.asarray(flooded, np.float64), (factor, factor), np.mean) >= 0.5
    return heights, wet, factor


def flood_picture(image: np.ndarray, state: Flood, *, markers: np.ndarray | None = None,
                  row: int | None = None, alpha: float = 0.6) -> np.ndarray:
    """The image with the flooded pixels coloured by basin, dams in white, the
    markers in a dark shade of their basin's colour (the holes the water rises
    from), and the profile ``row`` as a yellow line.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    state : Flood
        A flooding of this image's terrain.
    markers : (H, W) int ndarray, optional
    row : int, optional
    alpha : float
        Opacity of the basin colours.

    Returns
    -------
    picture : (H, W, 3) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.full((4, 4, 1), 0.5, np.float32)
    >>> lab = np.zeros((4, 4), np.int32); lab[:, 3] = 1
    >>> dams = np.zeros((4, 4), bool); dams[:, 2] = True
    >>> pic = flood_picture(img, Flood(1.0, lab, dams), row=0)
    >>> pic[1, 2].tolist(), pic[1, 0].round(2).tolist(), pic[0, 0].round(2).tolist()
    ([1.0, 1.0, 1.0], [0.4, 0.4, 0.4], [1.0, 0.9, 0.0])
    """
    picture = overlay(0.8 * to_rgb(image), state.labels, alpha=alpha, show_boundaries=False)
    picture[state.dams] = DAM_COLOUR
    if markers is not None:
        markers = np.asarray(markers)
        palette = label_palette(int(markers.max(initial=0)))
        picture[markers > 0] = 0.45 * palette[markers[markers > 0]]
    if row is not None:
        picture[row] = (1.0, 0.9, 0.0)
    return picture


def profile_row(elevation: np.ndarray) -> int:
    """The row of the terrain that crosses the most ridges: the most pixels above
    half the highest ridge (the first such row on a tie).

    Examples
    --------
    >>> e = np.zeros((5, 4)); e[3, 1:3] = 1; e[1, 0] = 0.9
    >>> profile_row(e)
    3
    """
    elevation = np.asarray(elevation)
    return int(np.argmax((elevation > 0.5 * elevation.max()).sum(axis=1)))


def terrain_picture(heights: np.ndarray, wet: np.ndarray, *, level: float | None = None,
                    size: int = 460, azimuth: float = -12.0,
                    elevation: float = 50.0) -> np.ndarray:
    """The terrain of :func:`pooled_terrain` drawn as a picture, seen from
    ``azimuth`` and ``elevation`` (degrees): one quadrilateral per block, far ones
    first, gray by height and lit from the upper left, and the blocks under water
    covered by a blue sheet at ``level``. ``(size, size, 3) uint8``.

    What :func:`terrain_figure` shows, without turning: a picture is shown at once,
    a 3-D plot is redrawn by the browser's graphics at every change, which takes
    seconds where there is no graphics acceleration.

    Examples
    --------
    >>> h = np.zeros((5, 5)); h[2, 2] = 1
    >>> terrain_picture(h, h == 0, level=0.5, size=80).shape
    (80, 80, 3)
    """
    heights = np.asarray(heights, np.float64)
    rows, cols = heights.shape
    lo, hi = float(heights.min()), float(heights.max())
    span = hi - lo if hi > lo else 1.0
    side = max(rows, cols, 2)
    gy, gx = np.mgrid[0:rows, 0:cols].astype(np.float64)
    ground = (heights - lo) / span

    def project(z: np.ndarray):
        u = np.stack([(gx - (cols - 1) / 2) / (side - 1), (gy - (rows - 1) / 2) / (side - 1),
                      0.22 * z - 0.11], axis=-1)
        across, up, depth = oblique(u, azimuth=azimuth, elevation=elevation)
        return size / 2 + 0.72 * size * across, size / 2 - 0.72 * size * up, depth

    x, y, depth = project(ground)
    water = None
    if level is not None and np.any(wet):
        wx, wy, _ = project(np.full_like(ground, (level - lo) / span))
        water = (wx, wy)
    # Light from the upper left: brighter where the ground rises towards it.
    slope = np.gradient(ground)
    shade = np.clip(0.75 - 2.5 * (slope[0] + slope[1]), 0.35, 1.0)
    canvas = Image.new("RGB", (size, size), "white")
    draw = ImageDraw.Draw(canvas)
    cell_depth = (depth[:-1, :-1] + depth[1:, 1:]) / 2
    for flat in np.argsort(-cell_depth, axis=None):  # far cells first
        i, j = divmod(int(flat), cols - 1)
        quad = [(i, j), (i, j + 1), (i + 1, j + 1), (i + 1, j)]
        g = 0.45 + 0.55 * ground[i:i + 2, j:j + 2].mean()
        tone = int(255 * min(1.0, g * shade[i, j]))
        draw.polygon([(x[r, c], y[r, c]) for r, c in quad], fill=(tone, tone, tone))
        if water is not None and wet[i, j] and (level - lo) / span > ground[i, j]:
            draw.polygon([(water[0][r, c], water[1][r, c]) for r, c in quad],
                         fill=(43, 123, 186))
    return np.asarray(canvas)


def terrain_figure(heights: np.ndarray, wet: np.ndarray, *, level: float | None = None,
                   factor: int = 1) -> go.Figure:
    """The terrain as a 3-D surface (from :func:`pooled_terrain`), with the water
    at ``level`` as a flat blue sheet over the blocks under water.

    Examples
    --------
    >>> fig = terrain_figure(np.array([[0.0, 1], [1, 0]]), np.eye(2, dtype=bool), level=0.5)
    >>> [trace.type for trace in fig.data]
    ['surface', 'surface']
    """
    heights = np.asarray(heights, np.float64)
    ys, xs = np.arange(heights.shape[0]) * factor, np.arange(heights.shape[1]) * factor
    fig = go.Figure(go.Surface(z=heights, x=xs, y=ys, colorscale="gray", showscale=False,
                               name="terrain",
                               hovertemplate="row %{y}, col %{x}: elevation %{z:.3f}"
                                             "<extra></extra>"))
    if level is not None and np.any(wet):
        water = np.where(wet, level, np.nan)
        fig.add_surface(z=water, x=xs, y=ys, colorscale=[[0, "#2b7bba"], [1, "#2b7bba"]],
                        opacity=0.65, showscale=False, name="water", hoverinfo="skip")
    fig.update_layout(height=460, margin=dict(l=0, r=0, t=0, b=0),
                      scene=dict(xaxis_title="column", yaxis_title="row", zaxis_title="elevation",
                                 yaxis=dict(autorange="reversed"),
                                 aspectratio=dict(x=1, y=heights.shape[0] / heights.shape[1],
                                                  z=0.45),
                                 camera=dict(eye=dict(x=0.8, y=1.35, z=0.9))))
    return fig


def profile_figure(profile: np.ndarray, state: Flood) -> go.Figure:
    """One row of the terrain as a curve, with the water of a 1-D flooding of it:
    each lake a bar per pixel from the ground up to the water level, in its basin's
    colour, and each dam a white bar as high as the water.

    Examples
    --------
    >>> p = np.array([0.0, 1, 3, 1, 0])
    >>> fig = profile_figure(p, flood(p, np.array([1, 0, 0, 0, 2]), level=3))
    >>> [trace.name for trace in fig.data]
    ['terrain', 'water', 'dams']
    """
    profile = np.asarray(profile, np.float64)
    xs = np.arange(profile.size)
    fig = go.Figure(go.Scatter(x=xs, y=profile, mode="lines", name="terrain", fill="tozeroy",
                               line=dict(color="#555555", width=2), fillcolor="#cfcfcf"))
    lake = state.labels > 0
    palette = label_palette(int(state.labels.max(initial=0)))
    colours = [hex_colour(palette[lab]) for lab in state.labels[lake]]
    depth = np.maximum(state.level - profile, 0)
    fig.add_bar(x=xs[lake], y=depth[lake], base=profile[lake], width=1.0, name="water",
                marker=dict(color=colours, line_width=0), opacity=0.85,
                hovertemplate="col %{x}: water depth %{y:.3f}<extra></extra>")
    fig.add_bar(x=xs[state.dams], y=depth[state.dams] + 0.02 * (profile.max() - profile.min()),
                base=profile[state.dams], width=1.0, name="dams",
                marker=dict(color=hex_colour(DAM_COLOUR), line=dict(color="#222222", width=1)))
    fig.add_hline(y=state.level, line_dash="dot", line_color="#2b7bba",
                  annotation_text=f"level {state.level:.3f}", annotation_position="top left")
    fig.update_layout(height=300, margin=dict(l=10, r=10, t=30, b=10), barmode="overlay",
                      bargap=0, xaxis_title="column", yaxis_title="elevation",
                      legend=dict(orientation="h", y=1.15))
    return fig
