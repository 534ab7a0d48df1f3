"""Pictures of segmentations: overlays, label colours, error maps, and plotly figures.

Array functions return ``(H, W, 3) float32`` images in [0, 1]; figure builders
return ``plotly.graph_objects.Figure``. Nothing here draws on screen.
"""

from __future__ import annotations

import colorsys

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots
from skimage.segmentation import find_boundaries

from segcore.color import to_gray
from segcore.registry import Segmentation

__all__ = [
    "label_palette",
    "color_labels",
    "overlay",
    "boundaries",
    "error_map",
    "to_uint8",
    "to_rgb",
    "before_after",
    "histogram_figure",
    "probability_figure",
    "confusion_figure",
    "ERROR_COLORS",
]

# True positive, false positive, false negative: colour-blind-safe (Okabe-Ito).
ERROR_COLORS = {"tp": (0.0, 0.62, 0.45), "fp": (0.84, 0.37, 0.0), "fn": (0.0, 0.45, 0.70)}


def label_palette(n: int) -> np.ndarray:
    """``(n + 1, 3) float32`` colours: row 0 (unlabelled) black, rows ``1..n`` spread
    around the hue circle by the golden ratio, so neighbouring labels differ and a
    label keeps its colour whatever ``n`` is.

    Examples
    --------
    >>> p = label_palette(3)
    >>> p.shape, p[0].tolist()
    ((4, 3), [0.0, 0.0, 0.0])
    """
    out = np.zeros((n + 1, 3), np.float32)
    for i in range(1, n + 1):
        hue = (0.13 + (i - 1) * 0.618033988749895) % 1.0
        sat, val = (0.65, 0.95) if i % 2 else (0.8, 0.75)
        out[i] = colorsys.hsv_to_rgb(hue, sat, val)
    return out


def to_rgb(image: np.ndarray) -> np.ndarray:
    """An ``(H, W, C)`` image in [0, 1] as ``(H, W, 3) float32`` (gray repeated).

    Examples
    --------
    >>> to_rgb(np.zeros((2, 2, 1), np.float32)).shape
    (2, 2, 3)
    """
    img = np.asarray(image, np.float32)
    if img.ndim == 2:
        img = img[:, :, None]
    return np.repeat(img, 3, axis=2) if img.shape[2] == 1 else img


def to_uint8(image: np.ndarray) -> np.ndarray:
    """A float image in [0, 1] as ``uint8`` in [0, 255] (rounded), for display and PNG.

    Examples
    --------
    >>> to_uint8(np.array([[0.0, 0.5, 1.0]]))
    array([[  0, 128, 255]], dtype=uint8)
    """
    return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)


def color_labels(labels: np.ndarray) -> np.ndarray:
    """Label image to colours, ``(H, W, 3) float32``; ``0`` is black.

    Examples
    --------
    >>> color_labels(np.array([[0, 1]])).shape
    (1, 2, 3)
    """
    labels = np.asarray(labels)
    return label_palette(int(labels.max(initial=0)))[labels]


def boundaries(image: np.ndarray, labels: np.ndarray, *, color=(1.0, 0.9, 0.0)) -> np.ndarray:
    """The image with region boundaries drawn on it in ``color``.

    Examples
    --------
    >>> img = np.zeros((4, 4, 1), np.float32); lab = np.ones((4, 4), int); lab[:, 2:] = 2
    >>> boundaries(img, lab)[0, 1].tolist()
    [1.0, 0.8999999761581421, 0.0]
    """
    out = to_rgb(image).copy()
    out[find_boundaries(labels, mode="inner")] = np.asarray(color, np.float32)
    return out


def overlay(image: np.ndarray, labels: np.ndarray, *, alpha: float = 0.5,
            show_boundaries: bool = True, boundary_color=(1.0, 0.9, 0.0)) -> np.ndarray:
    """Blend label colours over the image with opacity ``alpha``; unlabelled pixels
    (``0``) show the image as it is.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    labels : (H, W) int ndarray
    alpha : float in [0, 1]

    Examples
    --------
    >>> img = np.zeros((2, 2, 1), np.float32)
    >>> overlay(img, np.zeros((2, 2), int)).max()
    np.float32(0.0)
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    rgb = to_rgb(image)
    if rgb.shape[:2] != np.shape(labels):
        raise ValueError(f"image {rgb.shape[:2]} and labels {np.shape(labels)} differ in size")
    colours = color_labels(labels)
    a = np.where(np.asarray(labels)[..., None] > 0, alpha, 0.0).astype(np.float32)
    out = (1 - a) * rgb + a * colours
    if show_boundaries:
        out[find_boundaries(labels, mode="inner")] = np.asarray(boundary_color, np.float32)
    return out.astype(np.float32)


def before_after(image: np.ndarray, labels: np.ndarray, *, position: float,
                 alpha: float = 0.5) -> np.ndarray:
    """The overlay left of ``position`` (a fraction of the width), the plain image
    right of it, and a white line where they meet.

    Examples
    --------
    >>> out = before_after(np.zeros((2, 10, 1), np.float32), np.ones((2, 10), int), position=0.5)
    >>> out[0, 9].tolist(), out[0, 5].tolist()
    ([0.0, 0.0, 0.0], [1.0, 1.0, 1.0])
    """
    if not 0 <= position <= 1:
        raise ValueError(f"position must be in [0, 1], got {position}")
    rgb = to_rgb(image)
    out = rgb.copy()
    col = int(round(position * rgb.shape[1]))
    if col > 0:
        out[:, :col] = overlay(rgb[:, :col], labels[:, :col], alpha=alpha)
    out[:, max(0, col - 1):min(rgb.shape[1], col + 1)] = 1.0
    return out


def error_map(pred: np.ndarray, truth: np.ndarray, *, image: np.ndarray | None = None) -> np.ndarray:
    """Where a binary prediction agrees with the truth: true positives, false positives
    and false negatives in :data:`ERROR_COLORS`; true negatives show the dimmed image
    (or black).

    Examples
    --------
    >>> m = error_map(np.array([[1, 1, 0]]), np.array([[1, 0, 1]]))
    >>> [tuple(round(float(v), 2) for v in px) for px in m[0]]
    [(0.0, 0.62, 0.45), (0.84, 0.37, 0.0), (0.0, 0.45, 0.7)]
    """
    pred, truth = np.asarray(pred).astype(bool), np.asarray(truth).astype(bool)
    if pred.shape != truth.shape:
        raise ValueError(f"prediction {pred.shape} and truth {truth.shape} differ in size")
    out = np.zeros(pred.shape + (3,), np.float32)
    if image is not None:
        out[:] = 0.35 * to_rgb(image)
    out[pred & truth] = ERROR_COLORS["tp"]
    out[pred & ~truth] = ERROR_COLORS["fp"]
    out[~pred & truth] = ERROR_COLORS["fn"]
    return out


def _hex(rgb) -> str:
    return "#%02x%02x%02x" % tuple(int(round(float(v) * 255)) for v in rgb)


def histogram_figure(image: np.ndarray, seg: Segmentation | None = None, *, bins: int = 128) -> go.Figure:
    """Histogram of gray values with what the method decided drawn on it.

    Thresholds become vertical lines; k-means centres (on gray features) dashed
    lines; a GMM on gray values adds each weighted component's density curve.
    Otherwise, when ``seg`` has labels, the histogram is stacked by label colour.

    Examples
    --------
    >>> fig = histogram_figure(np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10))
    >>> fig.data[0].type
    'bar'
    """
    gray = to_gray(np.asarray(image, np.float32) if np.ndim(image) == 3 else np.asarray(image, np.float32))
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig = go.Figure()
    extras = seg.extras if seg is not None else {}
    stacked = seg is not None and not extras.get("thresholds") and seg.n_regions <= 12
    if stacked:
        palette = label_palette(int(seg.labels.max()))
        for lab in np.unique(seg.labels):
            counts, _ = np.histogram(gray[seg.labels == lab], bins=edges)
            name = "unlabelled" if lab == 0 else f"label {lab}"
            fig.add_bar(x=centres, y=counts, width=width, name=name, marker_color=_hex(palette[lab]),
                        marker_line_width=0)
        fig.update_layout(barmode="stack")
    else:
        counts, _ = np.histogram(gray, bins=edges)
        fig.add_bar(x=centres, y=counts, width=width, name="pixels", marker_color="#7f7f7f",
                    marker_line_width=0)
    for t in extras.get("thresholds", []) if "threshold_map" not in extras else []:
        fig.add_vline(x=t, line_color="#d62728", line_width=2,
                      annotation_text=f"{t:.3f}", annotation_position="top")
    if seg is not None and seg.method == "kmeans" and extras.get("features") == "gray":
        for c in extras["centres"][:, 0]:
            fig.add_vline(x=float(c), line_dash="dash", line_color="#1f77b4")
    if seg is not None and seg.method == "gmm" and extras.get("features") == "gray":
        n = gray.size
        xs = np.linspace(0, 1, 400)
        palette = label_palette(len(extras["weights"]))
        covs = np.asarray(extras["covariances"]).reshape(-1)
        if covs.size == 1:  # tied: one shared variance
            covs = np.repeat(covs, len(extras["weights"]))
        for i, (w, m, v) in enumerate(zip(extras["weights"], extras["means"][:, 0], covs)):
            density = w * np.exp(-(xs - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
            fig.add_scatter(x=xs, y=density * n * width, mode="lines", name=f"component {i + 1}",
                            line=dict(color=_hex(palette[i + 1]), width=3))
    fig.update_layout(xaxis_title="gray value", yaxis_title="pixels", bargap=0,
                      margin=dict(l=10, r=10, t=30, b=10), height=300,
                      legend=dict(orientation="h", y=1.12))
    fig.update_xaxes(range=[0, 1])
    return fig


def probability_figure(probabilities: np.ndarray, *, names=None) -> go.Figure:
    """One heatmap per class of an ``(H, W, K)`` probability array, side by side.

    Examples
    --------
    >>> fig = probability_figure(np.full((4, 4, 2), 0.5, np.float32))
    >>> len(fig.data)
    2
    """
    probs = np.asarray(probabilities)
    if probs.ndim != 3:
        raise ValueError(f"probabilities must be (H, W, K), got shape {probs.shape}")
    k = probs.shape[2]
    names = list(names) if names is not None else [f"label {i + 1}" for i in range(k)]
    cols = min(k, 4)
    rows = -(-k // cols)
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=names[:k],
                        horizontal_spacing=0.02, vertical_spacing=0.08)
    step = max(1, int(np.ceil(max(probs.shape[:2]) / 400)))  # a browser needs no more
    for i in range(k):
        fig.add_heatmap(z=probs[::step, ::step, i], zmin=0, zmax=1, colorscale="Viridis",
                        showscale=(i == 0), row=i // cols + 1, col=i % cols + 1,
                        colorbar=dict(title="p"))
    fig.update_yaxes(autorange="reversed", scaleanchor="x", showticklabels=False)
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(height=300 * rows, margin=dict(l=10, r=10, t=40, b=10))
    return fig


def confusion_figure(matrix: np.ndarray, classes=None, *, predicted=None,
                     normalize: bool = True) -> go.Figure:
    """Heatmap of a confusion matrix (rows: truth, columns: prediction), each row
    normalised to fractions when ``normalize``; the counts are in the hover text.

    ``predicted`` names the columns when they differ from the rows, e.g. an extra
    column for predicted labels that matched no class (then the matrix is
    ``(K, K + 1)``).

    Examples
    --------
    >>> confusion_figure(np.array([[5, 1], [0, 4]])).data[0].type
    'heatmap'
    >>> confusion_figure(np.array([[5, 1, 2]]), ["a"], predicted=["a", "b", "none"]).data[0].x
    ('a', 'b', 'none')
    """
    m = np.asarray(matrix, np.float64)
    rows = [str(c) for c in (classes if classes is not None else range(m.shape[0]))]
    cols = [str(c) for c in predicted] if predicted is not None else rows
    if (len(rows), len(cols)) != m.shape:
        raise ValueError(f"a {m.shape} matrix needs {m.shape[0]} row and {m.shape[1]} column names, "
                         f"got {len(rows)} and {len(cols)}")
    z = m / np.maximum(m.sum(1, keepdims=True), 1) if normalize else m
    text = [[f"{z[i, j]:.2f}" if normalize else f"{int(m[i, j])}" for j in range(m.shape[1])]
            for i in range(m.shape[0])]
    fig = go.Figure(go.Heatmap(z=z, x=cols, y=rows, colorscale="Blues", text=text,
                               texttemplate="%{text}", customdata=m,
                               hovertemplate="truth %{y}, predicted %{x}: %{customdata:d} pixels"
                                             "<extra></extra>"))
    fig.update_layout(xaxis_title="predicted", yaxis_title="truth", height=360,
                      margin=dict(l=10, r=10, t=10, b=10))
    fig.update_yaxes(autorange="reversed", type="category")
    fig.update_xaxes(type="category")
    return fig
