"""Hierarchical region merging: watershed basins of a boundary map, merged on their
region adjacency graph by boundary strength and colour, cut at one level.

The boundary map is learned by default: the shipped ``contours`` U-Net's estimate of
where people draw boundaries (:mod:`segcore.nn.contours`), which is what lifts the
method from 0.51 to 0.6 covering on BSDS500 val (the README's table); the colour
gradient is the classical choice, without a network.

The merge order (the hierarchy) does not depend on where it is cut: it is computed
once per image and settings and kept (:mod:`segcore._memo`), so moving the cut-level
slider only replays the first merges of a list, in milliseconds.
"""

from __future__ import annotations

import dataclasses
import heapq
import math
from typing import NamedTuple

import numpy as np
from scipy import ndimage as ndi
from scipy import sparse
from scipy.sparse import csgraph
from skimage import morphology, segmentation, transform

from segcore import _memo
from segcore.color import to_space
from segcore.filters import blur, gradient_magnitude
from segcore.methods._params import SPACE, blur_param
from segcore.methods.graph import region_means
from segcore.registry import Param, Segmentation, register

#: Above this many pixels the basins' starting points (the gradient's h-minima, whose
#: morphological reconstruction takes seconds at 1 MP) are found on the gradient
#: resized to this many pixels; the basins themselves are grown at full size.
MARKER_PIXELS = 250_000
#: The greedy merge runs in Python, one heap step per merge: above this many basins
#: (a detailed photo of several megapixels) the smallest are first merged in
#: vectorised rounds by the same cost, so a 1 MP image takes about a second.
MAX_BASINS = 3000


class Hierarchy(NamedTuple):
    """A merge order over the basins of an over-segmentation.

    Attributes
    ----------
    basins : (H, W) int32 ndarray
        The over-segmentation, regions ``1..n``.
    merges : (M, 2) int64 ndarray
        The basins (numbered from 0) joined by each merge, in merge order: a merge
        joins the regions that hold these two basins at that point.
    levels : (M,) float64 ndarray
        The cost of each merge, made non-decreasing (each the largest so far): cutting
        at ``level`` applies the merges whose level is below it.

    Examples
    --------
    >>> tree = Hierarchy(np.array([[1, 2, 3]]), np.array([[1, 2], [1, 0]]), np.array([0.1, 0.5]))
    >>> len(tree.merges), int(tree.basins.max())
    (2, 3)
    """

    basins: np.ndarray
    merges: np.ndarray
    levels: np.ndarray


def colour_gradient(features: np.ndarray, sigma: float) -> np.ndarray:
    """``(H, W) float64``: the gradient magnitude of ``features`` ``(H, W, F)``, the
    square root of the sum over features of their squared Sobel magnitudes
    (scikit-image's ``sobel``), each feature blurred by ``sigma`` pixels first.

    Examples
    --------
    >>> f = np.zeros((5, 6, 1)); f[:, 3:] = 1
    >>> colour_gradient(f, 0.0)[2].round(2).tolist()
    [0.0, 0.0, 0.71, 0.71, 0.0, 0.0]
    """
    total = np.zeros(features.shape[:2])
    for c in range(features.shape[2]):
        channel = features[..., c].astype(np.float64)
        total += gradient_magnitude(blur(channel, sigma)) ** 2
    return np.sqrt(total)


def gradient_basins(gradient: np.ndarray, depth: float) -> np.ndarray:
    """``(H, W) int32``: the watershed basins of ``gradient`` grown from its minima
    deeper than ``depth`` (h-minima), regions ``1..n``; a flat gradient is one basin.

    Examples
    --------
    >>> g = np.ones((5, 7)); g[:, 1] = g[:, 5] = 0; g[:, 3] = 2
    >>> gradient_basins(g, 0.5)[0].tolist()
    [1, 1, 1, 1, 2, 2, 2]

    Above :data:`MARKER_PIXELS` pixels the minima are found on the gradient resized
    to that size and scaled back (nearest pixel) before the flood.
    """
    scale = math.sqrt(MARKER_PIXELS / gradient.size)
    if scale < 1:
        small = transform.resize(gradient, (max(round(gradient.shape[0] * scale), 2),
                                            max(round(gradient.shape[1] * scale), 2)),
                                 order=1, anti_aliasing=False)
        markers, n = ndi.label(morphology.h_minima(small, depth))
        markers = transform.resize(markers, gradient.shape, order=0, preserve_range=True,
                                   anti_aliasing=False).astype(np.int32)
    else:
        markers, n = ndi.label(morphology.h_minima(gradient, depth))
    if n == 0:  # no minimum deeper than depth: all one basin
        return np.ones(gradient.shape, np.int32)
    return segmentation.watershed(gradient, markers).astype(np.int32)


def boundary_stats(regions: np.ndarray, edge_map: np.ndarray
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The region adjacency graph of ``regions`` (``1..N``) weighted by boundary
    strength, as scikit-image's ``graph.rag_boundary(regions, edge_map,
    connectivity=1)`` builds it, in a few vectorised passes and without the
    networkx graph.

    Returns ``(pairs, total, count)``: ``pairs`` ``(E, 2)`` the regions that touch,
    numbered from 0, ``a < b``; ``count`` ``(E,)`` how many boundary pixels they
    share (a pixel whose 4-neighbourhood's smallest or largest label is the other
    region's) and ``total`` the sum of ``edge_map`` over those pixels: the
    edge's weight in ``rag_boundary`` is ``total / count``.

    Examples
    --------
    >>> pairs, total, count = boundary_stats(np.array([[1, 1, 2]]), np.array([[0.0, 1.0, 3.0]]))
    >>> pairs.tolist(), total.tolist(), count.tolist()
    ([[0, 1]], [4.0], [2.0])
    """
    regions = np.asarray(regions)
    cross = ndi.generate_binary_structure(2, 1)
    low = ndi.grey_erosion(regions, footprint=cross)
    high = ndi.grey_dilation(regions, footprint=cross)
    below, above = low != regions, high != regions
    a = np.concatenate([low[below], regions[above]]).astype(np.int64) - 1
    b = np.concatenate([regions[below], high[above]]).astype(np.int64) - 1
    values = np.concatenate([edge_map[below], edge_map[above]]).astype(np.float64)
    n = max(int(regions.max()), 1)
    codes, which = np.unique(a * n + b, return_inverse=True)
    total = np.bincount(which, weights=values, minlength=codes.size)
    count = np.bincount(which, minlength=codes.size).astype(np.float64)
    return np.stack([codes // n, codes % n], 1), total, count


def _costs(pairs, total, count, means, sizes, colour_weight, size_weight, area):
    """The cost of merging each pair, vectorised (the same formula as the heap's)."""
    a, b = pairs[:, 0], pairs[:, 1]
    cost = (1 - colour_weight) * total / count
    if colour_weight:
        cost = cost + colour_weight * np.sqrt(((means[a] - means[b]) ** 2).sum(1))
    if size_weight:
        cost = cost * (np.minimum(sizes[a], sizes[b]) / area) ** size_weight
    return cost


def _premerge(pairs, total, count, sums, sizes, colour_weight, size_weight, area, most):
    """Rounds of Boruvka's step until at most ``most`` regions remain: each region's
    cheapest merge is a candidate, and the cheapest candidates are applied, as many
    as may be. Returns the merges applied (pairs of node numbers) and the merged
    graph (its nodes renumbered from 0) with a map from old nodes to new."""
    n = len(sizes)
    group = np.arange(n)
    applied = []
    while n > most and len(pairs):
        cost = _costs(pairs, total, count, sums / sizes[:, None], sizes, colour_weight,
                      size_weight, area)
        ends = pairs.T.ravel()
        edge = np.tile(np.arange(len(pairs)), 2)
        order = np.lexsort((np.tile(cost, 2), ends))
        first = np.r_[True, ends[order][1:] != ends[order][:-1]]
        chosen = np.unique(edge[order][first])
        chosen = chosen[np.argsort(cost[chosen], kind="stable")][:n - most]
        applied.append(_group_members(group, pairs[chosen]))
        joined = sparse.coo_array((np.ones(len(chosen)), (pairs[chosen, 0], pairs[chosen, 1])),
                                  shape=(n, n))
        n, renumber = csgraph.connected_components(joined, directed=False)
        group = renumber[group]
        sums = np.stack([np.bincount(renumber, weights=sums[:, c], minlength=n)
                         for c in range(sums.shape[1])], 1)
        sizes = np.bincount(renumber, weights=sizes, minlength=n)
        a, b = renumber[pairs[:, 0]], renumber[pairs[:, 1]]
        apart = a != b
        codes, which = np.unique(np.minimum(a, b)[apart] * n + np.maximum(a, b)[apart],
                                 return_inverse=True)
        total = np.bincount(which, weights=total[apart])
        count = np.bincount(which, weights=count[apart])
        pairs = np.stack([codes // n, codes % n], 1)
    return applied, group, pairs, total, count, sums, sizes


def _group_members(group: np.ndarray, pairs: np.ndarray) -> np.ndarray:
    """For node pairs of a merged graph (``group`` maps each original node to its
    merged node), one original node of each: the first with that merged node.

    Examples
    --------
    >>> _group_members(np.array([1, 0, 1, 0]), np.array([[0, 1]])).tolist()
    [[1, 0]]
    """
    first = np.full(int(group.max()) + 1, -1)
    first[group[::-1]] = np.arange(len(group))[::-1]
    return first[pairs]


def merge_order(pairs: np.ndarray, total: np.ndarray, count: np.ndarray, sums: np.ndarray,
                sizes: np.ndarray, *, colour_weight: float, size_weight: float,
                area: float | None = None, progress=None) -> tuple[np.ndarray, np.ndarray]:
    """Greedy merging of a region adjacency graph, cheapest merge first, to the end.

    Regions ``a`` and ``b`` that touch cost
    ``((1 - colour_weight) * B + colour_weight * D) * (min(|a|, |b|) / area) ** size_weight``:
    ``B`` the mean boundary strength along their shared boundary
    (``total / count``), ``D`` the distance of their mean features
    (``sums / sizes``), ``|a|`` a region's size. After each merge the merged
    region's costs to its neighbours are computed anew from the summed
    statistics. With ``size_weight=0`` this is scikit-image's
    ``graph.merge_hierarchical`` on a ``rag_boundary`` graph
    (``colour_weight=0``) or on a ``rag_mean_color`` graph in distance mode
    (``colour_weight=1``), run with a threshold above every cost, with the
    order and cost of every merge kept.

    Parameters
    ----------
    pairs, total, count : ndarray
        The graph, as :func:`boundary_stats` gives it (nodes ``0..N-1``).
    sums : (N, F) ndarray
        Each node's features summed over its pixels.
    sizes : (N,) ndarray
        Each node's pixel count.
    area : float, optional
        What sizes are measured against (the image's pixel count; default their sum).
    progress : callable, optional
        ``progress(fraction)`` every thousand merges.

    Returns
    -------
    merges : (M, 2) int64 ndarray
        The two nodes each merge joined (each the node that still stands for its region).
    costs : (M,) float64 ndarray
        What each merge cost when it was made (not necessarily increasing).

    Examples
    --------
    >>> pairs = np.array([[0, 1], [1, 2]]); ones = np.ones(2)
    >>> merges, costs = merge_order(pairs, np.array([0.5, 0.1]), ones, np.zeros((3, 1)),
    ...                             np.ones(3), colour_weight=0.0, size_weight=0.0)
    >>> merges.tolist(), costs.tolist()
    ([[1, 2], [0, 1]], [0.1, 0.5])
    """
    n = len(sizes)
    area = float(area if area is not None else np.sum(sizes))
    # Plain Python numbers: the loop does a few arithmetic steps per merge, where
    # NumPy scalars would cost ten times more each.
    sums_ = [list(map(float, row)) for row in np.asarray(sums)]
    sizes_ = [float(s) for s in sizes]
    features = range(len(sums_[0]) if n else 0)
    links: list = [dict() for _ in range(n)]  # node -> {neighbour: [total, count]}
    for (a, b), t, c in zip(pairs.tolist(), np.asarray(total).tolist(),
                            np.asarray(count).tolist()):
        shared = [t, c]
        links[a][b] = links[b][a] = shared
    cw, sw = float(colour_weight), float(size_weight)

    def cost(a, b, shared):
        value = (1 - cw) * shared[0] / shared[1]
        if cw:
            fa, fb, ia, ib = sums_[a], sums_[b], 1 / sizes_[a], 1 / sizes_[b]
            value += cw * math.sqrt(sum((fa[i] * ia - fb[i] * ib) ** 2 for i in features))
        if sw:
            value *= (min(sizes_[a], sizes_[b]) / area) ** sw
        return value

    # A merge changes its region's costs: heap entries carry the version of both
    # ends and are skipped when either has changed since.
    version = [0] * n
    heap = [(cost(a, b, shared), a, b, 0, 0) for a in range(n)
            for b, shared in links[a].items() if a < b]
    heapq.heapify(heap)
    merges, costs = [], []
    while heap:
        value, a, b, va, vb = heapq.heappop(heap)
        if version[a] != va or version[b] != vb or links[a] is None or links[b] is None:
            continue
        if len(links[a]) < len(links[b]):  # the region with more neighbours stays
            a, b = b, a
        merges.append((a, b))
        costs.append(value)
        kept, gone = links[a], links[b]
        del kept[b]
        for c, shared in gone.items():
            if c == a:
                continue
            del links[c][b]
            if c in kept:
                kept[c][0] += shared[0]
                kept[c][1] += shared[1]
            else:
                kept[c] = links[c][a] = shared
        links[b] = None
        sums_[a] = [x + y for x, y in zip(sums_[a], sums_[b])]
        sizes_[a] += sizes_[b]
        version[a] += 1
        for c, shared in kept.items():
            low, high = (a, c) if a < c else (c, a)
            heapq.heappush(heap, (cost(low, high, shared), low, high, version[low],
                                  version[high]))
        if progress is not None and len(merges) % 1000 == 0:
            progress(len(merges) / max(n - 1, 1))
    return np.array(merges, np.int64).reshape(-1, 2), np.array(costs, np.float64)


def boundary_map(image: np.ndarray, boundary: str, *, sigma: float = 1.0, space: str = "lab",
                 features: np.ndarray | None = None, progress=None) -> np.ndarray:
    """``(H, W) float64``: how strongly each pixel of ``image`` looks like a region
    boundary. ``"learned"``: the shipped contour network's share of people who would
    draw one there (:func:`segcore.nn.contours.boundary_probability`, in ``[0, 1]``);
    ``"gradient"``: the :func:`colour_gradient` of ``space``'s features blurred by
    ``sigma`` (``features``, when given, are those already converted).

    Examples
    --------
    >>> img = np.zeros((8, 8, 3), np.float32); img[:, 4:] = 1
    >>> g = boundary_map(img, "gradient", sigma=0)
    >>> bool(g[:, 3:5].min() > 0), float(g[:, 0].max())
    (True, 0.0)
    """
    if boundary == "learned":
        from segcore.nn.contours import boundary_probability  # torch loads when asked for

        return boundary_probability(image, progress=progress).astype(np.float64)
    if boundary != "gradient":
        raise ValueError(f"boundary must be 'learned' or 'gradient', got {boundary!r}")
    return colour_gradient(to_space(image, space) if features is None else features, sigma)


def hierarchy(image: np.ndarray, *, boundary: str = "gradient", sigma: float = 1.0,
              depth: float = 0.02, colour_weight: float = 0.5, size_weight: float = 0.4,
              space: str = "lab", progress=None) -> Hierarchy:
    """The merge hierarchy of ``image``: watershed basins of its
    :func:`boundary_map` (:func:`gradient_basins`), merged greedily
    (:func:`merge_order`) on the graph :func:`boundary_stats` builds with the same
    map as boundary strength, in ``space``'s features. Above
    :data:`MAX_BASINS` basins the smallest are first merged in vectorised rounds
    of the same cost (those merges come first, at level 0).

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]
    boundary : {"gradient", "learned"}
        The boundary map (see :func:`boundary_map`).

    Examples
    --------
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 1
    >>> h = hierarchy(img)
    >>> int(h.basins.max()), h.merges.tolist(), h.levels.round(3).tolist()
    (2, [[0, 1]], [0.551])
    """
    report = progress or (lambda fraction: None)
    features = to_space(image, space)
    edges = boundary_map(image, boundary, sigma=sigma, space=space, features=features,
                         progress=lambda f: report(0.15 * f))
    basins = gradient_basins(edges, depth)
    report(0.2)
    pairs, total, count = boundary_stats(basins, edges)
    sizes = np.bincount(basins.ravel() - 1).astype(np.float64)
    sums = region_means(features, basins) * sizes[:, None]
    area = float(basins.size)
    applied, group = [], np.arange(len(sizes))
    if len(sizes) > MAX_BASINS:
        applied, group, pairs, total, count, sums, sizes = _premerge(
            pairs, total, count, sums, sizes, colour_weight, size_weight, area, MAX_BASINS)
    report(0.3)
    merges, costs = merge_order(pairs, total, count, sums, sizes, colour_weight=colour_weight,
                                size_weight=size_weight, area=area,
                                progress=lambda f: report(0.3 + 0.7 * f))
    merges = _group_members(group, merges)
    first = sum(len(m) for m in applied)
    merges = np.concatenate([*applied, merges]).reshape(-1, 2)
    levels = np.maximum.accumulate(np.concatenate([np.zeros(first), costs]))
    report(1.0)
    return Hierarchy(basins, merges, levels)


def cut(tree: Hierarchy, *, level: float = 0.0, n_regions: int = 0) -> np.ndarray:
    """``(H, W) int32`` labels ``1..N``: the regions of ``tree`` after the merges
    below ``level``, or, with ``n_regions`` above 0, after all but the last
    ``n_regions - 1`` merges (``n_regions`` regions, or every basin if there are
    fewer). A connected-components pass over the first merges: milliseconds.

    Examples
    --------
    >>> tree = Hierarchy(np.array([[1, 2, 3]]), np.array([[1, 2], [1, 0]]), np.array([0.1, 0.5]))
    >>> cut(tree, level=0.2).tolist(), cut(tree, level=1.0).tolist()
    ([[1, 2, 2]], [[1, 1, 1]])
    >>> cut(tree, n_regions=3).tolist()
    [[1, 2, 3]]
    """
    n = int(tree.basins.max())
    if n_regions > 0:
        k = min(max(n - n_regions, 0), len(tree.merges))
    else:
        k = int(np.searchsorted(tree.levels, level, side="left"))
    joined = sparse.coo_array((np.ones(k), (tree.merges[:k, 0], tree.merges[:k, 1])),
                              shape=(n, n))
    region = csgraph.connected_components(joined, directed=False)[1]
    return (region[tree.basins - 1] + 1).astype(np.int32)


#: Cut levels above this, with the colour gradient, merge nearly everything.
GRADIENT_CUT_HIGH = 0.1


def _settings_notes(image: np.ndarray, params: dict) -> list[str]:
    """A warning when the cut level is meant for the learned map but the gradient is
    chosen (its strengths are about five times smaller).

    Examples
    --------
    >>> _settings_notes(None, {"boundary": "gradient", "cut_level": 0.17, "n_regions": 0})[0][:40]
    'With the colour gradient, a cut level ab'
    >>> _settings_notes(None, {"boundary": "learned", "cut_level": 0.17, "n_regions": 0})
    []
    """
    if (params["boundary"] == "gradient" and params["cut_level"] > GRADIENT_CUT_HIGH
            and not params["n_regions"]):
        return [f"With the colour gradient, a cut level above {GRADIENT_CUT_HIGH:g} merges "
                f"nearly everything: about 0.03 was best on BSDS500 photos (0.17 is the "
                f"learned map's best)."]
    return []


@register("merge", label="Hierarchical merging", settings_notes=_settings_notes, params=(
    Param("boundary", "choice", "learned", label="Boundary strength",
          choices=("learned", "gradient"),
          help="What tells regions apart along their shared boundary. learned: where people "
               "draw boundaries, as a network trained on BSDS500 photos estimates it (it "
               "ignores texture); gradient: how fast the colour changes, blurred first."),
    Param("cut_level", "float", 0.17, label="Cut level", low=0.001, high=1.0, log=True,
          help="Merging stops at the first merge that would cost this much: higher gives "
               "fewer, larger regions. Moving it reuses the merge order already computed. "
               "Learned strengths run from 0 to 1 (0.17 was best on BSDS500 photos); "
               "gradient strengths are smaller (about 0.03)."),
    Param("n_regions", "int", 0, label="Regions (0: by cut level)", low=0, high=1000,
          help="Above 0, merge until this many regions are left instead of stopping at "
               "the cut level."),
    Param("colour_weight", "float", 0.3, label="Colour vs boundary", low=0.0, high=1.0,
          step=0.05,
          help="What a merge costs: 0 is the mean edge strength along the shared boundary "
               "only, 1 the difference of the two regions' mean colours only."),
    Param("size_weight", "float", 0.2, label="Small regions first", low=0.0, high=1.0,
          step=0.05,
          help="The cost is multiplied by the smaller region's share of the image to this "
               "power: above 0 small regions merge before large ones."),
    Param("depth", "float", 0.02, label="Basin depth", low=0.001, high=0.5, log=True,
          help="How deep a minimum of the boundary map must be to start a basin of the "
               "over-segmentation: lower gives more, smaller basins to merge."),
    dataclasses.replace(blur_param(1.0, "the colour gradient"), when=("boundary", ("gradient",))),
    SPACE,
))
def merge(image, *, boundary, cut_level, n_regions, colour_weight, size_weight, depth, sigma,
          space, progress=None):
    """Hierarchical region merging: cut the image into the watershed basins of a
    boundary map (learned by a network, or the colour gradient), then merge
    neighbouring regions, the cheapest pair first, by the boundary strength along
    their shared boundary and the difference of their colours, small regions first;
    stop at a cut level (or a number of regions).

    The merge order is computed once per image and the settings it depends on and
    kept for the next call (:mod:`segcore._memo`): moving the cut level or the
    number of regions costs milliseconds. ``extras["basins"]`` holds the
    over-segmentation, ``extras["n_basins"]`` its size.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((32, 32, 3), np.float32); img[:, 16:] = (0.9, 0.2, 0.1)
    >>> merge(img).n_regions
    2
    """
    # The blur only shapes the colour gradient: a learned map ignores it.
    settings = (boundary, sigma if boundary == "gradient" else None, depth, colour_weight,
                size_weight, space)
    tree = _memo.cached("merge.hierarchy", image, settings,
                        lambda: hierarchy(image, boundary=boundary, sigma=sigma, depth=depth,
                                          colour_weight=colour_weight, size_weight=size_weight,
                                          space=space, progress=progress))
    labels = cut(tree, level=cut_level, n_regions=n_regions)
    return Segmentation(labels=labels, extras={"basins": tree.basins,
                                               "n_basins": int(tree.basins.max())})
