"""The graph lesson: an image as a graph, cut into regions four ways.

* **Felzenszwalb.** Every pixel is a node linked to its 8 neighbours by an edge
  whose weight is their colour difference (after a small blur). Edges are looked
  at from the weakest up; two regions ``C1``, ``C2`` merge when the edge between
  them is weaker than what each already holds inside, plus a bonus ``k/|C|``
  that small regions get:
  ``Dif(C1, C2) < min(Int(C1) + k/|C1|, Int(C2) + k/|C2|)``, where ``Int(C)``
  is the largest edge of ``C``'s minimum spanning tree. :func:`felzenszwalb_run`
  replays scikit-image's loop (its labels equal
  :func:`skimage.segmentation.felzenszwalb`'s, tested) and records every merge
  test with its numbers, so a page can step through them.
* **SLIC.** K-means over colour and position: a pixel joins the centre with the
  smallest ``D = sqrt(d_c**2 + (d_s / S)**2 m**2)`` (:func:`slic_distances`).
* **Region adjacency graph.** One node per superpixel, one edge per pair that
  touch, weighted by their mean-colour difference (:func:`region_graph`, the
  edges and weights of :func:`skimage.graph.rag_mean_color`, tested).
* **Spectral clustering.** Link weights ``W = exp(-d**2 / sigma**2)``, the
  Laplacian ``L = D - W`` and the eigenvectors of ``(D - W) y = lambda D y``
  (:func:`laplacian_spectrum`): the second one splits the graph along its weakest
  links (the normalised cut, :func:`fiedler_cut`); k-means on the first ``k``
  gives the engine's :func:`segcore.methods.graph.spectral` labels (tested).

>>> from segcore import synthetic
>>> img = synthetic.colour_shapes((48, 64)).image
>>> run = felzenszwalb_run(img[:24, :24], scale=100)
>>> run.labels.shape, run.n_merges + run.n_regions == 24 * 24
((24, 24), True)
"""

from __future__ import annotations

import base64

from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
from scipy import ndimage as ndi
from scipy import sparse
from scipy.sparse.csgraph import connected_components
from skimage.segmentation import find_boundaries
from skimage.util import regular_grid

from segcore.color import relabel_by_intensity, to_gray, to_space
from segcore.io import png_bytes
from segcore.methods.graph import region_affinity, region_edges, region_means
from segcore.viz import boundaries, color_labels, hex_colour, overlay, to_rgb, to_uint8

__all__ = [
    "CROP",
    "busiest_window",
    "PixelGraph",
    "pixel_graph",
    "Decision",
    "FelzenszwalbRun",
    "felzenszwalb_run",
    "largest_decision",
    "decision_picture",
    "slic_step",
    "SlicDistance",
    "slic_distances",
    "stretched_pixel",
    "RegionGraph",
    "region_graph",
    "affinity",
    "Spectrum",
    "laplacian_spectrum",
    "NormalizedCut",
    "normalized_cut",
    "fiedler_cut",
    "spectral_clusters",
    "split_choices",
    "paint",
    "diverging_picture",
    "superpixel_picture",
    "split_picture",
    "merge_latex",
    "SlicExample",
    "slic_example",
    "spectral_cut",
    "decision_words",
    "slic_words",
    "eigengap_words",
    "slic_latex",
    "ncut_latex",
    "pixel_graph_figure",
    "picture_figure",
    "slic_figure",
    "region_graph_figure",
    "spectral_labels",
    "eigenvalues_figure",
]

#: Side of the square crop whose pixel graph the lesson draws and replays: 32 x 32
#: pixels make about 3,900 edges, few enough to draw and to loop over in Python.
CROP = 32
#: The 8 neighbours' offsets in the order scikit-image's Felzenszwalb lists its edges:
#: right, down, down-right, up-right.
_OFFSETS = ((0, 1), (1, 0), (1, 1), (-1, 1))


def busiest_window(image: np.ndarray, *, size: int = CROP) -> tuple[int, int]:
    """The top-left corner ``(row, col)`` of the ``size`` x ``size`` window with the
    most colour change inside (the largest mean gradient magnitude of the gray
    image): where a crop has edges worth looking at.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    size : int
        Side of the window; a smaller image gives ``(0, 0)``.

    Examples
    --------
    >>> img = np.zeros((40, 40, 1), np.float32); img[30:, 30:] = 1
    >>> busiest_window(img, size=10)
    (29, 29)
    """
    gray = to_gray(np.asarray(image, np.float32)).astype(np.float64)
    h, w = gray.shape
    if h <= size and w <= size:
        return 0, 0
    change = np.hypot(ndi.sobel(gray, 0), ndi.sobel(gray, 1))
    sh, sw = min(size, h), min(size, w)
    mean = ndi.uniform_filter(change, (sh, sw), mode="constant")
    # uniform_filter centres its window; keep the centres whose window fits.
    top, left = sh // 2, sw // 2
    inside = mean[top:top + h - sh + 1, left:left + w - sw + 1]
    r, c = np.unravel_index(np.argmax(inside), inside.shape)
    return int(r), int(c)


# --------------------------------------------------------------------------- Felzenszwalb


@dataclass(frozen=True)
class PixelGraph:
    """The graph Felzenszwalb's method works on: one node per pixel (numbered in
    raster order, ``row * W + col``), an edge to each of its 8 neighbours.

    Attributes
    ----------
    shape : (int, int)
        ``(H, W)`` of the image.
    edges : (E, 2) intp ndarray
        The two pixels of every edge, sorted by weight (the order the method looks
        at them).
    weights : (E,) float64 ndarray
        The colour difference along each edge, ascending.

    Examples
    --------
    >>> g = pixel_graph(np.zeros((2, 2, 1), np.float32), sigma=0)
    >>> g.n_edges, g.edges.shape
    (6, (6, 2))
    """

    shape: tuple[int, int]
    edges: np.ndarray
    weights: np.ndarray

    @property
    def n_edges(self) -> int:
        """How many edges the graph has."""
        return int(self.weights.size)


def pixel_graph(image: np.ndarray, *, sigma: float = 0.8, space: str = "lab") -> PixelGraph:
    """The 8-connected pixel graph of an image with Euclidean colour differences as
    weights, as :func:`skimage.segmentation.felzenszwalb` builds it: the features
    (:func:`segcore.color.to_space`) blurred by ``sigma`` pixels (mirrored at the
    border), the edges sorted by weight the same way, ties included.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    sigma : float
        Gaussian blur in pixels before the differences are taken, ``>= 0``.
    space : str
        Colour space of the features (one of :data:`segcore.color.SPACES`).

    Returns
    -------
    PixelGraph

    Examples
    --------
    >>> img = np.zeros((3, 3, 1), np.float32); img[:, 2] = 1
    >>> g = pixel_graph(img, sigma=0)
    >>> g.n_edges, float(g.weights[0]), float(g.weights[-1])
    (20, 0.0, 1.0)
    """
    if not np.isfinite(sigma) or sigma < 0:
        raise ValueError(f"sigma must be a number >= 0, got {sigma!r}")
    feats = to_space(np.asarray(image, np.float32), space).astype(np.float64)
    feats = ndi.gaussian_filter(feats, sigma=[sigma, sigma, 0], mode="reflect")
    h, w = feats.shape[:2]
    ids = np.arange(h * w, dtype=np.intp).reshape(h, w)
    costs, pairs = [], []
    # The same expressions and order as scikit-image, so that equal weights sort
    # the same way and the replay gives its labels exactly.
    for dr, dc in _OFFSETS:
        r0, r1 = (slice(0, h - dr), slice(dr, h)) if dr >= 0 else (slice(-dr, h), slice(0, h + dr))
        c0, c1 = slice(0, w - dc), slice(dc, w)
        diff = feats[r1, c1] - feats[r0, c0]
        costs.append(np.sqrt(np.sum(diff * diff, axis=-1)).ravel())
        pairs.append(np.c_[ids[r1, c1].ravel(), ids[r0, c0].ravel()])
    weights = np.hstack(costs).astype(float)
    edges = np.vstack(pairs)
    order = np.argsort(weights)
    return PixelGraph(shape=(h, w), edges=np.ascontiguousarray(edges[order]),
                      weights=np.ascontiguousarray(weights[order]))


@dataclass(frozen=True)
class Decision:
    """One merge test of Felzenszwalb's method, with its numbers.

    ``edge`` joins pixel ``pixels[0]`` (in region 1) and ``pixels[1]`` (in region
    2); its weight is ``dif``, the weakest link between the two regions. Region
    ``i`` has ``sizes[i]`` pixels and internal difference ``internal[i]``; its
    threshold is ``internal[i] + k / sizes[i]``. They merge when ``dif`` is below
    the smaller threshold.

    Examples
    --------
    >>> d = Decision(7, (3, 4), 0.05, (10, 1), (0.03, 0.0), 1.0, True)
    >>> [round(t, 3) for t in d.thresholds], round(d.m_int, 3), d.merged
    ([0.13, 1.0], 0.13, True)
    """

    step: int
    pixels: tuple[int, int]
    dif: float
    sizes: tuple[int, int]
    internal: tuple[float, float]
    k: float
    merged: bool

    @property
    def thresholds(self) -> tuple[float, float]:
        """``Int(C) + k/|C|`` of each region."""
        return tuple(i + self.k / s for i, s in zip(self.internal, self.sizes))

    @property
    def m_int(self) -> float:
        """The smaller threshold: what the edge must stay under to merge."""
        return min(self.thresholds)


@dataclass(frozen=True)
class FelzenszwalbRun:
    """Felzenszwalb's method replayed on one image, every merge test recorded.

    A *test* is an edge whose two pixels lie in different regions at the moment it
    is looked at, and the weakest edge between those two regions (later edges
    between the same two regions are refused again without a new question: one of
    the two can never grow after a refusal). Tests are numbered ``0..T-1``.

    Attributes
    ----------
    graph : PixelGraph
    k : float
        The constant of the threshold ``k / |C|``: the engine's ``scale / 255``
        (scikit-image divides by 255 because the paper's colours ran 0..255).
    labels : (H, W) int32 ndarray
        The final regions ``1..N`` (after small regions are merged away when
        ``min_size > 1``), numbered as :func:`segcore.methods.graph.felzenszwalb`.
    test_edge : (T,) intp ndarray
        Index into ``graph.edges`` of each test.
    sizes, internal : (T, 2) ndarrays
        Region sizes and internal differences on both sides of each test.
    merged : (T,) bool ndarray

    Examples
    --------
    >>> img = np.zeros((4, 4, 1), np.float32); img[:, 2:] = 1
    >>> run = felzenszwalb_run(img, scale=10, sigma=0)
    >>> run.n_regions, run.n_merges, run.decision(run.n_tests - 1).merged
    (2, 14, False)
    """

    graph: PixelGraph
    k: float
    labels: np.ndarray
    test_edge: np.ndarray
    sizes: np.ndarray
    internal: np.ndarray
    merged: np.ndarray

    @property
    def n_tests(self) -> int:
        """How many merge tests the run made."""
        return int(self.merged.size)

    @property
    def n_merges(self) -> int:
        """How many tests merged (each makes one region fewer)."""
        return int(np.count_nonzero(self.merged))

    @property
    def n_regions(self) -> int:
        """How many regions the run ends with."""
        return int(self.labels.max(initial=0))

    def decision(self, step: int) -> Decision:
        """Test number ``step`` (``0..T-1``) with its numbers."""
        if not 0 <= step < self.n_tests:
            raise ValueError(f"step must be in 0..{self.n_tests - 1}, got {step}")
        e = int(self.test_edge[step])
        p, q = (int(v) for v in self.graph.edges[e])
        return Decision(step=int(step), pixels=(p, q), dif=float(self.graph.weights[e]),
                        sizes=(int(self.sizes[step, 0]), int(self.sizes[step, 1])),
                        internal=(float(self.internal[step, 0]), float(self.internal[step, 1])),
                        k=self.k, merged=bool(self.merged[step]))

    def labels_at(self, step: int) -> np.ndarray:
        """``(H, W) int32``: the regions ``1..N`` just before test ``step`` (after
        the tests ``0..step-1``); ``step = T`` gives the regions the merging ends
        with (before any small-region clean-up)."""
        if not 0 <= step <= self.n_tests:
            raise ValueError(f"step must be in 0..{self.n_tests}, got {step}")
        n = self.graph.shape[0] * self.graph.shape[1]
        done = self.test_edge[:step][self.merged[:step]]
        pairs = self.graph.edges[done]
        links = sparse.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])),
                                  shape=(n, n))
        # Components come numbered by their lowest pixel, as scikit-image numbers them.
        _, labels = connected_components(links, directed=False)
        return (labels + 1).astype(np.int32).reshape(self.graph.shape)


def _find(parent: list, x: int) -> int:
    root = x
    while parent[root] != root:
        root = parent[root]
    while parent[x] != root:  # path compression
        parent[x], x = root, parent[x]
    return root


def felzenszwalb_run(image: np.ndarray, *, scale: float, sigma: float = 0.8,
                     min_size: int = 1, space: str = "lab") -> FelzenszwalbRun:
    """Felzenszwalb's graph segmentation replayed step by step, as
    :func:`segcore.methods.graph.felzenszwalb` (scikit-image) runs it, with every
    merge test recorded.

    Edges are looked at from the weakest up. When an edge joins two different
    regions ``C1`` and ``C2`` they merge if its weight is below
    ``min(Int(C1) + k/|C1|, Int(C2) + k/|C2|)`` (thresholds kept in single
    precision, as scikit-image keeps them), ``Int(C)`` being the weight of the
    last edge that grew ``C``: its minimum spanning tree's largest edge. Then,
    with ``min_size > 1``, regions smaller than that are merged into a neighbour
    (not recorded as tests). A pure-Python loop: keep images small (a
    :data:`CROP` x :data:`CROP` crop takes some tens of milliseconds).

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    scale : float
        The engine's ``scale`` (``> 0``): ``k = scale / 255``; higher gives larger regions.
    sigma : float
        Blur in pixels before the edge weights are taken.
    min_size : int
        Smallest region kept (``1`` keeps all).
    space : str
        Colour space of the features.

    Returns
    -------
    FelzenszwalbRun

    Examples
    --------
    >>> img = np.zeros((6, 6, 1), np.float32); img[:, 3:] = 1
    >>> felzenszwalb_run(img, scale=50, sigma=0).labels[0].tolist()
    [1, 1, 1, 2, 2, 2]
    """
    if not np.isfinite(scale) or scale <= 0:
        raise ValueError(f"scale must be a number > 0, got {scale!r}")
    if min_size < 1:
        raise ValueError(f"min_size must be >= 1, got {min_size!r}")
    graph = pixel_graph(image, sigma=sigma, space=space)
    k = float(scale) / 255.0
    n = graph.shape[0] * graph.shape[1]
    parent, size, inner = list(range(n)), [1] * n, [0.0] * n
    refused: dict[int, set] = {}
    tests, sizes, internal, merged = [], [], [], []
    edges, weights = graph.edges.tolist(), graph.weights.tolist()
    for e, ((p, q), w) in enumerate(zip(edges, weights)):
        a, b = _find(parent, p), _find(parent, q)
        if a == b or b in refused.get(a, ()):
            continue
        # scikit-image holds the two thresholds in C floats (single precision).
        ta = float(np.float32(inner[a] + k / size[a]))
        tb = float(np.float32(inner[b] + k / size[b]))
        join = w < min(ta, tb)
        tests.append(e)
        sizes.append((size[a], size[b]))
        internal.append((inner[a], inner[b]))
        merged.append(join)
        if not join:
            refused.setdefault(a, set()).add(b)
            refused.setdefault(b, set()).add(a)
            continue
        root, gone = min(a, b), max(a, b)
        parent[gone] = root
        size[root] += size[gone]
        inner[root] = w
        # A refused neighbour of either part is a refused neighbour of the union.
        for other in refused.pop(gone, set()):
            refused[other].discard(gone)
            refused[other].add(root)
            refused.setdefault(root, set()).add(other)
    if min_size > 1:
        for p, q in edges:
            a, b = _find(parent, p), _find(parent, q)
            if a != b and (size[a] < min_size or size[b] < min_size):
                root, gone = min(a, b), max(a, b)
                parent[gone] = root
                size[root] += size[gone]
    roots = np.array([_find(parent, x) for x in range(n)])
    labels = (np.unique(roots, return_inverse=True)[1] + 1).astype(np.int32)
    return FelzenszwalbRun(graph=graph, k=k, labels=labels.reshape(graph.shape),
                           test_edge=np.array(tests, np.intp),
                           sizes=np.array(sizes, np.intp).reshape(-1, 2),
                           internal=np.array(internal, np.float64).reshape(-1, 2),
                           merged=np.array(merged, bool))


def largest_decision(run: FelzenszwalbRun) -> int:
    """The test whose smaller region is the largest (the latest such test on a
    tie): the most visible question the run asked, ``-1`` if it asked none.

    Examples
    --------
    >>> img = np.zeros((4, 4, 1), np.float32); img[:, 2:] = 1
    >>> run = felzenszwalb_run(img, scale=10, sigma=0)
    >>> d = run.decision(largest_decision(run))
    >>> d.sizes, d.merged
    ((8, 8), False)
    """
    if run.n_tests == 0:
        return -1
    smaller = run.sizes.min(axis=1)
    return int(run.n_tests - 1 - np.argmax(smaller[::-1]))


def decision_picture(image: np.ndarray, labels: np.ndarray,
                     decision: Decision | None = None) -> np.ndarray:
    """``(H, W, 3) float32``: the regions of ``labels`` in their label colours over
    the image; with a ``decision``, the two regions it tests in blue and orange,
    the others faded to gray, and the edge's two pixels in red.

    Examples
    --------
    >>> img = np.zeros((2, 3, 1), np.float32); lab = np.array([[1, 1, 2], [1, 3, 2]])
    >>> pic = decision_picture(img, lab, Decision(0, (1, 2), 0.1, (3, 2), (0, 0), 1.0, False))
    >>> pic[0, 1].tolist(), pic[1, 1].round(2).tolist()
    ([1.0, 0.0, 0.0], [0.3, 0.3, 0.3])
    """
    rgb = to_rgb(image)
    labels = np.asarray(labels)
    out = 0.5 * rgb + 0.5 * color_labels(labels)
    if decision is None:
        return out.astype(np.float32)
    flat = labels.ravel()
    one, two = flat[decision.pixels[0]], flat[decision.pixels[1]]
    gray = to_gray(rgb)[..., None]
    out = np.repeat(0.3 + 0.3 * gray, 3, axis=2)
    for region, colour in ((one, (0.12, 0.47, 0.71)), (two, (1.0, 0.5, 0.05))):
        inside = labels == region
        out[inside] = 0.4 * rgb[inside] + 0.6 * np.asarray(colour)
    w = labels.shape[1]
    for p in decision.pixels:
        out[p // w, p % w] = (1.0, 0.0, 0.0)
    return out.astype(np.float32)


# --------------------------------------------------------------------------- SLIC


def slic_step(shape: tuple[int, int], n_segments: int) -> float:
    """SLIC's grid step ``S`` in pixels: the spacing of the starting centres
    scikit-image lays out for about ``n_segments`` superpixels on an image of
    ``shape`` (the larger of the two spacings).

    Examples
    --------
    >>> slic_step((100, 100), 100)
    10.0
    """
    slices = regular_grid((1,) + tuple(shape), n_segments)
    return float(max(float(s.step) if s.step is not None else 1.0 for s in slices))


@dataclass(frozen=True)
class SlicDistance:
    """SLIC's distance from one pixel to one superpixel centre.

    ``colour`` is ``d_c``: the colour difference on a 0..100 scale (the features
    stretched to [0, 1] over the image, as scikit-image stretches them, times
    100); ``space`` is ``d_s``, in pixels; ``step`` is the grid step ``S`` and
    ``compactness`` the engine's ``m``. The pixel joins the centre with the
    smallest ``distance = sqrt(d_c**2 + (d_s / S)**2 m**2)``.

    Examples
    --------
    >>> SlicDistance(3, 6.0, 8.0, 10.0, 10.0).distance
    10.0
    """

    label: int
    colour: float
    space: float
    step: float
    compactness: float

    @property
    def distance(self) -> float:
        """``D``."""
        return float(np.hypot(self.colour, self.space / self.step * self.compactness))


def _centres(image: np.ndarray, superpixels: np.ndarray, space: str):
    """The features stretched to [0, 1] over the image (as scikit-image's SLIC
    stretches them), and each superpixel's mean position and mean features."""
    feats = to_space(np.asarray(image, np.float32), space).astype(np.float64)
    spread = float(feats.max() - feats.min())
    feats = feats / spread if spread > 0 else feats
    n = int(superpixels.max())
    flat = superpixels.ravel() - 1
    count = np.maximum(np.bincount(flat, minlength=n), 1)
    rows, cols = np.indices(superpixels.shape)
    position = np.stack([np.bincount(flat, weights=v.ravel(), minlength=n) / count
                         for v in (rows, cols)], 1)
    colour = np.stack([np.bincount(flat, weights=feats[..., c].ravel(), minlength=n) / count
                       for c in range(feats.shape[2])], 1)
    return feats, position, colour


def slic_distances(image: np.ndarray, superpixels: np.ndarray, pixel: tuple[int, int], *,
                   n_segments: int, compactness: float, space: str = "lab") -> list[SlicDistance]:
    """SLIC's distance ``D`` from ``pixel`` to its own superpixel's centre and to
    every other centre in its search window (within ``2 S`` rows and columns,
    where SLIC looks), nearest first. A centre is its superpixel's mean position
    and mean colour, the point SLIC's last update step moves it to.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    superpixels : (H, W) int ndarray, labels ``1..N``
        From :func:`segcore.methods.graph.slic` with ``sigma=0`` (no blur).
    pixel : (row, col)
    n_segments, compactness : the settings that made ``superpixels``.
    space : str
        Colour space of the features.

    Returns
    -------
    list of SlicDistance

    Examples
    --------
    >>> img = np.zeros((10, 20, 1), np.float32); img[:, 10:] = 1
    >>> sp = np.where(np.arange(20) < 10, 1, 2)[None, :].repeat(10, 0)
    >>> [(d.label, round(d.distance, 1)) for d in slic_distances(
    ...     img, sp, (5, 8), n_segments=2, compactness=10)]
    [(1, 3.5), (2, 100.2)]
    """
    superpixels = np.asarray(superpixels)
    feats, position, colour = _centres(image, superpixels, space)
    step = slic_step(superpixels.shape, n_segments)
    r, c = pixel
    near = (np.abs(position[:, 0] - r) <= 2 * step) & (np.abs(position[:, 1] - c) <= 2 * step)
    near[superpixels[r, c] - 1] = True
    present = np.bincount(superpixels.ravel() - 1, minlength=len(near)) > 0
    out = [SlicDistance(label=int(i + 1),
                        colour=float(100 * np.linalg.norm(feats[r, c] - colour[i])),
                        space=float(np.hypot(position[i, 0] - r, position[i, 1] - c)),
                        step=step, compactness=float(compactness))
           for i in np.flatnonzero(near & present)]
    return sorted(out, key=lambda d: d.distance)


def stretched_pixel(image: np.ndarray, superpixels: np.ndarray, *, n_segments: int,
                    compactness: float, space: str = "lab",
                    candidates: int = 2000) -> tuple[int, int]:
    """The pixel farthest from its own superpixel's centre (in pixels) among those
    whose own centre is the nearest by SLIC's distance (SLIC's clean-up step hands
    some stray pieces to a neighbour; they are left out): the example that shows
    how far colour lets a superpixel stretch. The ``candidates`` farthest pixels
    are checked; the farthest of all is taken if none qualifies.

    Examples
    --------
    >>> sp = np.where(np.arange(20) < 10, 1, 2)[None, :].repeat(10, 0)
    >>> stretched_pixel(np.zeros((10, 20, 1), np.float32), sp, n_segments=2, compactness=10)
    (0, 0)
    """
    superpixels = np.asarray(superpixels)
    feats, position, colour = _centres(image, superpixels, space)
    flat = superpixels.ravel() - 1
    rows, cols = (v.ravel() for v in np.indices(superpixels.shape))
    far = np.hypot(rows - position[flat, 0], cols - position[flat, 1])
    order = np.argsort(-far, kind="stable")[:candidates]
    step = slic_step(superpixels.shape, n_segments)
    dr = rows[order, None] - position[None, :, 0]
    dc = cols[order, None] - position[None, :, 1]
    colour_d = ((feats.reshape(-1, feats.shape[2])[order, None, :] - colour[None]) ** 2).sum(-1)
    d2 = 100 ** 2 * colour_d + (dr ** 2 + dc ** 2) / step ** 2 * compactness ** 2
    window = (np.abs(dr) <= 2 * step) & (np.abs(dc) <= 2 * step)
    window[np.arange(len(order)), flat[order]] = True  # as slic_distances counts them
    own = np.flatnonzero(np.argmin(np.where(window, d2, np.inf), axis=1) == flat[order])
    i = order[own[0]] if own.size else order[0]
    w = superpixels.shape[1]
    return int(i // w), int(i % w)


# --------------------------------------------------------------------------- region graph


@dataclass(frozen=True)
class RegionGraph:
    """The region adjacency graph of a label image: node ``i`` is region ``i + 1``.

    Attributes
    ----------
    superpixels : (H, W) int ndarray, regions ``1..N``
    centroids : (N, 2) float64 ndarray
        Mean ``(row, col)`` of each region.
    colours : (N, F) float64 ndarray
        Mean features of each region (in the colour space asked for).
    display : (N, 3) float64 ndarray
        Mean RGB of each region in [0, 1], to draw it.
    sizes : (N,) int ndarray
        Pixels per region.
    edges : (M, 2) int ndarray
        Node pairs ``(a, b)``, ``a < b``, of regions that touch (4-neighbours).
    distances : (M,) float64 ndarray
        Euclidean distance between the two regions' mean colours.

    Examples
    --------
    >>> g = region_graph(np.zeros((2, 2, 1), np.float32), np.array([[1, 2], [3, 3]]))
    >>> g.n_nodes, g.edges.tolist()
    (3, [[0, 1], [0, 2], [1, 2]])
    """

    superpixels: np.ndarray
    centroids: np.ndarray
    colours: np.ndarray
    display: np.ndarray
    sizes: np.ndarray
    edges: np.ndarray
    distances: np.ndarray

    @property
    def n_nodes(self) -> int:
        """How many regions (nodes)."""
        return int(self.sizes.size)


def region_graph(image: np.ndarray, superpixels: np.ndarray, *,
                 space: str = "lab") -> RegionGraph:
    """The region adjacency graph: a node per region at its centroid, an edge per
    pair of regions that touch (left-right or up-down neighbours), weighted by the
    distance between their mean colours: the graph
    :func:`skimage.graph.rag_mean_color` builds (``connectivity=1``) and the one
    :func:`segcore.methods.graph.spectral` clusters.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    superpixels : (H, W) int ndarray
        Regions ``1..N``, every one present.
    space : str
        Colour space of the features whose means are compared.

    Returns
    -------
    RegionGraph

    Examples
    --------
    >>> img = np.zeros((2, 3, 1), np.float32); img[:, 2] = 1
    >>> g = region_graph(img, np.array([[1, 2, 3], [1, 2, 3]]), space="gray")
    >>> g.edges.tolist(), g.distances.tolist()
    ([[0, 1], [1, 2]], [0.0, 1.0])
    """
    superpixels = np.asarray(superpixels)
    if superpixels.shape != np.shape(image)[:2]:
        raise ValueError(f"image {np.shape(image)[:2]} and superpixels {superpixels.shape} "
                         "differ in size")
    n = int(superpixels.max())
    flat = superpixels.ravel() - 1
    sizes = np.bincount(flat, minlength=n)
    if superpixels.min() < 1 or np.any(sizes == 0):
        raise ValueError("superpixels must number their regions 1..N with none missing")
    feats = to_space(np.asarray(image, np.float32), space).astype(np.float64)
    pairs = region_edges(superpixels)
    colours = region_means(feats, superpixels)
    distances = np.linalg.norm(colours[pairs[:, 0]] - colours[pairs[:, 1]], axis=1)
    return RegionGraph(superpixels=superpixels,
                       centroids=region_means(np.dstack(np.indices(superpixels.shape)),
                                              superpixels),
                       colours=colours, display=region_means(to_rgb(image), superpixels),
                       sizes=sizes, edges=pairs, distances=distances)


def affinity(graph: RegionGraph, *, similarity_sigma: float) -> np.ndarray:
    """``(N, N) float64``: how strongly each two regions are linked, as the engine's
    spectral method links them: ``exp(-d**2 / sigma**2)`` for regions that touch
    (``d`` their mean-colour distance), plus a floor of ``1e-6`` everywhere so the
    graph stays connected, ``0`` on the diagonal.

    Examples
    --------
    >>> g = region_graph(np.zeros((1, 2, 1), np.float32), np.array([[1, 2]]))
    >>> affinity(g, similarity_sigma=0.1).tolist()
    [[0.0, 1.000001], [1.000001, 0.0]]
    """
    if not np.isfinite(similarity_sigma) or similarity_sigma <= 0:
        raise ValueError(f"similarity_sigma must be a number > 0, got {similarity_sigma!r}")
    return region_affinity(graph.colours, graph.edges, similarity_sigma)


@dataclass(frozen=True)
class Spectrum:
    """The smallest eigenvalues and eigenvectors of ``(D - W) y = lambda D y``,
    Shi and Malik's normalised-cut problem on a graph with link weights ``W``
    and degrees ``D = diag(W.sum(1))``.

    Attributes
    ----------
    eigenvalues : (n,) float64 ndarray
        Ascending; the first is 0 on a connected graph.
    eigenvectors : (N, n) float64 ndarray
        Column ``j`` is ``y_{j+1}``, scaled so that ``y' D y = 1`` and signed so
        that its entry of largest size is positive (as scikit-learn signs them).
    degrees : (N,) float64 ndarray

    Examples
    --------
    >>> s = laplacian_spectrum(np.array([[0, 1.0], [1.0, 0]]))
    >>> s.eigenvalues.round(6).tolist(), s.eigenvectors[:, 0].round(4).tolist()
    ([0.0, 2.0], [0.7071, 0.7071])
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    degrees: np.ndarray


def laplacian_spectrum(weights: np.ndarray, *, n: int = 10) -> Spectrum:
    """The ``n`` smallest eigenpairs of the generalised problem
    ``(D - W) y = lambda D y``: computed as the symmetric normalised Laplacian
    ``I - D^-1/2 W D^-1/2`` (eigenvectors ``x``) and ``y = D^-1/2 x``, the
    embedding scikit-learn's spectral clustering uses.

    Parameters
    ----------
    weights : (N, N) float ndarray
        Symmetric, non-negative, every row with a positive sum.
    n : int
        How many eigenpairs to keep (at most ``N``).

    Returns
    -------
    Spectrum

    Examples
    --------
    >>> w = np.array([[0, 1, 0.01], [1, 0, 0.01], [0.01, 0.01, 0]])
    >>> s = laplacian_spectrum(w)
    >>> round(float(s.eigenvalues[0]), 6), (s.eigenvectors[:, 1] > 0).tolist()
    (0.0, [False, False, True])
    """
    weights = np.asarray(weights, np.float64)
    if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
        raise ValueError(f"weights must be a square matrix, got shape {weights.shape}")
    degrees = weights.sum(1)
    if np.any(degrees <= 0):
        raise ValueError("every node needs a link of positive weight")
    root = np.sqrt(degrees)
    sym = np.eye(len(degrees)) - weights / root[:, None] / root[None, :]
    values, vectors = np.linalg.eigh((sym + sym.T) / 2)
    n = min(n, len(degrees))
    values, y = np.maximum(values[:n], 0.0), vectors[:, :n] / root[:, None]
    # scikit-learn's sign rule: the entry of largest size is positive.
    biggest = np.argmax(np.abs(y), axis=0)
    y = y * np.sign(y[biggest, np.arange(n)])
    return Spectrum(eigenvalues=values, eigenvectors=y, degrees=degrees)


@dataclass(frozen=True)
class NormalizedCut:
    """A two-way cut of a graph and its cost: ``ncut = cut / assoc_a + cut / assoc_b``,
    where ``cut`` sums the links between the two sides and ``assoc_*`` the links
    from each side to the whole graph.

    Examples
    --------
    >>> NormalizedCut(np.array([True, False]), 0.5, 2.0, 1.0).ncut
    0.75
    """

    inside: np.ndarray
    cut: float
    assoc_a: float
    assoc_b: float

    @property
    def ncut(self) -> float:
        """``Ncut(A, B)``."""
        return self.cut / self.assoc_a + self.cut / self.assoc_b


def normalized_cut(weights: np.ndarray, inside: np.ndarray) -> NormalizedCut:
    """The normalised cut of splitting the graph into the nodes ``inside`` (``A``)
    and the rest (``B``), both non-empty.

    Examples
    --------
    >>> w = np.array([[0, 1, 0.1], [1, 0, 0.1], [0.1, 0.1, 0]])
    >>> c = normalized_cut(w, np.array([True, True, False]))
    >>> round(c.cut, 3), round(c.ncut, 3)
    (0.2, 1.091)
    """
    weights = np.asarray(weights, np.float64)
    inside = np.asarray(inside, bool)
    if inside.all() or not inside.any():
        raise ValueError("both sides of a cut need at least one node")
    degrees = weights.sum(1)
    cut = float(weights[np.ix_(inside, ~inside)].sum())
    return NormalizedCut(inside=inside, cut=cut, assoc_a=float(degrees[inside].sum()),
                         assoc_b=float(degrees[~inside].sum()))


def fiedler_cut(weights: np.ndarray, spectrum: Spectrum) -> NormalizedCut:
    """Shi and Malik's two-way normalised cut: sort the nodes by the second
    eigenvector ``y_2`` and split them where the normalised cut is smallest. The
    side holding the node where ``y_2`` is largest is ``inside``.

    Examples
    --------
    >>> w = np.array([[0, 1, 0.01], [1, 0, 0.01], [0.01, 0.01, 0]])
    >>> fiedler_cut(w, laplacian_spectrum(w)).inside.tolist()
    [False, False, True]
    """
    weights = np.asarray(weights, np.float64)
    y = spectrum.eigenvectors[:, 1]
    order = np.argsort(-y, kind="stable")
    w = weights[np.ix_(order, order)]
    degrees = w.sum(1)
    # Adding node i to side A cuts its links to the rest and uncuts those to A.
    to_before = np.tril(w, -1).sum(1)
    cut = np.cumsum(degrees - 2 * to_before)[:-1]
    assoc_a = np.cumsum(degrees)[:-1]
    assoc_b = degrees.sum() - assoc_a
    best = int(np.argmin(cut / assoc_a + cut / assoc_b))
    inside = np.zeros(len(y), bool)
    inside[order[:best + 1]] = True
    return normalized_cut(weights, inside)


def spectral_clusters(spectrum: Spectrum, *, k: int, rng: int = 0) -> np.ndarray:
    """``(N,) int``: k-means (scikit-learn's, 10 starts) on the first ``k``
    eigenvectors, clusters ``0..k-1``: the assignment of scikit-learn's
    ``SpectralClustering`` as :func:`segcore.methods.graph.spectral` calls it with
    the same ``rng`` (whose random state first draws the eigen-solver's start).

    Examples
    --------
    >>> w = np.array([[0, 1, 0.01], [1, 0, 0.01], [0.01, 0.01, 0]])
    >>> c = spectral_clusters(laplacian_spectrum(w), k=2)
    >>> bool(c[0] == c[1] != c[2])
    True
    """
    from sklearn.cluster import k_means  # scikit-learn loads when needed

    n = spectrum.eigenvectors.shape[0]
    if not 2 <= k <= min(n, spectrum.eigenvectors.shape[1]):
        raise ValueError(f"k must be in 2..{min(n, spectrum.eigenvectors.shape[1])}, got {k}")
    state = np.random.RandomState(rng)
    state.uniform(-1, 1, n)  # the draw scikit-learn makes for ARPACK's start vector
    _, clusters, _ = k_means(spectrum.eigenvectors[:, :k], k, random_state=state, n_init=10)
    return clusters


def paint(superpixels: np.ndarray, values: np.ndarray) -> np.ndarray:
    """``(H, W)``: each region ``i + 1`` painted with ``values[i]``.

    Examples
    --------
    >>> paint(np.array([[1, 2], [2, 2]]), np.array([0.5, -1.0])).tolist()
    [[0.5, -1.0], [-1.0, -1.0]]
    """
    return np.asarray(values)[np.asarray(superpixels) - 1]


def split_choices(image: np.ndarray, graph: RegionGraph, inside: np.ndarray, *,
                  agree: float = 0.85, rng: int = 0) -> list[tuple[str, np.ndarray]]:
    """Candidate two-way splits of the regions for a multiple-choice question about
    the split ``inside``: that split (named ``"the cut"``), one by brightness
    (Otsu's threshold on the regions' mean gray), one into left and right and
    one into top and bottom halves (at the pixel-weighted median centroid).
    A candidate that covers the same pixels as ``inside`` (either way round) on
    more than ``agree`` of the image is left out. Shuffled by the seed ``rng``, so
    that the answer is not always in the same place.

    Returns
    -------
    list of (name, (N,) bool ndarray)

    Examples
    --------
    >>> img = np.zeros((4, 4, 1), np.float32); img[:, 2:] = 1
    >>> sp = np.array([[1, 1, 2, 2]] * 2 + [[3, 3, 4, 4]] * 2)
    >>> g = region_graph(img, sp)
    >>> sorted(name for name, _ in split_choices(img, g, np.array([True, False, True, False])))
    ['the cut', 'top and bottom']
    """
    from skimage.filters import threshold_otsu

    inside = np.asarray(inside, bool)
    gray = to_gray(np.asarray(image, np.float32)).astype(np.float64)
    flat = graph.superpixels.ravel() - 1
    brightness = np.bincount(flat, weights=gray.ravel(), minlength=graph.n_nodes) / graph.sizes

    def halves(values):
        order = np.argsort(values, kind="stable")
        half = np.searchsorted(np.cumsum(graph.sizes[order]), graph.sizes.sum() / 2)
        median = values[order[min(half, len(order) - 1)]]
        low = values <= median
        return values < median if low.all() else low

    candidates = [("the cut", inside)]
    if np.ptp(brightness) > 0:
        candidates.append(("by brightness", brightness > threshold_otsu(brightness)))
    for name, axis in (("left and right", 1), ("top and bottom", 0)):
        candidates.append((name, halves(graph.centroids[:, axis])))
    total = graph.sizes.sum()

    def same(a, b):
        agreement = graph.sizes[a == b].sum() / total
        return max(agreement, 1 - agreement) > agree

    kept = [candidates[0]] + [(n, s) for n, s in candidates[1:]
                              if s.any() and not s.all() and not same(s, inside)]
    unique = []
    for name, split in kept:
        if not any(same(split, other) for _, other in unique):
            unique.append((name, split))

    return [unique[i] for i in np.random.default_rng(rng).permutation(len(unique))]


def diverging_picture(values: np.ndarray) -> np.ndarray:
    """``(H, W, 3) float32``: values as colours, white at 0, red above (full red at
    the largest value), blue below (full blue at the smallest), so that the sign
    of an eigenvector shows even where one side is much larger than the other.

    Examples
    --------
    >>> diverging_picture(np.array([[-2.0, -1.0, 0.0, 1.0]]))[0].round(2).tolist()
    [[0.13, 0.4, 0.67], [0.57, 0.7, 0.84], [1.0, 1.0, 1.0], [0.7, 0.09, 0.17]]
    """
    values = np.asarray(values, np.float64)
    high, low = max(float(values.max(initial=0)), 0.0), min(float(values.min(initial=0)), 0.0)
    t = np.where(values > 0, values / (high or 1), -values / (low or -1))[..., None]
    white = np.ones(3)
    blue, red = np.array([0.13, 0.4, 0.67]), np.array([0.7, 0.09, 0.17])
    out = np.where(t < 0, white + (-t) * (blue - white), white + t * (red - white))
    return out.astype(np.float32)


def superpixel_picture(image: np.ndarray, superpixels: np.ndarray, *,
                       highlight: int | None = None) -> np.ndarray:
    """``(H, W, 3) float32``: the image with the superpixels' boundaries in yellow and
    superpixel ``highlight`` tinted cyan.

    Examples
    --------
    >>> sp = np.array([[1, 1, 2, 2]])
    >>> superpixel_picture(np.zeros((1, 4, 1), np.float32), sp, highlight=2)[0, 3].tolist()
    [0.0, 0.5, 0.5]
    """
    out = boundaries(image, superpixels)
    if highlight is not None:
        inside = (np.asarray(superpixels) == highlight) & ~find_boundaries(superpixels,
                                                                           mode="inner")
        out[inside] = 0.5 * out[inside] + 0.5 * np.array([0.0, 1.0, 1.0], np.float32)
    return out


# --------------------------------------------------------------------------- bundles and words


@dataclass(frozen=True)
class SlicExample:
    """SLIC superpixels with one pixel to look at: ``pixel`` is the one
    :func:`stretched_pixel` picks, ``own`` its distance to its own centre and
    ``other`` to the nearest other centre in its window (``own`` again when there is
    none), ``graph`` the superpixels' region adjacency graph.

    Examples
    --------
    >>> ex = slic_example(np.zeros((20, 20, 1), np.float32), n_segments=4, compactness=10)
    >>> ex.graph.n_nodes == int(ex.superpixels.max()), ex.own.label == int(ex.superpixels[ex.pixel])
    (True, True)
    """

    superpixels: np.ndarray
    pixel: tuple[int, int]
    own: SlicDistance
    other: SlicDistance
    graph: RegionGraph


def slic_example(image: np.ndarray, *, n_segments: int, compactness: float,
                 space: str = "lab") -> SlicExample:
    """The engine's SLIC superpixels (:func:`segcore.methods.graph.slic`, no blur) with
    the pixel to look at and its distances (see :class:`SlicExample`).

    Examples
    --------
    >>> img = np.zeros((20, 30, 3), np.float32); img[:, 15:] = 1
    >>> ex = slic_example(img, n_segments=6, compactness=10)
    >>> ex.own.distance <= ex.other.distance
    True
    """
    from segcore.methods.graph import slic

    sp = slic(image, n_segments=n_segments, compactness=compactness, sigma=0.0,
              space=space).labels
    pixel = stretched_pixel(image, sp, n_segments=n_segments, compactness=compactness,
                            space=space)
    found = slic_distances(image, sp, pixel, n_segments=n_segments, compactness=compactness,
                           space=space)
    own = next(d for d in found if d.label == sp[pixel])
    other = next((d for d in found if d.label != own.label), own)
    return SlicExample(superpixels=sp, pixel=pixel, own=own, other=other,
                       graph=region_graph(image, sp, space=space))


def spectral_cut(graph: RegionGraph, *, similarity_sigma: float) -> tuple[Spectrum, NormalizedCut]:
    """The spectrum of the graph's links (:func:`affinity`, :func:`laplacian_spectrum`)
    and the normalised cut its second eigenvector gives (:func:`fiedler_cut`).

    Examples
    --------
    >>> g = region_graph(np.zeros((1, 3, 1), np.float32), np.array([[1, 2, 3]]))
    >>> found, cut = spectral_cut(g, similarity_sigma=0.1)
    >>> round(float(found.eigenvalues[0]), 6), int(cut.inside.sum())
    (0.0, 1)
    """
    weights = affinity(graph, similarity_sigma=similarity_sigma)
    found = laplacian_spectrum(weights)
    return found, fiedler_cut(weights, found)


def decision_words(decision: Decision) -> str:
    """What one merge test does and why, in a sentence (regions named blue and orange
    as :func:`decision_picture` paints them).

    Examples
    --------
    >>> decision_words(Decision(4, (0, 1), 0.2, (10, 3), (0.05, 0.0), 1.0, False))[:48]
    'Test 5: the link (0.2000) is not below the blue '
    """
    d = decision
    if d.merged:
        return (f"Test {d.step + 1} links regions of {d.sizes[0]} and {d.sizes[1]} pixels with a "
                f"weight of {d.dif:.4f}, below both thresholds: they become one region whose Int "
                f"is now {d.dif:.4f}. The bonus is k/1 = {d.k:.3f} for one pixel and fades as "
                "regions grow.")
    small = int(d.thresholds[1] < d.thresholds[0])
    return (f"Test {d.step + 1}: the link ({d.dif:.4f}) is not below the "
            f"{('blue', 'orange')[small]} region's threshold ({d.thresholds[small]:.4f}), so "
            "they stay apart, and that region will never grow again: every later link is at "
            "least as heavy. A larger scale can turn this test into a merge.")


def slic_words(example: SlicExample) -> str:
    """Where the example pixel sits between its own and the nearest other centre,
    in a sentence.

    Examples
    --------
    >>> own, other = SlicDistance(1, 20.0, 30.0, 10, 10), SlicDistance(2, 40.0, 10.0, 10, 10)
    >>> slic_words(SlicExample(None, (0, 0), own, other, None))[:42]
    'The pixel is 3.0 S from its own centre and'
    """
    own, other = example.own, example.other
    kept = ("the smaller D keeps it there" if own.distance <= other.distance else
            "SLIC's clean-up step handed it over, as a stray piece of another superpixel")
    return (f"The pixel is {own.space / own.step:.1f} S from its own centre and "
            f"{other.space / other.step:.1f} S from the nearest other one; their colour "
            f"differences are {own.colour:.1f} and {other.colour:.1f}, and {kept}.")


def eigengap_words(eigenvalues: np.ndarray, k: int) -> str:
    """Whether the eigenvalues jump after the ``k``-th (a ratio of 2 or more), in a
    sentence: a jump says the graph falls naturally into ``k`` parts.

    Examples
    --------
    >>> eigengap_words(np.array([0.0, 0.001, 0.05]), 2)[:40]
    'λ3 = 0.05 is 50.0 times λ2 = 0.001: a bi'
    """
    lam = np.asarray(eigenvalues)
    ratio = lam[k] / max(lam[k - 1], 1e-12)
    return (f"λ{k + 1} = {lam[k]:.2g} is {ratio:.1f} times λ{k} = {lam[k - 1]:.2g}: " +
            (f"a big jump, so {k} parts is a natural split of this graph." if ratio >= 2 else
             f"no big jump, so {k} parts is not a split this graph prefers; look for the k "
             "where the next eigenvalue jumps."))


# --------------------------------------------------------------------------- equations


def _tex(x: float) -> str:
    """A number for LaTeX: a power of ten below 0.001, four decimals below 1, three
    significant digits below 100, a whole number from 100."""
    x = float(x)
    if x != 0 and abs(x) < 1e-3:
        mantissa, power = f"{x:.2e}".split("e")
        return rf"{mantissa}\times10^{{{int(power)}}}"
    if abs(x) < 1:
        return f"{x:.4f}"
    return f"{x:.3g}" if abs(x) < 100 else f"{x:.0f}"


def merge_latex(decision: Decision, *, label: str = "") -> str:
    r"""Felzenszwalb's merge test of one decision with its numbers, for ``st.latex``:
    ``Dif < min(Int1 + k/|C1|, Int2 + k/|C2|)`` (``\ge`` when it refuses).

    Examples
    --------
    >>> text = merge_latex(Decision(0, (0, 1), 0.05, (10, 1), (0.03, 0.0), 1.0, True))
    >>> print(text.split(" = ")[-1], "<" in text)
    0.1300 True
    """
    d = decision
    (i1, i2), (s1, s2), (t1, t2) = d.internal, d.sizes, d.thresholds
    sign = "<" if d.merged else r"\ge"
    return (rf"{label}{_tex(d.dif)} \;{sign}\; \min\Big({_tex(i1)} + "
            rf"\frac{{{_tex(d.k)}}}{{{s1}}},\; {_tex(i2)} + \frac{{{_tex(d.k)}}}{{{s2}}}\Big) = "
            rf"\min({_tex(t1)},\, {_tex(t2)}) = {_tex(d.m_int)}")


def slic_latex(distance: SlicDistance, *, name: str) -> str:
    r"""SLIC's distance to one centre with its numbers, for ``st.latex``.

    Examples
    --------
    >>> print(slic_latex(SlicDistance(3, 6.0, 8.0, 10.0, 10.0), name="its centre"))
    \text{its centre:}\quad D = \sqrt{6.0^2 + \Big(\frac{8.0}{10}\Big)^2 10^2} = 10.0
    """
    x = distance
    return (rf"\text{{{name}:}}\quad D = \sqrt{{{x.colour:.1f}^2 + "
            rf"\Big(\frac{{{x.space:.1f}}}{{{x.step:g}}}\Big)^2 {x.compactness:g}^2}} = "
            rf"{x.distance:.1f}")


def ncut_latex(cut: NormalizedCut, spectrum: Spectrum) -> str:
    r"""The normalised cut with its numbers, and ``lambda_2`` that no cut goes below,
    for ``st.latex``.

    Examples
    --------
    >>> w = np.array([[0, 1, 0.01], [1, 0, 0.01], [0.01, 0.01, 0]])
    >>> s = laplacian_spectrum(w)
    >>> print(ncut_latex(fiedler_cut(w, s), s).split(" = ", 1)[1])
    \frac{0.0200}{0.0200} + \frac{0.0200}{2.02} = 1.01 \;\ge\; \lambda_2 = 1.01
    """
    return (rf"\mathrm{{Ncut}} = \frac{{{_tex(cut.cut)}}}{{{_tex(cut.assoc_a)}}} + "
            rf"\frac{{{_tex(cut.cut)}}}{{{_tex(cut.assoc_b)}}} = {_tex(cut.ncut)}"
            rf" \;\ge\; \lambda_2 = {_tex(spectrum.eigenvalues[1])}")


def split_picture(image: np.ndarray, superpixels: np.ndarray, inside: np.ndarray) -> np.ndarray:
    """``(H, W, 3) float32``: a two-way split of the superpixels (``inside`` per
    region) as two label colours over the image, with the boundary between them.

    Examples
    --------
    >>> pic = split_picture(np.zeros((1, 4, 1), np.float32), np.array([[1, 1, 2, 2]]),
    ...                     np.array([False, True]))
    >>> pic.shape, bool((pic[0, 0] != pic[0, 3]).any())
    ((1, 4, 3), True)
    """
    labels = paint(superpixels, np.asarray(inside).astype(np.int32) + 1)
    return overlay(image, labels, alpha=0.55)


# --------------------------------------------------------------------------- figures


def _image_trace(picture: np.ndarray) -> go.Image:
    # As a PNG inside the figure, not a list of numbers per pixel: a 450 x 300 picture
    # is then tens of kilobytes for the browser to read instead of megabytes of JSON.
    png = base64.b64encode(png_bytes(to_uint8(to_rgb(picture)))).decode()
    return go.Image(source="data:image/png;base64," + png, hoverinfo="skip")


def _edge_lines(points: np.ndarray, pairs: np.ndarray) -> tuple[list, list]:
    xs, ys = [], []
    for a, b in pairs:
        xs += [points[a, 1], points[b, 1], None]
        ys += [points[a, 0], points[b, 0], None]
    return xs, ys


_BINS_COLOURS = ("#e0e0e0", "#a6bddb", "#3690c0", "#045a8d", "#d7301f")


def pixel_graph_figure(image: np.ndarray, graph: PixelGraph, *, sigma: float = 0.8) -> go.Figure:
    """The pixel graph of a small image: a dot per pixel in its (blurred) colour
    and a line per edge, darker and thicker as its weight grows (five bins by
    quantile, named with their weight ranges).

    Examples
    --------
    >>> img = np.zeros((3, 3, 1), np.float32); img[:, 2] = 1
    >>> fig = pixel_graph_figure(img, pixel_graph(img, sigma=0), sigma=0)
    >>> len(fig.data) >= 2, fig.data[-1].name
    (True, 'pixels')
    """
    h, w = graph.shape
    rgb = ndi.gaussian_filter(to_rgb(image).astype(np.float64), [sigma, sigma, 0],
                              mode="reflect")
    points = np.stack([graph.edges // w, graph.edges % w], axis=-1)  # (E, 2 ends, row/col)
    cuts = np.unique(np.quantile(graph.weights, [0, 0.5, 0.8, 0.95, 0.99, 1]))
    fig = go.Figure()
    if cuts.size < 2:  # every edge has the same weight
        cuts = np.array([graph.weights.min(), graph.weights.min() + 1e-12])
    which = np.clip(np.searchsorted(cuts, graph.weights, side="right") - 1, 0, cuts.size - 2)
    for i in range(cuts.size - 1):
        sel = points[which == i]
        if not len(sel):
            continue
        xs = np.c_[sel[:, 0, 1], sel[:, 1, 1], np.full(len(sel), np.nan)].ravel()
        ys = np.c_[sel[:, 0, 0], sel[:, 1, 0], np.full(len(sel), np.nan)].ravel()
        colour = _BINS_COLOURS[min(i, len(_BINS_COLOURS) - 1)]
        fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                        line=dict(color=colour, width=1 + 1.2 * i),
                        name=f"weight {cuts[i]:.3f}–{cuts[i + 1]:.3f}")
    rows, cols = np.indices((h, w))
    colours = [hex_colour(c) for c in np.clip(rgb.reshape(-1, 3), 0, 1)]
    fig.add_scatter(x=cols.ravel(), y=rows.ravel(), mode="markers", name="pixels",
                    marker=dict(color=colours, size=max(3, 260 // max(h, w)),
                                line=dict(color="#555", width=0.5)),
                    hovertemplate="row %{y}, col %{x}<extra></extra>")
    fig.update_layout(height=460, margin=dict(l=10, r=10, t=10, b=10),
                      plot_bgcolor="white", legend=dict(orientation="h", y=-0.02),
                      xaxis=dict(visible=False, constrain="domain"),
                      yaxis=dict(visible=False, autorange="reversed", scaleanchor="x"))
    return fig


def picture_figure(picture: np.ndarray, *, points: dict[str, tuple[float, float]] | None = None,
                   box: tuple[int, int, int, int] | None = None) -> go.Figure:
    """A picture with named points marked on it (``{name: (row, col)}``: the first
    as a red cross, the others as rings) and a ``box`` ``(top, left, height,
    width)`` outlined in red.

    Examples
    --------
    >>> fig = picture_figure(np.zeros((4, 4, 3)), points={"pixel": (1, 2), "its centre": (2, 2)},
    ...                      box=(0, 0, 2, 2))
    >>> [t.name for t in fig.data], len(fig.layout.shapes)
    ([None, 'pixel', 'its centre'], 1)
    """
    fig = go.Figure(_image_trace(picture))
    colours = ["#ff0000", "#00b8d4", "#ff40ff", "#76ff03"]
    for i, (name, (r, c)) in enumerate((points or {}).items()):
        colour = colours[i % len(colours)]
        fig.add_scatter(x=[c], y=[r], mode="markers", name=name,
                        marker=dict(symbol="x" if i == 0 else "circle-open", size=16,
                                    color=colour, line=dict(width=3, color=colour)),
                        hovertemplate=f"{name}: row %{{y:.1f}}, col %{{x:.1f}}<extra></extra>")
    if box is not None:
        top, left, height, width = box
        fig.add_shape(type="rect", x0=left - 0.5, y0=top - 0.5, x1=left + width - 0.5,
                      y1=top + height - 0.5, line=dict(color="#ff0000", width=3))
    h, w = np.shape(picture)[:2]
    fig.update_layout(height=min(560, int(560 * h / max(w, 1)) + 40),
                      margin=dict(l=0, r=0, t=0, b=0), showlegend=bool(points),
                      legend=dict(orientation="h", y=-0.02),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def slic_figure(image: np.ndarray, example: SlicExample) -> go.Figure:
    """The example's superpixels over the image (:func:`superpixel_picture`, the
    pixel's own superpixel tinted), the pixel as a red cross, its centre and the
    nearest other centre as rings.

    Examples
    --------
    >>> img = np.zeros((20, 30, 3), np.float32); img[:, 15:] = 1
    >>> fig = slic_figure(img, slic_example(img, n_segments=6, compactness=10))
    >>> [t.name for t in fig.data]
    [None, 'the pixel', 'its centre', 'nearest other centre']
    """
    centre = example.graph.centroids
    points = {"the pixel": example.pixel, "its centre": tuple(centre[example.own.label - 1]),
              "nearest other centre": tuple(centre[example.other.label - 1])}
    return picture_figure(superpixel_picture(image, example.superpixels,
                                             highlight=example.own.label), points=points)


def region_graph_figure(image: np.ndarray, graph: RegionGraph) -> go.Figure:
    """The region adjacency graph drawn over the image: each edge a line between
    the two centroids, coloured by the regions' colour difference (four bins by
    quantile), each node a dot in its region's mean colour.

    Examples
    --------
    >>> img = np.zeros((2, 3, 1), np.float32); img[:, 2] = 1
    >>> g = region_graph(img, np.array([[1, 2, 3], [1, 2, 3]]))
    >>> [t.name for t in region_graph_figure(img, g).data][-1]
    'regions (nodes)'
    """
    fig = go.Figure(_image_trace(0.35 + 0.65 * to_rgb(image)))
    colours = ("#ffffff", "#ffd54f", "#ff6f00", "#b71c1c")
    if graph.edges.size:
        cuts = np.quantile(graph.distances, [0, 0.5, 0.8, 0.95, 1])
        which = np.clip(np.searchsorted(cuts, graph.distances, side="right") - 1, 0, 3)
        for i in range(4):
            sel = graph.edges[which == i]
            if not len(sel):
                continue
            xs, ys = _edge_lines(graph.centroids, sel)
            fig.add_scatter(x=xs, y=ys, mode="lines", hoverinfo="skip",
                            line=dict(color=colours[i], width=1.5 + i),
                            name=f"colour difference {cuts[i]:.3f}–{cuts[i + 1]:.3f}")
    fig.add_scatter(x=graph.centroids[:, 1], y=graph.centroids[:, 0], mode="markers",
                    name="regions (nodes)",
                    marker=dict(color=[hex_colour(c) for c in np.clip(graph.display, 0, 1)],
                                size=9, line=dict(color="#000", width=1)),
                    customdata=np.c_[np.arange(1, graph.n_nodes + 1), graph.sizes],
                    hovertemplate="region %{customdata[0]}: %{customdata[1]} pixels"
                                  "<extra></extra>")
    h, w = graph.superpixels.shape
    fig.update_layout(height=min(620, int(620 * h / max(w, 1)) + 80),
                      margin=dict(l=0, r=0, t=0, b=0), legend=dict(orientation="h", y=-0.02),
                      xaxis=dict(visible=False), yaxis=dict(visible=False))
    return fig


def eigenvalues_figure(spectrum: Spectrum, *, k: int | None = None) -> go.Figure:
    """The smallest eigenvalues as bars (``lambda_1`` first), the first ``k`` in
    blue: a big jump after the ``k``-th says the graph falls into ``k`` loosely
    linked parts.

    Examples
    --------
    >>> s = laplacian_spectrum(np.array([[0, 1.0], [1.0, 0]]))
    >>> eigenvalues_figure(s, k=1).data[0].y.round(3).tolist()
    [0.0, 2.0]
    """
    values = spectrum.eigenvalues
    n = values.size
    colours = ["#1f77b4" if k is not None and i < k else "#b0b0b0" for i in range(n)]
    fig = go.Figure(go.Bar(x=[f"λ{i + 1}" for i in range(n)], y=values, marker_color=colours,
                           hovertemplate="%{x} = %{y:.4f}<extra></extra>"))
    fig.update_layout(height=260, margin=dict(l=10, r=10, t=10, b=10),
                      yaxis_title="eigenvalue", xaxis_title="")
    return fig


def spectral_labels(image: np.ndarray, graph: RegionGraph, clusters: np.ndarray) -> np.ndarray:
    """``(H, W) int32``: the clusters of the regions as a label image ``1..k``,
    numbered by mean intensity as the engine's spectral method numbers them.

    Examples
    --------
    >>> img = np.array([[0.9, 0.1]], np.float32)[:, :, None]
    >>> g = region_graph(img, np.array([[1, 2]]))
    >>> spectral_labels(img, g, np.array([0, 1])).tolist()
    [[2, 1]]
    """
    labels, _ = relabel_by_intensity(paint(graph.superpixels, np.asarray(clusters) + 1), image)
    return labels
