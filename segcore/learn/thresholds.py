"""The numbers of the lesson on histograms and thresholds.

Otsu's method scores every candidate threshold ``t`` of a gray histogram by the
between-class variance ``w0(t) w1(t) (m0(t) - m1(t))**2`` and keeps the best. Since
the total variance is the within-class variance plus the between-class variance,
the best ``t`` is also the split with the least within-class variance: the best
two-means clustering of the gray values. This module computes that curve on the
very histogram scikit-image's ``threshold_otsu`` uses (so its maximum is Otsu's
threshold, tested), the two-means iteration, every global algorithm's threshold,
scores against a truth at every threshold, and Sauvola's local threshold at one
pixel.

>>> from segcore import synthetic
>>> gray = synthetic.blobs((64, 64)).image[:, :, 0]
>>> curve = otsu_curve(gray)
>>> bool(0.3 < curve.threshold < 0.6)
True
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from skimage import exposure, filters

from segcore.methods.threshold import GLOBAL, global_threshold

__all__ = ["BINS", "OtsuCurve", "otsu_curve", "two_means", "all_thresholds",
           "objects_brighter", "threshold_scores", "LocalThreshold", "sauvola_at",
           "local_against_global", "ink_picture", "histogram_figure", "scores_figure"]

#: Histogram bins, as scikit-image's threshold functions use by default.
BINS = 256


@dataclass(frozen=True)
class OtsuCurve:
    """Otsu's quantities at every candidate threshold of one histogram.

    A candidate ``thresholds[i]`` (a bin centre) puts the bins ``0..i`` below and the
    rest above; ``weight_*`` are the fractions of pixels on each side and ``mean_*``
    their mean gray values. ``between`` is ``w0 w1 (m0 - m1)**2`` and ``within`` the
    pixel-weighted variance inside the two classes; ``between + within == total``.

    Attributes
    ----------
    counts, centres : (B,) ndarrays
        The histogram (pixel counts, bin centres in gray values).
    thresholds, weight_below, weight_above, mean_below, mean_above, between, within : (B-1,)
    total : float
        The variance of all gray values (of the binned histogram).

    Examples
    --------
    >>> c = otsu_curve(np.array([[0.1, 0.1, 0.9, 0.9]]), bins=4)
    >>> c.threshold, float(c.between.max()), c.total  # values are binned at the bin centres
    (np.float64(0.2), 0.09000000000000002, 0.09000000000000001)
    """

    counts: np.ndarray
    centres: np.ndarray
    thresholds: np.ndarray
    weight_below: np.ndarray
    weight_above: np.ndarray
    mean_below: np.ndarray
    mean_above: np.ndarray
    between: np.ndarray
    within: np.ndarray
    total: float

    @property
    def best(self) -> int:
        """Index of the largest between-class variance (the first, on a tie)."""
        return int(np.argmax(self.between))

    @property
    def threshold(self):
        """Otsu's threshold: the candidate with the largest between-class variance."""
        return self.thresholds[self.best]

    def at(self, t: float) -> int:
        """Index of the candidate threshold nearest to the gray value ``t``."""
        return int(np.abs(self.thresholds - t).argmin())


def otsu_curve(gray: np.ndarray, *, bins: int = BINS) -> OtsuCurve:
    """Otsu's between-class variance (and its parts) at every candidate threshold.

    The histogram is scikit-image's (``bins`` bins over the image's range), so
    ``otsu_curve(g).threshold == skimage.filters.threshold_otsu(g)``.

    Parameters
    ----------
    gray : (H, W) float ndarray
        At least two different values.

    Raises
    ------
    ValueError
        A flat image (one gray value): there is nothing to split.

    Examples
    --------
    >>> g = np.r_[np.full(30, 0.2), np.full(70, 0.7)]
    >>> c = otsu_curve(g, bins=8)
    >>> bool(np.allclose(c.between + c.within, c.total))
    True
    """
    gray = np.asarray(gray, dtype=np.float64)
    if gray.size == 0 or gray.min() == gray.max():
        raise ValueError("the image is flat (one gray value): there is nothing to threshold")
    counts, centres = exposure.histogram(gray.ravel(), nbins=bins, source_range="image")
    counts = counts.astype(np.float64)
    p = counts / counts.sum()
    w0 = np.cumsum(p)[:-1]
    w1 = 1.0 - w0
    s0 = np.cumsum(p * centres)[:-1]
    total_mean = float((p * centres).sum())
    with np.errstate(invalid="ignore", divide="ignore"):
        m0 = np.where(w0 > 0, s0 / w0, np.nan)
        m1 = np.where(w1 > 0, (total_mean - s0) / w1, np.nan)
    between = np.nan_to_num(w0 * w1 * (m0 - m1) ** 2)
    total = float((p * (centres - total_mean) ** 2).sum())
    return OtsuCurve(counts=counts, centres=centres, thresholds=centres[:-1],
                     weight_below=w0, weight_above=w1, mean_below=m0, mean_above=m1,
                     between=between, within=total - between, total=total)


def two_means(gray: np.ndarray, *, start: float | None = None, bins: int = BINS,
              max_iter: int = 100) -> list[dict]:
    """The gray values clustered by two-means (k-means with ``k = 2`` in one
    dimension), on the same histogram as :func:`otsu_curve`.

    Each step splits the histogram at ``t = (m0 + m1) / 2``, the point halfway
    between the two means, then recomputes the means. Starts with the means at the
    darkest and the brightest gray value, or split at ``start``. Returns one
    ``{"threshold", "mean_below", "mean_above", "within"}`` per step; the last is
    the fixed point, where Otsu's (the best) split is one of the candidates.

    Examples
    --------
    >>> g = np.r_[np.full(30, 0.2), np.full(70, 0.7)]
    >>> steps = two_means(g, bins=8)
    >>> round(steps[-1]["threshold"], 3), len(steps) <= 3
    (0.45, True)
    """
    curve = otsu_curve(gray, bins=bins)
    c = curve.centres
    if start is None:
        m0, m1 = float(c[0]), float(c[-1])
    else:
        i = curve.at(start)
        m0, m1 = float(curve.mean_below[i]), float(curve.mean_above[i])
    steps, last = [], None
    for _ in range(max_iter):
        t = (m0 + m1) / 2
        i = int(np.searchsorted(curve.thresholds, t, side="right")) - 1
        i = min(max(i, 0), len(curve.thresholds) - 1)
        if i == last:
            break
        last = i
        m0, m1 = float(curve.mean_below[i]), float(curve.mean_above[i])
        steps.append({"threshold": float(t), "mean_below": m0, "mean_above": m1,
                      "within": float(curve.within[i])})
    return steps


def all_thresholds(gray: np.ndarray) -> dict[str, float | str]:
    """Every global algorithm's threshold on the same gray image: the value, or in
    words why the algorithm has none here (``minimum`` needs two peaks).

    Examples
    --------
    >>> g = np.r_[np.full(30, 0.2), np.full(70, 0.7)].reshape(10, 10)
    >>> t = all_thresholds(g)
    >>> sorted(t) == sorted(GLOBAL), 0.2 <= t["otsu"] < 0.7
    (True, True)
    """
    out = {}
    for name in GLOBAL:
        try:
            out[name] = global_threshold(np.asarray(gray), name)
        except ValueError as err:
            out[name] = str(err)
    return out


def objects_brighter(gray: np.ndarray, objects: np.ndarray) -> bool:
    """Whether the objects are brighter than the background on average (then a
    threshold keeps the pixels above it; otherwise those below).

    Examples
    --------
    >>> objects_brighter(np.array([0.1, 0.9]), np.array([False, True]))
    True
    """
    objects = np.asarray(objects, bool)
    if objects.all() or not objects.any():
        return True
    return bool(gray[objects].mean() >= gray[~objects].mean())


def threshold_scores(gray: np.ndarray, objects: np.ndarray, thresholds, *,
                     brighter: bool = True) -> dict[str, np.ndarray]:
    """IoU and Dice of ``gray > t`` (``gray <= t`` when not ``brighter``) against
    the object pixels, at every threshold ``t``, exactly (pixel by pixel, not by bins).

    Returns ``{"thresholds", "iou", "dice", "precision", "recall"}``; a score with
    nothing predicted and nothing true counts as ``1``.

    Examples
    --------
    >>> g = np.array([0.1, 0.4, 0.6, 0.9]); obj = np.array([False, False, True, True])
    >>> threshold_scores(g, obj, [0.2, 0.5])["iou"].tolist()
    [0.6666666666666666, 1.0]
    """
    gray = np.asarray(gray, np.float64).ravel()
    objects = np.asarray(objects, bool).ravel()
    if gray.shape != objects.shape:
        raise ValueError(f"gray has {gray.size} pixels but objects has {objects.size}")
    t = np.asarray(thresholds, np.float64)
    inside = np.sort(gray[objects])
    outside = np.sort(gray[~objects])
    # Pixels at or below t, per side: one sorted search, not one mask per threshold.
    below_in = np.searchsorted(inside, t, side="right")
    below_out = np.searchsorted(outside, t, side="right")
    if brighter:
        tp, fp = inside.size - below_in, outside.size - below_out
    else:
        tp, fp = below_in, below_out
    fn = inside.size - tp
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = np.where(tp + fp + fn > 0, tp / (tp + fp + fn), 1.0)
        dice = np.where(2 * tp + fp + fn > 0, 2 * tp / (2 * tp + fp + fn), 1.0)
        precision = np.where(tp + fp > 0, tp / (tp + fp), 1.0)
        recall = np.where(inside.size > 0, tp / max(inside.size, 1), 1.0)
    return {"thresholds": t, "iou": iou, "dice": dice, "precision": precision,
            "recall": recall}


@dataclass(frozen=True)
class LocalThreshold:
    """Sauvola's threshold at one pixel: ``mean * (1 + k (std / r - 1))`` over the
    ``window`` x ``window`` neighbourhood (``r`` is half the range of gray values,
    ``1`` for images in floats, as scikit-image takes it).

    Examples
    --------
    >>> LocalThreshold(0.5, 0.1, 1.0, 0.2, 15, 0.42).threshold
    0.42
    """

    mean: float
    std: float
    r: float
    k: float
    window: int
    threshold: float


def sauvola_at(gray: np.ndarray, row: int, col: int, *, window_size: int,
               std_weight: float) -> LocalThreshold:
    """Sauvola's local threshold at pixel ``(row, col)`` with its parts, as
    ``skimage.filters.threshold_sauvola(gray, window_size, k=std_weight)`` computes
    it there (the neighbourhood mirrored at the border).

    Examples
    --------
    >>> g = np.tile(np.linspace(0, 1, 9), (9, 1))
    >>> lt = sauvola_at(g, 4, 4, window_size=3, std_weight=0.2)
    >>> round(lt.mean, 3), round(lt.threshold, 4)
    (0.5, 0.4102)
    """
    gray = np.asarray(gray, np.float64)
    half = window_size // 2
    padded = np.pad(gray, half, mode="reflect")
    window = padded[row:row + window_size, col:col + window_size]
    mean, std = float(window.mean()), float(window.std())
    r = 1.0  # half of (1 - (-1)): scikit-image's range for float images
    return LocalThreshold(mean=mean, std=std, r=r, k=float(std_weight), window=window_size,
                          threshold=mean * (1 + std_weight * (std / r - 1)))


def local_against_global(gray: np.ndarray, *, window_size: int, std_weight: float) -> dict:
    """Otsu's one threshold against Sauvola's threshold per pixel, on a page whose
    ink is dark: ``{"global", "threshold_map", "global_ink", "local_ink", "pixel",
    "at", "dark_ink"}``.

    ``*_ink`` are the pixels each calls ink (darker than its threshold); ``pixel`` is
    where the two thresholds differ most among the pixels they classify differently,
    at least half a window from the border (the one to look at), ``at`` Sauvola's
    numbers there; ``dark_ink`` the fraction
    of the darkest quarter of the page (by Sauvola's local mean) that each calls ink.

    Examples
    --------
    >>> g = np.tile(np.linspace(0.2, 0.9, 40), (30, 1)); g[10:12, ::3] -= 0.15
    >>> out = local_against_global(g, window_size=9, std_weight=0.2)
    >>> out["global_ink"].shape, sorted(out["dark_ink"])
    ((30, 40), ['global', 'local'])
    """
    gray = np.asarray(gray, np.float64)
    t = global_threshold(gray, "otsu")
    tmap = filters.threshold_sauvola(gray, window_size=window_size, k=std_weight)
    global_ink, local_ink = gray <= t, gray <= tmap
    # The pixel to look at: away from the border (where the window is mirrored), the
    # one whose two thresholds differ the most among those the two classify differently.
    inner = np.zeros(gray.shape, bool)
    m = min(window_size // 2, (min(gray.shape) - 1) // 2)
    inner[m:gray.shape[0] - m, m:gray.shape[1] - m] = True
    differ = (global_ink != local_ink) & inner
    gap = np.where(inner, np.abs(tmap - t), -1.0)
    r, c = np.unravel_index(np.argmax(np.where(differ, gap, -1.0)) if differ.any()
                            else np.argmax(gap), gray.shape)
    mean = filters.threshold_sauvola(gray, window_size=window_size, k=0.0)  # k = 0: the mean
    dark = mean <= np.quantile(mean, 0.25)
    return {"global": float(t), "threshold_map": tmap, "global_ink": global_ink,
            "local_ink": local_ink, "pixel": (int(r), int(c)),
            "at": sauvola_at(gray, int(r), int(c), window_size=window_size,
                             std_weight=std_weight),
            "dark_ink": {"global": float(global_ink[dark].mean()),
                         "local": float(local_ink[dark].mean())}}


def ink_picture(ink: np.ndarray, pixel: tuple[int, int] | None = None) -> np.ndarray:
    """``(H, W, 3)`` float32: ink black on white paper, with ``pixel`` marked by a red
    cross (five pixels each way, clipped at the border).

    Examples
    --------
    >>> pic = ink_picture(np.eye(3, dtype=bool), (1, 1))
    >>> pic[0, 0].tolist(), pic[1, 1].tolist(), pic[0, 2].tolist()
    ([0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    """
    ink = np.asarray(ink, bool)
    out = np.repeat((~ink)[..., None], 3, axis=2).astype(np.float32)
    if pixel is not None:
        r, c = pixel
        red = np.array([1.0, 0.0, 0.0], np.float32)
        out[max(r - 5, 0):r + 6, c] = red
        out[r, max(c - 5, 0):c + 6] = red
    return out


def histogram_figure(curve: OtsuCurve, *, marks: dict[str, float] | None = None,
                     between: bool = False) -> go.Figure:
    """The histogram of an :class:`OtsuCurve` as bars, with vertical lines at the
    ``marks`` (``{name: gray value}``) and, with ``between``, the between-class
    variance at every threshold as a curve on a second axis.

    Examples
    --------
    >>> c = otsu_curve(np.r_[np.full(30, 0.2), np.full(70, 0.7)], bins=8)
    >>> [d.name for d in histogram_figure(c, marks={"Otsu": c.threshold}, between=True).data]
    ['pixels', 'between-class variance', 'Otsu 0.231']
    """
    width = float(curve.centres[1] - curve.centres[0])
    fig = go.Figure()
    fig.add_bar(x=curve.centres, y=curve.counts, width=width, name="pixels",
                marker_color="#9e9e9e", marker_line_width=0)
    if between:
        fig.add_scatter(x=curve.thresholds, y=curve.between, mode="lines", yaxis="y2",
                        name="between-class variance", line=dict(color="#1f77b4", width=3))
    colours = ["#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#e377c2", "#17becf",
               "#bcbd22"]
    top = float(curve.counts.max())
    for i, (name, t) in enumerate((marks or {}).items()):
        # A line trace per mark (not an annotation), so that close thresholds stay legible
        # in the legend instead of printing over each other.
        fig.add_scatter(x=[float(t), float(t)], y=[0, top * 1.05], mode="lines",
                        name=f"{name} {float(t):.3f}",
                        line=dict(color=colours[i % len(colours)], width=2))
    fig.update_layout(xaxis_title="gray value", yaxis_title="pixels", bargap=0, height=320,
                      margin=dict(l=10, r=10, t=40, b=10), legend=dict(orientation="h", y=1.2),
                      yaxis2=dict(title="between-class variance", overlaying="y", side="right",
                                  showgrid=False, rangemode="tozero"))
    return fig


def scores_figure(scores: dict, *, marks: dict[str, float] | None = None) -> go.Figure:
    """IoU and Dice against the threshold (from :func:`threshold_scores`), with
    vertical lines at the ``marks``.

    Examples
    --------
    >>> s = threshold_scores(np.array([0.1, 0.9]), np.array([False, True]), [0.2, 0.5])
    >>> [d.name for d in scores_figure(s, marks={"Otsu": 0.5}).data]
    ['IoU', 'Dice']
    """
    fig = go.Figure()
    fig.add_scatter(x=scores["thresholds"], y=scores["iou"], name="IoU", mode="lines",
                    line=dict(color="#1f77b4", width=3))
    fig.add_scatter(x=scores["thresholds"], y=scores["dice"], name="Dice", mode="lines",
                    line=dict(color="#ff7f0e", width=3))
    for i, (name, t) in enumerate((marks or {}).items()):
        fig.add_vline(x=float(t), line_dash="dash", line_color="#444",
                      annotation_text=f"{name} {float(t):.3f}",
                      annotation_position="top" if i % 2 == 0 else "bottom")
    fig.update_layout(xaxis_title="threshold (gray value)", yaxis_title="score", height=300,
                      yaxis=dict(range=[0, 1.02]), margin=dict(l=10, r=10, t=40, b=10),
                      legend=dict(orientation="h", y=1.2))
    return fig
