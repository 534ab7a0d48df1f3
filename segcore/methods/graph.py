"""Graph-based methods: Felzenszwalb, SLIC superpixels, spectral clustering on a region graph."""

from __future__ import annotations

import numpy as np
from skimage import graph as skgraph
from skimage import segmentation

from segcore.color import relabel_by_intensity, to_space
from segcore.methods._params import RNG, SPACE, blur_param
from segcore.registry import Param, Segmentation, register

N_SEGMENTS = Param("n_segments", "int", 200, label="Superpixels (about)", low=2, high=5000,
                   log=True, help="About how many superpixels to make.")
COMPACTNESS = Param("compactness", "float", 10.0, label="Compactness", low=0.01, high=100.0,
                    log=True, help="Higher gives squarer superpixels that follow colour less.")


def _features(image, space):
    feats = to_space(image, space)
    return feats[:, :, 0] if feats.shape[2] == 1 else feats, (None if feats.shape[2] == 1 else -1)


def _slic(image, space, n_segments, compactness, sigma):
    feats, axis = _features(image, space)
    # Our features are already in [0, 1]; compactness is relative to that range,
    # so scale it as skimage expects for Lab-sized values (0..100).
    return segmentation.slic(feats, n_segments=n_segments, compactness=compactness / 100.0,
                             sigma=sigma, channel_axis=axis, convert2lab=False, start_label=1,
                             enforce_connectivity=True)


@register("felzenszwalb", label="Felzenszwalb graph segmentation", params=(
    Param("scale", "float", 100.0, label="Scale", low=1.0, high=5000.0, log=True,
          help="Higher prefers larger regions."),
    blur_param(0.8, "building the graph"),
    Param("min_size", "int", 50, label="Smallest region (pixels)", low=1, high=5000, log=True,
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
    feats, axis = _features(image, space)
    labels = segmentation.felzenszwalb(feats, scale=scale, sigma=sigma, min_size=min_size,
                                       channel_axis=axis) + 1
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
    Param("k", "int", 4, label="Clusters (k)", low=2, high=20,
          help="How many segments to split the region graph into."),
    # The graph needs a fair number of nodes to split into k parts.
    Param("n_segments", "int", 300, label="Superpixels (about)", low=50, high=5000, log=True,
          help="About how many superpixels form the graph's nodes."),
    COMPACTNESS,
    Param("similarity_sigma", "float", 0.1, label="Colour difference scale", low=0.005,
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
    superpixels = _slic(image, space, n_segments, compactness, 0.0)
    feats = to_space(image, space)
    n = int(superpixels.max())
    if n < k:
        raise ValueError(f"only {n} superpixels were made, fewer than k={k}; raise n_segments")
    flat = superpixels.ravel() - 1
    counts = np.bincount(flat, minlength=n)
    means = np.stack([np.bincount(flat, weights=feats[..., c].ravel(), minlength=n) / counts
                      for c in range(feats.shape[2])], 1)
    rag = skgraph.RAG(superpixels)
    affinity = np.zeros((n, n))
    for a, b in rag.edges:
        d2 = float(((means[a - 1] - means[b - 1]) ** 2).sum())
        affinity[a - 1, b - 1] = affinity[b - 1, a - 1] = np.exp(-d2 / similarity_sigma ** 2)
    # A tiny floor keeps the graph connected so the Laplacian's embedding is defined.
    affinity += 1e-6
    np.fill_diagonal(affinity, 0)
    from sklearn.cluster import SpectralClustering  # scikit-learn loads when needed

    clusters = SpectralClustering(k, affinity="precomputed", random_state=rng,
                                  assign_labels="kmeans").fit_predict(affinity)
    labels, _ = relabel_by_intensity(clusters[superpixels - 1] + 1, image)
    return Segmentation(labels=labels, extras={"superpixels": superpixels, "n_superpixels": n})
