"""Graph-based methods: Felzenszwalb, SLIC superpixels, spectral clustering on a region graph."""

from __future__ import annotations

import numpy as np

from segcore.color import relabel_by_intensity, to_space
from segcore import _memo
from segcore.methods import _felzenszwalb
from segcore.methods._slic import slic as _fast_slic
from segcore.methods._params import RNG, SPACE, blur_param
from segcore.registry import Param, Segmentation, register

N_SEGMENTS = Param("n_segments", "int", 200, label="Superpixels (about)", low=2, high=5000,
                   log=True, help="About how many superpixels to make.")
COMPACTNESS = Param("compactness", "float", 10.0, label="Compactness", low=0.01, high=100.0,
                    log=True, help="Higher gives squarer superpixels that follow colour less.")


def _features(image, space):
    """The image in ``space`` (:func:`segcore.color.to_space`), kept between slider
    moves: Lab of a 1 MP photo takes 0.14 s, longer than a Felzenszwalb merge."""
    feats = _memo.cached("graph.features", image, (space,), lambda: to_space(image, space))
    return feats[:, :, 0] if feats.shape[2] == 1 else feats


def _slic(image, space, n_segments, compactness, sigma):
    # Our features are already in [0, 1]; compactness is relative to that range,
    # so scale it as skimage expects for Lab-sized values (0..100). scikit-image's
    # labels, on every core (segcore.methods._slic says how).
    return _fast_slic(_features(image, space), n_segments=n_segments,
                      compactness=compactness / 100.0, sigma=sigma)


# Defaults from the BSDS500 train sweep (benchmarks/bsds.py, 50 train images): scale
# 300 gave the best covering at every smallest-region size (0.544-0.561, against
# 0.423-0.473 at the old 100); smallest region 200 px, within 0.007 of 1000 px on
# train, keeps the app's small generated samples' small objects, which 1000 px erases.
@register("felzenszwalb", label="Felzenszwalb graph segmentation", params=(
    Param("scale", "float", 300.0, label="Scale", low=1.0, high=5000.0, log=True,
          help="Higher prefers larger regions."),
    blur_param(0.8, "building the graph"),
    Param("min_size", "int", 200, label="Smallest region (pixels)", low=1, high=5000, log=True,
          help="Regions smaller than this (pixels) are merged into a neighbour."),
    SPACE,
))
def felzenszwalb(image, *, scale, sigma, min_size, space):
    """Efficient graph-based segmentation (Felzenszwalb & Huttenlocher 2004): merge
    neighbouring pixels while the edge between them is weaker than the variation
    inside each.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 1
    >>> felzenszwalb(img, min_size=50).n_regions
    2
    """
    # scikit-image's partition and numbering, faster, with the sorted graph kept
    # between slider moves (segcore.methods._felzenszwalb says how).
    labels = _felzenszwalb.segment(_features(image, space), scale=scale, sigma=sigma,
                                   min_size=min_size) + 1
    return Segmentation(labels=labels)


@register("slic", label="SLIC superpixels", params=(
    N_SEGMENTS, COMPACTNESS,
    blur_param(1.0, "clustering"),
    SPACE,
))
def slic(image, *, n_segments, compactness, sigma, space):
    """Group pixels into compact superpixels (SLIC, Achanta et al. 2012): k-means in
    colour plus position, searched locally.

    ``compactness`` is on skimage's scale for Lab images (colour range ~100).

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((32, 32, 3), np.float32); img[:, 16:] = 1
    >>> slic(img, n_segments=2, compactness=10.0).labels.shape
    (32, 32)
    """
    return Segmentation(labels=_slic(image, space, n_segments, compactness, sigma))


@register("spectral", label="Spectral clustering (region graph)", params=(
    Param("k", "int", 3, label="Clusters (k)", low=2, high=20,
          help="How many segments to split the region graph into."),
    # The graph needs a fair number of nodes to split into k parts.
    Param("n_segments", "int", 300, label="Superpixels (about)", low=50, high=5000, log=True,
          help="About how many superpixels form the graph's nodes."),
    COMPACTNESS,
    Param("similarity_sigma", "float", 0.05, label="Colour difference scale", low=0.005,
          high=1.0, log=True,
          help="How fast the link between two regions weakens as their colours differ."),
    SPACE, RNG,
))
def spectral(image, *, k, n_segments, compactness, similarity_sigma, space, rng):
    """Spectral clustering of a region adjacency graph (the graph-theoretic view of
    segmentation, as normalized cuts): make SLIC superpixels, link neighbours with
    weight ``exp(-d^2 / sigma^2)`` of their mean-colour distance, then split the
    graph with the eigenvectors of its Laplacian.

    Labels ``1..k`` are ordered by mean intensity; ``extras["superpixels"]`` holds
    the superpixels.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((32, 32, 1), np.float32); img[:, 16:] = 1
    >>> spectral(img, k=2, n_segments=50).n_regions
    2
    """
    h, w = image.shape[:2]
    if h * w < k:
        raise ValueError(f"the image has {h * w} pixels, fewer than k={k} segments; lower k")
    superpixels = _slic(image, space, n_segments, compactness, 0.0)
    n = int(superpixels.max())
    notes = []
    asked = n_segments
    # SLIC makes fewer superpixels than asked where colour leads (low compactness) on a
    # small image; the graph needs more nodes than parts, so ask for more.
    while n <= k and asked < h * w:
        asked = min(2 * asked, h * w)
        superpixels = _slic(image, space, asked, compactness, 0.0)
        n = int(superpixels.max())
    if asked != n_segments:
        notes.append(f"SLIC made too few superpixels for k={k} from n_segments={n_segments}, "
                     f"so {asked} were asked for ({n} made).")
    if n < k:
        raise ValueError(f"only {n} superpixels could be made, fewer than k={k}; lower k "
                         "or raise compactness")
    if n == k:  # k parts of a k-node graph: each node is one
        clusters = np.arange(n)
    else:
        means = region_means(to_space(image, space), superpixels)
        affinity = region_affinity(means, region_edges(superpixels), similarity_sigma)
        from sklearn.cluster import SpectralClustering  # scikit-learn loads when needed

        clusters = SpectralClustering(k, affinity="precomputed", random_state=rng,
                                      assign_labels="kmeans").fit_predict(affinity)
    labels, _ = relabel_by_intensity(clusters[superpixels - 1] + 1, image)
    return Segmentation(labels=labels, extras={"superpixels": superpixels, "n_superpixels": n},
                        notes=tuple(notes))


def region_edges(regions: np.ndarray) -> np.ndarray:
    """``(E, 2)`` pairs ``(a, b)``, ``a < b``, of the regions that touch (left-right or
    up-down neighbours), numbered from 0 for regions ``1..N``: the edges of the
    region adjacency graph (scikit-image's ``RAG`` with ``connectivity=1``, built
    in a few vectorised passes rather than a pass of Python per pixel: 0.05 s
    where ``RAG`` takes 1.5 s on a 1 MP image).

    Examples
    --------
    >>> region_edges(np.array([[1, 1, 2], [3, 3, 2]])).tolist()
    [[0, 1], [0, 2], [1, 2]]
    """
    regions = np.asarray(regions)
    n = int(regions.max())
    a = np.concatenate([regions[:, :-1].ravel(), regions[:-1].ravel()]).astype(np.int64)
    b = np.concatenate([regions[:, 1:].ravel(), regions[1:].ravel()]).astype(np.int64)
    touch = a != b
    low, high = np.minimum(a[touch], b[touch]) - 1, np.maximum(a[touch], b[touch]) - 1
    codes = np.unique(low * n + high)  # one number per pair: unique in one dimension
    return np.stack([codes // n, codes % n], 1)


def region_means(features: np.ndarray, regions: np.ndarray) -> np.ndarray:
    """``(N, F) float64``: the mean of ``features`` ``(H, W, F)`` over each region
    ``1..N`` of ``regions``.

    Examples
    --------
    >>> region_means(np.arange(4.0).reshape(1, 4, 1), np.array([[1, 1, 2, 2]])).tolist()
    [[0.5], [2.5]]
    """
    flat = np.asarray(regions).ravel() - 1
    n = int(flat.max()) + 1
    sizes = np.bincount(flat, minlength=n)
    return np.stack([np.bincount(flat, weights=features[..., c].ravel(), minlength=n)
                     for c in range(features.shape[-1])], 1) / np.maximum(sizes, 1)[:, None]


def region_affinity(means: np.ndarray, edges: np.ndarray, similarity_sigma: float) -> np.ndarray:
    """``(N, N) float64``: how strongly each two regions are linked, the graph the
    ``spectral`` method cuts: ``exp(-d**2 / sigma**2)`` for regions that touch
    (``d`` the distance of their mean features), plus a floor of ``1e-6``
    everywhere so the graph stays connected (its Laplacian's embedding is then
    defined), ``0`` on the diagonal.

    Examples
    --------
    >>> region_affinity(np.array([[0.0], [0.0]]), np.array([[0, 1]]), 0.1).tolist()
    [[0.0, 1.000001], [1.000001, 0.0]]
    """
    n = len(means)
    w = np.zeros((n, n))
    a, b = edges[:, 0], edges[:, 1]
    d2 = ((means[a] - means[b]) ** 2).sum(1)
    w[a, b] = w[b, a] = np.exp(-d2 / similarity_sigma ** 2)
    w += 1e-6
    np.fill_diagonal(w, 0)
    return w
