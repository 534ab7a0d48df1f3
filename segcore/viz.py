"""Pictures of segmentations: overlays, label colours, error maps, and plotly figures.

Array functions return ``(H, W, 3) float32`` images in [0, 1]; figure builders
return ``plotly.graph_objects.Figure``. Nothing here draws on screen.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from segcore import _parallel
from segcore.color import label_palette, to_gray
from segcore.registry import Segmentation

__all__ = [
    "label_palette",
    "color_labels",
    "overlay",
    "boundaries",
    "error_map",
    "error_legend",
    "hex_colour",
    "display_rgb",
    "label_names",
    "histogram_marks",
    "to_uint8",
    "to_rgb",
    "before_after",
    "histogram_figure",
    "probability_figure",
    "confusion_figure",
    "score_box_figure",
    "sweep_figure",
    "ERROR_COLORS",
]

# Found, wrongly marked, missed, wrong object class: colour-blind-safe (Okabe-Ito),
# indexed like segcore.metrics.ERROR_KINDS[1:].
ERROR_COLORS = {"tp": (0.0, 0.62, 0.45), "fp": (0.84, 0.37, 0.0), "fn": (0.0, 0.45, 0.70),
                "wrong": (0.8, 0.47, 0.65)}
#: Longest side of the pictures :func:`display_rgb` makes for a screen.
DISPLAY_SIDE = 900


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
    image = np.asarray(image)
    if image.ndim == 0:
        return np.round(np.clip(image, 0, 1) * 255).astype(np.uint8)
    out = np.empty(image.shape, np.uint8)

    # round(clip(x) * 255) in place, a block of rows per core, each block in its own
    # scratch while it is in the cache: every rerun that shows a result converts one
    # (1 MP: four whole-image passes, ~15 ms, before).
    def convert(rows):
        block = np.clip(image[rows], 0, 1)
        block *= 255
        np.rint(block, out=block)
        out[rows] = block

    _parallel.run(convert, image.shape[0], image[:1].size)
    return out


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
    from skimage.segmentation import find_boundaries  # loads when first needed

    out = to_rgb(image).copy()
    out[find_boundaries(labels, mode="inner")] = np.asarray(color, np.float32)
    return out


def overlay(image: np.ndarray, labels: np.ndarray, *, alpha: float = 0.5,
            show_boundaries: bool = True, boundary_color=(1.0, 0.9, 0.0)) -> np.ndarray:
    """Blend label colours over the image with opacity ``alpha``; unlabelled pixels
    (``0``) show the image as it is.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1], or uint8 pixels
        A ``uint8`` picture (a screen's, :func:`display_rgb`) gives a ``uint8``
        overlay: the same blend, rounded to whole levels.
    labels : (H, W) int ndarray
    alpha : float in [0, 1]

    Examples
    --------
    >>> img = np.zeros((2, 2, 1), np.float32)
    >>> overlay(img, np.zeros((2, 2), int)).max()
    np.float32(0.0)
    >>> overlay(np.zeros((1, 2, 3), np.uint8), np.array([[0, 1]]), show_boundaries=False).tolist()
    [[[0, 0, 0], [121, 104, 42]]]
    """
    if not 0 <= alpha <= 1:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    pixels = np.asarray(image).dtype == np.uint8
    rgb = _rgb_pixels(image) if pixels else to_rgb(image)
    if rgb.shape[:2] != np.shape(labels):
        raise ValueError(f"image {rgb.shape[:2]} and labels {np.shape(labels)} differ in size")
    labels = np.asarray(labels)
    scale = np.float32(255 if pixels else 1)
    palette = label_palette(int(labels.max(initial=0))) * scale
    opacity = np.full(len(palette), alpha, np.float32)
    opacity[0] = 0.0  # unlabelled pixels keep the image
    out = np.empty(rgb.shape, rgb.dtype)
    if pixels and len(palette) <= TABLE_LABELS:
        _blend_by_table(rgb, labels, palette, opacity, out)
    else:
        _blend(rgb, labels, palette, opacity, out, rounded=pixels)
    if show_boundaries:
        from skimage.segmentation import find_boundaries  # loads when first needed

        out[find_boundaries(labels, mode="inner")] = np.rint(
            np.asarray(boundary_color, np.float32) * scale) if pixels else boundary_color
    return out


#: Up to this many labels, an 8-bit overlay looks its pixels up in a table.
TABLE_LABELS = 4096


def _blend(rgb, labels, palette, opacity, out, *, rounded: bool) -> None:
    # rgb + opacity * (colour - rgb), in place, a block of rows per core: this runs on
    # every rerun of a page that shows a result (1 MP: 48 ms -> 21 ms).
    def blend(rows):
        block = rgb[rows]
        mixed = palette[labels[rows]]
        mixed -= block
        mixed *= opacity[labels[rows]][..., None]
        mixed += block
        if rounded:
            np.rint(mixed, out=mixed)
        out[rows] = mixed

    _parallel.run(blend, rgb.shape[0], rgb.shape[1] * 3)


def _blend_by_table(rgb, labels, palette, opacity, out) -> None:
    # An 8-bit channel has 256 values: the blend of each (label, value) pair, worked
    # out once with _blend's float32 operations in its order (so the same numbers),
    # is a table of labels x 256, and every pixel is one lookup per channel (0.6 MP:
    # 4 ms instead of 11 ms).
    values = np.arange(256, dtype=np.float32)
    tables = []
    for c in range(3):
        table = palette[:, c, None] - values
        table *= opacity[:, None]
        table += values
        np.rint(table, out=table)
        tables.append(table.astype(np.uint8).ravel())

    def look_up(rows):
        row_of_label = labels[rows].astype(np.intp) << 8
        for c in range(3):  # mode="clip": every index is in the table (and no buffer)
            np.take(tables[c], row_of_label + rgb[rows, :, c], out=out[rows, :, c],
                    mode="clip")

    _parallel.run(look_up, rgb.shape[0], rgb.shape[1] * 3)


def _rgb_pixels(picture: np.ndarray) -> np.ndarray:
    """``uint8`` pixels ``(H, W)`` or ``(H, W, C)`` as ``(H, W, 3)`` (gray repeated)."""
    rgb = picture if picture.ndim == 3 else picture[:, :, None]
    return np.repeat(rgb, 3, axis=2) if rgb.shape[2] == 1 else rgb


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


def error_map(kinds: np.ndarray, *, image: np.ndarray | None = None) -> np.ndarray:
    """Colour a map of :func:`segcore.metrics.error_kinds`: found, wrongly marked,
    missed and other-label pixels in :data:`ERROR_COLORS`; correct background shows
    the dimmed image (or black).

    Examples
    --------
    >>> m = error_map(np.array([[1, 2, 3, 4]]))
    >>> [hex_colour(px) for px in m[0]]
    ['#009e73', '#d65e00', '#0073b2', '#cc78a6']
    """
    kinds = np.asarray(kinds)
    out = np.zeros(kinds.shape + (3,), np.float32)
    if image is not None:
        rgb = to_rgb(image)
        if rgb.shape[:2] != kinds.shape:
            raise ValueError(f"image {rgb.shape[:2]} and error map {kinds.shape} differ in size")
        out[:] = 0.35 * rgb
    for value, name in enumerate(("tp", "fp", "fn", "wrong"), start=1):
        out[kinds == value] = ERROR_COLORS[name]
    return out


def error_legend(kinds: np.ndarray | None = None) -> str:
    """An HTML line naming the colours of :func:`error_map` (only those present
    in ``kinds``, when given).

    Examples
    --------
    >>> error_legend(np.array([[0, 1]]))
    "<span style='color:#009e73'>&#9632;</span> found"
    """
    words = {"tp": "found", "fp": "wrongly marked (object where the truth has background)",
             "fn": "missed (background where the truth has an object)",
             "wrong": "other label (another object class, or a region matched to no class)"}
    present = None if kinds is None else set(np.unique(kinds).tolist())
    return " &nbsp; ".join(
        f"<span style='color:{hex_colour(ERROR_COLORS[name])}'>&#9632;</span> {words[name]}"
        for value, name in enumerate(words, start=1) if present is None or value in present)


def hex_colour(rgb) -> str:
    """An RGB triple in [0, 1] as a ``#rrggbb`` string.

    Examples
    --------
    >>> hex_colour((1.0, 0.5, 0.0))
    '#ff8000'
    """
    return "#%02x%02x%02x" % tuple(int(round(float(v) * 255)) for v in rgb)


def display_rgb(image: np.ndarray, *, side: int = DISPLAY_SIDE) -> np.ndarray:
    """A ``uint8`` RGB picture for a screen, no larger than ``side`` pixels on its
    longer side; small images are enlarged by whole pixels so that a browser does
    not blur their labels. ``image`` is a float image in [0, 1] or ``uint8`` pixels,
    ``(H, W)`` or ``(H, W, C)``.

    Examples
    --------
    >>> display_rgb(np.zeros((2000, 1000, 1), np.float32), side=900).shape
    (900, 450, 3)
    >>> display_rgb(np.zeros((10, 20, 3), np.float32), side=900).shape
    (300, 600, 3)
    >>> display_rgb(np.full((4, 4), 255, np.uint8), side=900)[0, 0].tolist()
    [255, 255, 255]
    """
    from PIL import Image

    from segcore.io import preview_shape

    if image.dtype == np.uint8:
        rgb = _rgb_pixels(image)
    else:
        rgb = to_uint8(to_rgb(image))
    h, w = rgb.shape[:2]
    factor = (side * 2 // 3) // max(h, w)
    if factor >= 2:
        return np.repeat(np.repeat(rgb, factor, axis=0), factor, axis=1)
    if max(h, w) <= side:
        return rgb
    scale = side / max(h, w)
    small = preview_shape(rgb.shape, max_pixels=max(1, round(h * scale)) * max(1, round(w * scale)))
    # segcore.io.preview's filter, on the 8-bit picture in one call rather than on
    # each float channel: within one gray level of it, in a third of the time.
    return np.asarray(Image.fromarray(np.ascontiguousarray(rgb)).resize(
        small[::-1], Image.Resampling.BILINEAR))


def label_names(seg: Segmentation) -> list[str]:
    """A name for each label of ``seg``'s probabilities: the class names where the
    method gives them (``extras["classes"]``), else ``label 1..K``.

    Examples
    --------
    >>> label_names(Segmentation(labels=np.ones((2, 2), np.int32),
    ...                          probabilities=np.ones((2, 2, 2), np.float32)))
    ['label 1', 'label 2']
    """
    k = seg.probabilities.shape[2] if seg.probabilities is not None else int(seg.labels.max())
    classes = seg.extras.get("classes")
    if classes and len(classes) == k:
        return [f"{i + 1}: {name}" for i, name in enumerate(classes)]
    return [f"label {i + 1}" for i in range(k)]


def histogram_marks(seg: Segmentation | None) -> list[str]:
    """What :func:`histogram_figure` draws for ``seg`` beside the gray-value
    histogram, in plain words (one phrase each), so a caption never promises
    more than the figure shows.

    Thresholds (``extras["thresholds"]``, without a per-pixel map) are red lines;
    cluster centres on gray features (``extras["centres"]``) dashed lines; a
    Gaussian mixture on gray features (``extras["means"]`` ...) its components'
    curves. Otherwise the histogram is stacked by label colour (up to 12 labels).

    Examples
    --------
    >>> histogram_marks(Segmentation(labels=np.ones((2, 2), np.int32),
    ...                              extras={"thresholds": [0.5]}))
    ['the threshold as a red line']
    """
    if seg is None:
        return []
    extras = seg.extras
    gray = extras.get("features") == "gray"
    marks = []
    thresholds = extras.get("thresholds", [])
    if thresholds and "threshold_map" not in extras:
        marks.append("the threshold" + ("s as red lines" if len(thresholds) > 1 else
                                        " as a red line"))
    if "centres" in extras and gray:
        marks.append("the cluster centres as dashed lines")
    if "means" in extras and "covariances" in extras and gray:
        marks.append("each Gaussian component, weighted, as a curve")
    if not thresholds and seg.n_regions <= 12:
        marks.append("the pixels of each label stacked in its colour")
    return marks


def histogram_figure(image: np.ndarray, seg: Segmentation | None = None, *, bins: int = 128) -> go.Figure:
    """Histogram of gray values with what the method decided drawn on it, as
    :func:`histogram_marks` says.

    Examples
    --------
    >>> fig = histogram_figure(np.linspace(0, 1, 100, dtype=np.float32).reshape(10, 10))
    >>> fig.data[0].type
    'bar'
    """
    gray = to_gray(np.asarray(image, np.float32))
    edges = np.linspace(0, 1, bins + 1)
    centres = (edges[:-1] + edges[1:]) / 2
    width = edges[1] - edges[0]
    fig = go.Figure()
    marks = histogram_marks(seg)
    extras = seg.extras if seg is not None else {}
    if any("stacked" in m for m in marks):
        palette = label_palette(int(seg.labels.max()))
        for lab in np.unique(seg.labels):
            counts, _ = np.histogram(gray[seg.labels == lab], bins=edges)
            name = "unlabelled" if lab == 0 else f"label {lab}"
            fig.add_bar(x=centres, y=counts, width=width, name=name,
                        marker_color=hex_colour(palette[lab]), marker_line_width=0)
        fig.update_layout(barmode="stack")
    else:
        counts, _ = np.histogram(gray, bins=edges)
        fig.add_bar(x=centres, y=counts, width=width, name="pixels", marker_color="#7f7f7f",
                    marker_line_width=0)
    if any("threshold" in m for m in marks):
        for t in extras["thresholds"]:
            fig.add_vline(x=t, line_color="#d62728", line_width=2,
                          annotation_text=f"{t:.3f}", annotation_position="top")
    if any("centres" in m for m in marks):
        for c in np.asarray(extras["centres"])[:, 0]:
            fig.add_vline(x=float(c), line_dash="dash", line_color="#1f77b4")
    if any("Gaussian" in m for m in marks):
        n = gray.size
        xs = np.linspace(0, 1, 400)
        palette = label_palette(len(extras["weights"]))
        covs = np.asarray(extras["covariances"]).reshape(-1)
        if covs.size == 1:  # tied: one shared variance
            covs = np.repeat(covs, len(extras["weights"]))
        for i, (w, m, v) in enumerate(zip(extras["weights"], np.asarray(extras["means"])[:, 0],
                                          covs)):
            density = w * np.exp(-(xs - m) ** 2 / (2 * v)) / np.sqrt(2 * np.pi * v)
            fig.add_scatter(x=xs, y=density * n * width, mode="lines", name=f"component {i + 1}",
                            line=dict(color=hex_colour(palette[i + 1]), width=3))
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


def score_box_figure(scores, *, measure: str, names=None) -> go.Figure:
    """One box per method of its per-image scores over a dataset, every image a dot
    (hover shows its name), the mean a dashed line: how spread a method's results are,
    not only its average.

    Parameters
    ----------
    scores : dict of str to sequence of float
        Method label to its score on each image (NaN for none).
    measure : str
        The axis title, e.g. ``"Covering (higher is better)"``.
    names : sequence of str, optional
        The images' names, in the order of every score list.

    Examples
    --------
    >>> fig = score_box_figure({"K-means": [0.5, 0.7], "SLIC": [0.6, 0.8]}, measure="IoU",
    ...                        names=["a", "b"])
    >>> [trace.name for trace in fig.data], list(fig.data[0].text)
    (['K-means', 'SLIC'], ['a', 'b'])
    """
    fig = go.Figure()
    palette = label_palette(len(scores) + 1)
    for i, (method, values) in enumerate(scores.items()):
        fig.add_box(y=list(values), name=method, boxpoints="all", jitter=0.4, pointpos=0,
                    boxmean=True, text=list(names) if names is not None else None,
                    hovertemplate="%{text}: %{y:.3f}<extra>" + method + "</extra>",
                    marker=dict(color=hex_colour(palette[i + 1]), size=6),
                    line=dict(color=hex_colour(palette[i + 1])))
    fig.update_layout(yaxis_title=measure, showlegend=False, height=360,
                      margin=dict(l=10, r=10, t=10, b=10))
    return fig


def sweep_figure(found, marks=(), *, log: bool = False) -> go.Figure:
    """The scores of a try-all sweep against the swept parameter: IoU and Dice as
    curves over one parameter (each automatic choice a dashed line where it lands and
    a diamond at its IoU, named on hover), or the headline score as a heat map over two.

    Parameters
    ----------
    found : segcore.sweep.Sweep
        Run with a truth (else there is nothing to draw).
    marks : sequence of segcore.sweep.Mark
        Where the method's automatic choices land on the (first) axis.
    log : bool
        A logarithmic parameter axis (for parameters the spec sweeps geometrically).

    Examples
    --------
    >>> from segcore import synthetic, sweep
    >>> s = synthetic.two_regions((24, 24))
    >>> found = sweep.sweep(s.image, "threshold", {"level": [0.25, 0.5, 0.75]}, truth=s.truth)
    >>> fig = sweep_figure(found, sweep.marks(s.image, "threshold", "level", truth=s.truth))
    >>> [t.name for t in fig.data], fig.layout.shapes[0].line.dash
    (['IoU', 'Dice', 'automatic choices'], 'dash')
    """
    names = list(found.axes)
    fig = go.Figure()
    if len(names) == 1:
        x = list(found.axes[names[0]])
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in x)
        for metric, colour in (("iou", "#0072b2"), ("dice", "#e69f00")):
            fig.add_scatter(x=x if numeric else [str(v) for v in x],
                            y=found.score_grid(metric).tolist(), name=metric.replace(
                                "iou", "IoU").replace("dice", "Dice"), mode="lines+markers",
                            line=dict(color=colour))
        shown = [m for m in marks if m.value is not None and numeric]
        for mark in shown:
            fig.add_vline(x=mark.value, line=dict(dash="dash", color="#999", width=1))
        if shown:  # automatic choices often land close together: named on hover
            fig.add_scatter(x=[m.value for m in shown],
                            y=[m.scores["iou"] if m.scores else 0.0 for m in shown],
                            mode="markers", name="automatic choices",
                            marker=dict(symbol="diamond", size=10, color="#d55e00"),
                            text=[m.name for m in shown],
                            hovertemplate="%{text}: %{x:.3g}, IoU %{y:.3f}<extra></extra>")
        fig.update_xaxes(title=names[0], type="log" if log and numeric else None)
        fig.update_yaxes(title="score", range=[0, 1.02])
        fig.update_layout(legend=dict(orientation="h", y=-0.25))
    else:
        grid = found.score_grid()
        fig.add_heatmap(z=grid.tolist(), x=[str(v) for v in found.axes[names[1]]],
                        y=[str(v) for v in found.axes[names[0]]], zmin=0, zmax=1,
                        colorscale="Viridis", colorbar=dict(title=found.metric or ""),
                        hovertemplate=f"{names[0]} %{{y}}, {names[1]} %{{x}}: %{{z:.3f}}"
                                      "<extra></extra>")
        fig.update_xaxes(title=names[1], type="category")
        fig.update_yaxes(title=names[0], type="category")
    fig.update_layout(height=340, margin=dict(l=10, r=10, t=50, b=10))
    return fig
