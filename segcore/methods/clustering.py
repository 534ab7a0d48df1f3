"""Clustering pixels by colour (and position): k-means and Gaussian mixtures (EM)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from segcore import _memo, _parallel
from segcore.color import GRAY_WEIGHTS, to_gray, to_space
from segcore.methods._params import RNG, SPACE
from segcore.registry import Param, Segmentation, register

#: From this many pixels on, k-means and EM cluster fine colour bins instead of the
#: distinct colours (see :func:`colour_bins`).
BIN_PIXELS = 2_500_000
#: Levels per channel of the colour bins: 64, steps of 4 in 8-bit values.
BIN_LEVELS = 64
#: Finer bins, 128 levels, where 64 are too coarse (measured on the 4 MP photo of
#: ``benchmarks.suite``): hue changes fast across a bin near the gray axis (``hsv``
#: k-means ends 1.2% above the inertia over every pixel with 64 levels, 0.3% with
#: 128), and EM's log-likelihood feels the spread inside bins (``gmm`` 0.011 per
#: pixel below scikit-learn's with 64, 0.003 with 128).
FINE_BIN_LEVELS = 128
#: Pixels binned at a time by each thread (their scratch fits a core's cache).
CHUNK = 32_768

# With pixel position among the features no two pixels are alike, so k-means then
# fits a random subset of this many pixels and labels every pixel by its nearest centre.
FIT_PIXELS = 40_000

K = Param("k", "int", 3, label="Clusters (k)", low=2, high=12,
          help="How many groups of pixels to make.")
MAX_ITER = Param("max_iter", "int", 100, label="Most iterations", low=1, high=500, log=True,
                 help="The method stops after this many steps even if it has not settled.")


def pixel_features(image: np.ndarray, space: str, xy_weight: float = 0.0) -> np.ndarray:
    """``(H*W, F) float64`` features: colour in ``space``, then ``xy_weight`` times the
    row and column scaled to [0, 1].

    Examples
    --------
    >>> pixel_features(np.zeros((2, 3, 1), np.float32), "gray", xy_weight=1.0).shape
    (6, 3)
    """
    h, w = image.shape[:2]
    feats = to_space(image, space).reshape(h * w, -1).astype(np.float64)
    if xy_weight > 0:
        rows, cols = np.mgrid[0:h, 0:w]
        scale = max(h, w) - 1 or 1
        xy = np.stack([rows.ravel(), cols.ravel()], 1) / scale * xy_weight
        feats = np.hstack([feats, xy])
    return feats


def colour_table(image: np.ndarray, space: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct colours of an image, how many pixels have each, and which one
    every pixel has: ``(features, counts, index)``.

    Clustering all pixels by colour alone is the same optimisation as clustering
    the distinct colours weighted by their pixel counts, and an 8-bit photo has a
    few hundred thousand distinct colours where it has millions of pixels. Colours
    are compared at 8 bits per channel (steps of 1/255): exact for 8-bit files,
    finer than the eye sees for deeper ones. The colour space conversion runs on
    the distinct colours only.

    Returns
    -------
    features : (n, F) float64 ndarray
        Each distinct colour in ``space`` (see :func:`segcore.color.to_space`).
    counts : (n,) float64 ndarray
        Pixels of each colour.
    index : (H * W,) int32 ndarray
        Row of ``features`` of every pixel.

    Examples
    --------
    >>> img = np.zeros((2, 3, 3), np.float32); img[:, 2] = 1
    >>> f, counts, index = colour_table(img, "rgb")
    >>> f.tolist(), counts.tolist(), index.tolist()
    ([[0.0, 0.0, 0.0], [1.0, 1.0, 1.0]], [4.0, 2.0], [0, 0, 1, 0, 0, 1])
    """
    levels = np.rint(image * 255).astype(np.uint8)
    if image.shape[2] == 1:
        codes = levels.reshape(-1).astype(np.int32)
    else:
        codes = (levels[..., 0].astype(np.int32) << 16) | (levels[..., 1].astype(np.int32) << 8)
        codes = (codes | levels[..., 2]).reshape(-1)
    present, index, counts = np.unique(codes, return_inverse=True, return_counts=True)
    if image.shape[2] == 1:
        colours = present[:, None]
    else:
        colours = np.stack([present >> 16, (present >> 8) & 255, present & 255], 1)
    colours = (colours.astype(np.float32) / 255)[:, None, :]
    features = to_space(colours, space).reshape(len(present), -1).astype(np.float64)
    return features, counts.astype(np.float64), index.astype(np.int32).reshape(-1)


@dataclass(frozen=True)
class ColourTable:
    """What k-means and EM fit by colour: ``features`` ``(n, F)`` of each row (a
    distinct colour, or a colour bin), ``counts`` (pixels per row), ``gray`` (each
    row's gray value, which orders the labels), and how every pixel finds its row
    (:meth:`per_pixel`).

    Examples
    --------
    >>> t = table(np.zeros((2, 2, 3), np.float32), "rgb")
    >>> t.counts.tolist(), t.per_pixel(t.features).shape
    ([4.0], (4, 3))
    """

    features: np.ndarray
    counts: np.ndarray
    gray: np.ndarray
    codes: np.ndarray  # (H * W,) int32: each pixel's row, or its bin when ``present`` is set
    present: np.ndarray | None = None  # the bin of each row
    bins: int = 0
    scatter: np.ndarray | None = None  # (n, F, F): each bin's spread of features about its centre
    _fit: tuple | None = field(default=None, init=False, repr=False, compare=False)

    def fit_rows(self) -> tuple:
        """``(x, weights, scatter)`` that k-means and EM iterate on: the rows, or past
        :data:`FIT_ROWS` rows their cells (:func:`bin_rows`). Worked out once per
        table and kept with it (read-only): the distinct colours of a 1 MP photo are
        kept between slider moves, and binning them took 24 ms of every k move.

        Examples
        --------
        >>> t = table(np.zeros((2, 2, 3), np.float32), "rgb")
        >>> x, weights, scatter = t.fit_rows()
        >>> x.tolist(), weights.tolist(), scatter
        ([[0.0, 0.0, 0.0]], [4.0], None)
        """
        if self._fit is None:  # a frozen dataclass: set once, the same for every caller
            rows = (self.features, self.counts, self.scatter)
            if len(self.features) > FIT_ROWS:
                means, counts, cells, _ = bin_rows(*rows[:2], scatter=self.scatter)
                rows = (means, counts, cells)
            object.__setattr__(self, "_fit", _memo.read_only(rows))
        return self._fit

    def per_pixel(self, values: np.ndarray) -> np.ndarray:
        """``values`` of each row (``(n, ...)``) for every pixel (``(H * W, ...)``).

        Examples
        --------
        >>> t = table(np.zeros((1, 2, 1), np.float32), "gray")
        >>> t.per_pixel(np.array([7])).tolist()
        [7, 7]
        """
        if self.present is None:
            full = values
        else:
            full = np.zeros((self.bins, *values.shape[1:]), values.dtype)
            full[self.present] = values
        out = np.empty((len(self.codes), *values.shape[1:]), values.dtype)

        def gather(rows):  # mode="clip": every code is a row, and numpy then skips a
            # buffered copy of ``out`` that its default mode makes (a third faster).
            # In pieces of CHUNK pixels: take converts the int32 codes to 64-bit
            # indices first, and a piece's copy stays in the cache.
            for piece in _pieces(rows):
                np.take(full, self.codes[piece], axis=0, out=out[piece], mode="clip")

        _parallel.run(gather, len(out))
        return out


def _pieces(rows: slice) -> list[slice]:
    """``rows`` cut into pieces of at most :data:`CHUNK`."""
    return [slice(start, min(start + CHUNK, rows.stop))
            for start in range(rows.start, rows.stop, CHUNK)]


def colour_bins(image: np.ndarray, space: str, *, levels: int | None = None,
                with_scatter: bool = False) -> ColourTable:
    """The pixels of a large image grouped into fine colour bins: ``levels`` per RGB
    channel (by default :data:`BIN_LEVELS`, :data:`FINE_BIN_LEVELS` for ``hsv``),
    or 256 gray levels for a gray image or the ``gray`` space. Each bin stands for
    its pixels by its centre colour, and, ``with_scatter`` (EM asks; k-means has no
    use for it), by their spread over the bin (``scatter``).

    Finding the distinct colours of millions of pixels means sorting them or a
    table of every 24-bit colour (0.3 s at 4 MP). A bin number is one pass of
    arithmetic per pixel and a count per bin one more (both on every core, see
    :mod:`segcore._parallel`), and every pixel is labelled from its bin's row.
    k-means over 64-level bins ends within 0.1% of scikit-learn's inertia over
    every pixel at 4 MP (``benchmarks.suite``; tested on small images).

    Examples
    --------
    >>> img = np.zeros((2, 3, 3), np.float32); img[:, 2] = 1
    >>> t = colour_bins(img, "rgb", levels=4)
    >>> t.features.tolist(), t.counts.tolist(), t.per_pixel(np.arange(2)).tolist()
    ([[0.125, 0.125, 0.125], [0.875, 0.875, 0.875]], [4.0, 2.0], [0, 0, 1, 0, 0, 1])
    """
    levels = levels or (FINE_BIN_LEVELS if space == "hsv" else BIN_LEVELS)
    flat = image.reshape(-1, image.shape[2])
    codes = np.empty(len(flat), np.int32)
    if image.shape[2] == 1 or space == "gray":
        bins = 256
        weights = np.array([1.0] if image.shape[2] == 1 else GRAY_WEIGHTS, np.float32)

        def code(rows):  # the nearest 8-bit gray level, as the distinct colours have it
            # In pieces of CHUNK pixels, like the colour bins below; 256 counts are
            # cheap to add up piece by piece.
            scratch = np.empty(CHUNK, np.float32)
            counts = np.zeros(bins, np.int64)
            for piece in _pieces(rows):
                gray = scratch[:piece.stop - piece.start]
                np.matmul(flat[piece], weights, out=gray)
                np.multiply(gray, np.float32(255), out=gray)
                np.add(gray, np.float32(0.5), out=gray)
                codes[piece] = gray
                counts += np.bincount(codes[piece], minlength=bins)
            return counts

        def centre(rows):
            return rows.astype(np.float32)[:, None] / np.float32(255)
    else:
        bins = levels ** 3
        place = np.array([levels * levels, levels, 1], np.float32)

        def code(rows):
            # floor(value * levels) per channel (1.0 falls into the top bin), and the bin
            # number as one matrix product: whole numbers below 2**24 are exact in float32.
            # In pieces of CHUNK pixels, so that the scratch array stays in the core's
            # cache between the three passes (a third less time at 4 MP than whole
            # blocks).
            scratch = np.empty((CHUNK, 3), np.float32)
            for piece in _pieces(rows):
                scaled = scratch[:piece.stop - piece.start]
                np.multiply(flat[piece], np.float32(levels * (1 - 1e-6)), out=scaled)
                np.floor(scaled, out=scaled)
                codes[piece] = scaled @ place
            return np.bincount(codes[rows], minlength=bins)

        def centre(rows):
            cells = np.stack([rows // (levels * levels), (rows // levels) % levels,
                              rows % levels], 1)
            return (cells.astype(np.float32) + np.float32(0.5)) / np.float32(levels)
    counts, *others = _parallel.run(code, len(flat))
    for more in others:  # in place: a fresh sum of 128**3 counts costs a new 16 MB
        counts += more
    present = np.flatnonzero(counts)
    colours = centre(present)
    n = len(present)
    features = to_space(colours[:, None, :], space).reshape(n, -1).astype(np.float64)
    counts = counts[present].astype(np.float64)
    scatter = None
    if with_scatter and colours.shape[1] == 3:
        # A bin's pixels spread over its width, and EM's covariances must count that
        # spread (a Gaussian fitted to bin centres alone is too narrow). Taken as
        # uniform over the bin's cube of side 1/levels, mapped into the colour space by
        # central differences: the covariance of the features is J diag(1/(12 L^2)) J^T.
        steps = []
        for c in range(3):
            half = np.zeros(3, np.float32)
            half[c] = 0.5 / levels
            hi = to_space((colours + half)[:, None, :], space).reshape(n, -1)
            lo = to_space((colours - half)[:, None, :], space).reshape(n, -1)
            steps.append((hi - lo).astype(np.float64))
        step = np.stack(steps, 2)  # (n, F, 3): the features' change across the bin
        scatter = counts[:, None, None] * (step @ step.transpose(0, 2, 1)) / 12
    return ColourTable(features=features, counts=counts,
                       gray=to_gray(colours[:, None, :])[:, 0].astype(np.float64),
                       codes=codes, present=present, bins=bins, scatter=scatter)


def table(image: np.ndarray, space: str, *, levels: int | None = None,
          with_scatter: bool = False) -> ColourTable:
    """The rows k-means and EM fit by colour: the distinct colours
    (:func:`colour_table`), or past :data:`BIN_PIXELS` pixels the colour bins
    (:func:`colour_bins`, with ``levels`` per channel).

    Examples
    --------
    >>> t = table(np.zeros((2, 2, 3), np.float32), "lab")
    >>> t.features.shape, t.counts.tolist()
    ((1, 3), [4.0])
    """
    if image.shape[0] * image.shape[1] >= BIN_PIXELS:
        return colour_bins(image, space, levels=levels, with_scatter=with_scatter)

    def compute():
        features, counts, index = colour_table(image, space)
        return ColourTable(features=features, counts=counts, gray=_row_gray(image, index, counts),
                           codes=index)

    # The distinct colours are kept between calls on the same image (segcore._memo):
    # moving k or the number of iterations refits the table, it does not find the
    # colours again (0.1 s of a 1 MP photo's 0.2-0.5 s, for a 5 ms hash). Colour bins
    # are not: at 4 MP they take 25 ms, hashing the image 17 ms.
    return _memo.cached("clustering.table", image, (space,), compute)


def _row_gray(image: np.ndarray, index: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """The mean gray value of each distinct colour's pixels (``index`` maps pixels to
    rows)."""
    gray = to_gray(image).reshape(-1).astype(np.float64)
    return np.bincount(index, weights=gray, minlength=len(counts)) / np.maximum(counts, 1)


def _order_by_gray(mass: np.ndarray, gray_mass: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``rank`` (``rank[g]`` is the label 1..k of group ``g``) and ``order``
    (``order[i]`` is the group that became label ``i + 1``), darkest group first,
    from each group's pixel count and summed gray value (an empty group last)."""
    means = np.where(mass > 0, gray_mass / np.maximum(mass, 1e-12), np.inf)
    order = np.argsort(means, kind="stable")
    rank = np.empty(len(order), np.int32)
    rank[order] = np.arange(1, len(order) + 1)
    return rank, order


def _fit_subset(n: int, rng: int) -> np.ndarray:
    if n <= FIT_PIXELS:
        return np.arange(n)
    return np.sort(np.random.default_rng(rng).choice(n, FIT_PIXELS, replace=False))


def squared_distances(x: np.ndarray, centres: np.ndarray) -> np.ndarray:
    """``(N, k)`` squared Euclidean distances from every row of ``x`` to every centre.

    Examples
    --------
    >>> squared_distances(np.array([[0.0, 0.0], [3.0, 4.0]]), np.array([[0.0, 0.0]])).ravel()
    array([ 0., 25.])
    """
    return (x ** 2).sum(1)[:, None] - 2 * x @ centres.T + (centres ** 2).sum(1)[None, :]


def _nearest(x: np.ndarray, centres: np.ndarray, weights: np.ndarray | None = None,
             xx: np.ndarray | None = None) -> tuple[np.ndarray, float]:
    # ``xx``: each row's squared length, when the caller keeps it between iterations.
    # The nearest centre needs only -2 x.c + |c|^2; |x|^2 is added for the inertia.
    partial = (centres ** 2).sum(1)[None, :] - 2 * (x @ centres.T)
    assign = partial.argmin(1)
    xx = (x ** 2).sum(1) if xx is None else xx
    closest = np.maximum(partial[np.arange(len(x)), assign] + xx, 0)
    return assign, float(closest.sum() if weights is None else closest @ weights)


def lloyd(x: np.ndarray, centres: np.ndarray, *, max_iter: int = 100, tol: float = 1e-4,
          weights: np.ndarray | None = None, progress=None):
    """Lloyd's k-means iterations from given centres, recording every step.

    With ``weights``, row ``i`` of ``x`` stands for ``weights[i]`` identical points
    (a distinct colour and its pixel count): the result is that of the unweighted
    iterations on all the points. Stops when the centres move less than ``tol``
    times the mean feature variance (squared distance, summed over centres), as
    scikit-learn does. Returns the final centres, the assignment, the inertia and
    the history: a list of ``{"centres", "inertia"}`` per iteration (the lessons
    animate it).

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [0.9]])
    >>> c, a, inertia, hist = lloyd(x, np.array([[0.0], [1.0]]))
    >>> c.ravel().round(2).tolist(), a.tolist()
    ([0.05, 0.95], [0, 0, 1, 1])
    >>> c2, _, inertia2, _ = lloyd(np.array([[0.0], [0.1], [1.0]]), np.array([[0.0], [1.0]]),
    ...                            weights=np.array([1.0, 1.0, 2.0]))
    >>> c2.ravel().round(2).tolist(), round(inertia2, 4)
    ([0.05, 1.0], 0.005)
    """
    centres = centres.astype(np.float64).copy()
    k = len(centres)
    w = np.ones(len(x)) if weights is None else np.asarray(weights, np.float64)
    history = []
    mean = (w[:, None] * x).sum(0) / w.sum()
    threshold = tol * float(((w[:, None] * (x - mean) ** 2).sum(0) / w.sum()).mean())
    xx = (x ** 2).sum(1)
    # Each cluster's weighted sum of every feature in one bincount: bin c * d + f
    # gathers feature f of cluster c, each bin's terms in row order as d separate
    # counts would add them (the same sums), in one call rather than d (a gray
    # histogram's 100-odd iterations from ten starts are mostly such calls).
    d = x.shape[1]
    wx = (w[:, None] * x).ravel()
    columns = np.arange(d)
    for step in range(max_iter):
        if progress is not None:
            progress(step / max_iter)
        assign, inertia = _nearest(x, centres, w, xx)
        history.append({"centres": centres.copy(), "inertia": inertia})
        counts = np.bincount(assign, weights=w, minlength=k)
        sums = np.bincount((assign[:, None] * d + columns).ravel(), weights=wx,
                           minlength=k * d).reshape(k, d)
        # An empty cluster keeps its centre.
        new = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1e-300)[:, None], centres)
        shift = float(((new - centres) ** 2).sum())
        centres = new
        if shift <= threshold:
            break
    assign, inertia = _nearest(x, centres, w, xx)
    return centres, assign, inertia, history


#: Past this many distinct colours, k-means and EM first fit colour bins (see :func:`bin_rows`).
FIT_ROWS = 5_000


def bin_rows(x: np.ndarray, weights: np.ndarray, *, levels: int = 32,
             scatter: np.ndarray | None = None):
    """Rows of ``x`` grouped into a grid of ``levels`` cells per feature, with what
    fitting needs of each cell: ``(means, counts, scatter, group)``. Rows that are
    bins themselves bring their own ``scatter``, added to their cell's.

    A photo can have a million distinct colours; k-means and EM over the few
    thousand occupied cells of a 32-level grid, each standing for its pixels by
    their count, mean and scatter (sum of outer products about the mean), reach
    the same optimum within a fraction of a percent (tested), and every distinct
    colour is then labelled exactly. ``group`` maps rows to cells.

    Examples
    --------
    >>> x = np.array([[0.0], [0.01], [1.0]])
    >>> means, counts, scatter, group = bin_rows(x, np.array([1.0, 1.0, 2.0]), levels=4)
    >>> means.ravel().tolist(), counts.tolist(), group.tolist()
    ([0.005, 1.0], [2.0, 2.0], [0, 0, 1])
    """
    d = x.shape[1]
    lo = x.min(0)
    span = np.maximum(x.max(0) - lo, 1e-12)
    cell = np.minimum(((x - lo) / span * levels).astype(np.int64), levels - 1)
    code = np.ravel_multi_index(tuple(cell.T), (levels,) * d)
    mass = np.bincount(code, weights=weights, minlength=levels ** d)
    present = np.flatnonzero(mass)
    lut = np.zeros(levels ** d, np.int64)
    lut[present] = np.arange(len(present))
    group = lut[code]
    counts = mass[present]
    n = len(present)
    sums = np.stack([np.bincount(group, weights=weights * x[:, f], minlength=n) for f in range(d)], 1)
    means = sums / counts[:, None]
    cells = np.empty((n, d, d))
    for i in range(d):
        for j in range(i, d):
            moment = np.bincount(group, weights=weights * x[:, i] * x[:, j], minlength=n)
            cells[:, i, j] = cells[:, j, i] = moment - counts * means[:, i] * means[:, j]
    if scatter is not None:
        for i in range(d):
            for j in range(d):
                cells[:, i, j] += np.bincount(group, weights=scatter[:, i, j], minlength=n)
    diagonal = np.arange(d)  # rounding can leave a tiny negative variance
    cells[:, diagonal, diagonal] = np.maximum(cells[:, diagonal, diagonal], 0)
    return means, counts, cells, group


def _check_colours(x: np.ndarray, k: int, *, distinct_rows: bool, columns: int) -> None:
    # Distinct colours in rgb, lab or hsv are distinct rows (each space is one-to-one);
    # gray values, or a subset of pixels with positions, may repeat.
    if distinct_rows or len(x) < k:
        distinct = len(x)
    elif columns == 1:  # one column: a plain sort, not numpy's slow sort of rows
        distinct = len(np.unique(x[:, 0]))
    else:
        distinct = len(np.unique(x[:, :columns], axis=0))
    if distinct < k:
        raise ValueError(f"the image has fewer than {k} distinct colours; lower k")


def kmeans_plusplus(x: np.ndarray, k: int, *, weights: np.ndarray | None = None,
                    random_state: np.random.RandomState) -> np.ndarray:
    """``k`` starting centres among the rows of ``x`` by greedy k-means++: the first
    drawn with probability proportional to its weight, each next one the best (least
    weighted squared distance to the nearest centre) of ``2 + log k`` rows drawn with
    probability proportional to that distance.

    scikit-learn's ``kmeans_plusplus``, step for step (the same draws from
    ``random_state`` and the same float64 operations, so the same centres: tested),
    without importing scikit-learn: its import takes 1.2-2 s (``scipy.stats`` and
    pandas come with it), which a fresh server paid at the first k-means or GMM.

    Examples
    --------
    >>> x = np.array([[1.0, 2], [1, 4], [1, 0], [10, 2], [10, 4], [10, 0]])
    >>> kmeans_plusplus(x, 2, random_state=np.random.RandomState(0)).tolist()
    [[10.0, 2.0], [1.0, 0.0]]
    """
    n = len(x)
    weights = np.ones(n) if weights is None else np.asarray(weights, np.float64)
    norms = np.einsum("ij,ij->i", x, x)

    def squared_to(rows):  # scikit-learn's _euclidean_distances for float64 rows
        found = -2 * (rows @ x.T)
        found += np.einsum("ij,ij->i", rows, rows)[:, None]
        found += norms.reshape(1, -1)
        return np.maximum(found, 0, out=found)

    trials = 2 + int(np.log(k))
    centres = np.empty((k, x.shape[1]), x.dtype)
    centres[0] = x[random_state.choice(n, p=weights / weights.sum())]
    closest = squared_to(centres[0, np.newaxis])
    potential = closest @ weights
    for c in range(1, k):
        draws = random_state.uniform(size=trials) * potential
        candidates = np.searchsorted(np.cumsum(weights * closest), draws)
        np.clip(candidates, None, closest.size - 1, out=candidates)
        distances = squared_to(x[candidates])
        np.minimum(closest, distances, out=distances)
        potentials = distances @ weights.reshape(-1, 1)
        best = np.argmin(potentials)
        potential = potentials[best]
        closest = distances[best]
        centres[c] = x[candidates[best]]
    return centres


def best_lloyd(x: np.ndarray, weights: np.ndarray, k: int, *, rng: int, max_iter: int = 100,
               progress=None):
    """Lloyd's iterations from several k-means++ starts, keeping the one of least
    inertia: ten starts on up to a thousand rows (a gray histogram), three past
    that (a colour table's bins). Returns its centres and history.

    With one start, k-means can stop in a poor local optimum (on a gray histogram
    it often merges two clear peaks); more starts on the few rows of a colour table
    cost milliseconds.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [0.45], [0.9], [1.0]])
    >>> centres, history = best_lloyd(x, np.ones(5), 2, rng=0)
    >>> sorted(centres.ravel().round(2).tolist())
    [0.18, 0.95]
    """
    starts = np.random.RandomState(rng)
    best = None
    n = 10 if len(x) <= 1000 else 3
    for start in range(n):
        init = kmeans_plusplus(x, k, weights=weights, random_state=starts)
        report = None if progress is None else (lambda f, s=start: progress((s + f) / n))
        centres, _, inertia, history = lloyd(x, init, max_iter=max_iter, weights=weights,
                                             progress=report)
        if best is None or inertia < best[0]:
            best = (inertia, centres, history)
    return best[1], best[2]


class _phases:
    """``progress`` told how far a run is, by phases: ``report(f)`` says ``f`` of the
    run is done; ``report.between(a, b)`` is a callback mapping a phase's own 0..1
    onto ``a..b``. Without ``progress`` every report does nothing."""

    def __init__(self, progress):
        self.progress = progress

    def __call__(self, fraction: float) -> None:
        if self.progress is not None:
            self.progress(fraction)

    def between(self, low: float, high: float):
        if self.progress is None:
            return None
        return lambda f: self.progress(low + (high - low) * f)


def _points(image: np.ndarray, space: str, xy_weight: float, rng: int):
    """What k-means fits: ``(x, weights, colours)``. By colour alone, the rows of
    the image's colour :func:`table` with their pixel counts (``colours`` is the
    table); with position, a random subset of pixels, each weight 1 (``colours``
    is None)."""
    if xy_weight > 0:
        x = pixel_features(image, space, xy_weight)
        x = x[_fit_subset(len(x), rng)]
        return x, np.ones(len(x)), None
    colours = table(image, space)
    return colours.features, colours.counts, colours


@register("kmeans", label="K-means clustering", offers=("centres", "history"), params=(
    K, SPACE,
    Param("xy_weight", "float", 0.0, label="Weight of position", low=0.0, high=2.0, step=0.05,
          help="How much a pixel's place counts beside its colour: higher keeps clusters "
               "spatially compact, 0 ignores where pixels are."),
    MAX_ITER, RNG,
))
def kmeans(image, *, k, space, xy_weight, max_iter, rng, progress=None):
    """Group pixels into ``k`` clusters of similar colour (Lloyd's k-means, k-means++ start).

    Labels ``1..k`` are ordered by the mean intensity of their pixels.
    By colour alone, Lloyd's iterations run on the distinct colours weighted by
    their pixel counts (see :func:`colour_table`): the same optimisation as on
    every pixel; past :data:`BIN_PIXELS` pixels on fine colour bins
    (:func:`colour_bins`), each pixel labelled by its bin. With ``xy_weight`` a random subset of pixels is fitted.
    ``extras``: ``centres`` (k, F) in feature space, ``inertia`` (over all
    pixels), ``history`` (centres and inertia of the fitted points at every
    iteration), ``n_iter``.

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> img = np.zeros((8, 8, 1), np.float32); img[:, 4:] = 1
    >>> kmeans(img, k=2).labels[0]
    array([1, 1, 1, 1, 2, 2, 2, 2], dtype=int32)
    """
    h, w = image.shape[:2]
    report = _phases(progress)
    x, weights, colours = _points(image, space, xy_weight, rng)
    report(0.3)  # the colour table is about a third of a large image's run
    columns = x.shape[1] - (2 if xy_weight > 0 else 0)
    _check_colours(x, k, distinct_rows=colours is not None and columns > 1, columns=columns)
    fit_x, fit_w, _ = colours.fit_rows() if colours is not None else (x, weights, None)
    centres, history = best_lloyd(fit_x, fit_w, k, rng=rng, max_iter=max_iter,
                                  progress=report.between(0.3, 0.7))
    report(0.7)
    if colours is not None:  # every row of the colour table to its nearest centre
        assign, inertia = _nearest(x, centres, weights)
        gray = colours.gray
    else:  # fitted on a subset: label every pixel by its nearest centre
        weights = np.ones(h * w)
        chunks = [_nearest(chunk, centres) for chunk in np.array_split(
            pixel_features(image, space, xy_weight), max(1, h * w // 250_000))]
        assign = np.concatenate([a for a, _ in chunks])
        inertia = sum(i for _, i in chunks)
        gray = to_gray(image).reshape(-1).astype(np.float64)
    rank, order = _order_by_gray(np.bincount(assign, weights=weights, minlength=k),
                                 np.bincount(assign, weights=weights * gray, minlength=k))
    labels = rank[assign] if colours is None else colours.per_pixel(rank[assign])
    for step in history:
        step["centres"] = step["centres"][order]
    return Segmentation(
        labels=labels.reshape(h, w),
        extras={"centres": centres[order], "inertia": inertia, "history": history,
                "n_iter": len(history), "features": space + ("+xy" if xy_weight > 0 else "")},
    )


@register("gmm", label="Gaussian mixture (EM)", offers=("mixture", "history", "probabilities"),
          params=(
    replace(K, default=4), SPACE,
    Param("covariance_type", "choice", "full", label="Shape of each Gaussian",
          choices=("full", "tied", "diag", "spherical"),
          help="full: any ellipse; tied: one ellipse shared by all; diag: ellipses along the "
               "axes; spherical: circles."),
    MAX_ITER, RNG,
))
def gmm(image, *, k, space, covariance_type, max_iter, rng, progress=None):
    """Fit a mixture of ``k`` Gaussians to pixel colours by expectation-maximisation.

    EM runs on the distinct colours weighted by their pixel counts (see
    :func:`colour_table`): the same fit as on every pixel, from scikit-learn's
    default start (one k-means); past :data:`BIN_PIXELS` pixels on fine colour
    bins (:func:`colour_bins`, 128 levels), each pixel labelled by its bin. ``probabilities`` are the posteriors (H, W, k);
    labels are the most likely component, ``1..k`` ordered by mean intensity.
    ``extras``: ``weights``, ``means``, ``covariances``, ``log_likelihood`` (mean
    per pixel) and ``history`` (those at the start and after every EM step),
    ``converged``, ``n_iter`` (EM steps).

    Parameters
    ----------
    image : (H, W, C) float32 ndarray in [0, 1]

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> img = np.zeros((16, 16, 1), np.float32); img[:, 8:] = 0.8
    >>> img = np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1).astype(np.float32)
    >>> seg = gmm(img, k=2, space="gray")
    >>> seg.probabilities.shape, seg.labels[0, 0], seg.labels[0, -1]
    ((16, 16, 2), np.int32(1), np.int32(2))
    """
    h, w = image.shape[:2]
    report = _phases(progress)
    colours = table(image, space, levels=FINE_BIN_LEVELS, with_scatter=True)
    x, weights = colours.features, colours.counts
    report(0.3)
    _check_colours(x, k, distinct_rows=x.shape[1] > 1, columns=x.shape[1])
    # The start scikit-learn's GaussianMixture takes by default, a k-means fit with each
    # point's component its cluster; here on the distinct colours (or their bins), weighted.
    fit_x, fit_w, scatter = colours.fit_rows()
    centres, _ = best_lloyd(fit_x, fit_w, k, rng=rng, max_iter=300)
    assign, _ = _nearest(fit_x, centres)
    resp = np.zeros((len(fit_x), k))
    resp[np.arange(len(fit_x)), assign] = 1
    fit = em(fit_x, fit_w, resp, covariance_type=covariance_type, max_iter=max_iter,
             scatter=scatter, progress=report.between(0.3, 0.7))
    report(0.7)
    final = fit["history"][-1]
    ll, resp = posteriors(x, weights, (final["weights"], final["means"], final["covariances"]),
                          covariance_type)
    mass = resp * weights[:, None]
    _, order = _order_by_gray(mass.sum(0), colours.gray @ mass)
    resp = resp[:, order].astype(np.float32)
    # Labels and probabilities of each row, then of every pixel through its row.
    labels = colours.per_pixel((resp.argmax(1) + 1).astype(np.int32))
    probs = colours.per_pixel(resp)
    history = [_ordered(step, order, covariance_type) for step in fit["history"]]
    return Segmentation(
        labels=labels.reshape(h, w),
        probabilities=probs.reshape(h, w, k),
        extras={**{key: history[-1][key] for key in ("weights", "means", "covariances")},
                "log_likelihood": ll, "history": history,
                "converged": fit["converged"], "n_iter": len(history) - 1, "features": space},
    )


def _ordered(step: dict, order: np.ndarray, covariance_type: str) -> dict:
    out = dict(step, weights=step["weights"][order], means=step["means"][order])
    if covariance_type != "tied":
        out["covariances"] = step["covariances"][order]
    return out


#: Added to the covariances' diagonals so that no Gaussian collapses onto one colour
#: (scikit-learn's default).
REG_COVAR = 1e-6
#: EM stops when the mean log-likelihood per pixel changes by less than this (as sklearn).
EM_TOL = 1e-3


def _estimate(x, w, resp, covariance_type, scatter=None):
    """The M-step: weights, means and covariances from responsibilities, each row of
    ``x`` counting ``w`` times (scikit-learn's estimators, weighted); a bin's
    ``scatter`` about its mean adds to the covariance of the components it feeds."""
    r = resp * w[:, None]
    nk = r.sum(0) + 10 * np.finfo(np.float64).eps
    means = r.T @ x / nk[:, None]
    d = x.shape[1]
    within = 0 if scatter is None else (resp.T @ scatter.reshape(len(x), d * d)).reshape(-1, d, d)
    if covariance_type == "full":
        # Every component's weighted sum of x x' at once, from the rows' monomials
        # x_i x_j (i <= j), then minus the mean's outer product: scikit-learn's
        # sum of r (x - m)(x - m)' over the same rows, expanded (one product for all
        # components instead of one per component: 1.6 -> 0.3 ms an EM step on 5
        # thousand colour cells). Features lie in [0, 1], so the subtraction loses
        # about 1e-13 of a variance of 1e-4; REG_COVAR keeps every matrix positive.
        first, second = np.triu_indices(d)
        moments = r.T @ _products(x)
        covs = np.empty((len(nk), d, d))
        covs[:, first, second] = moments
        covs[:, second, first] = moments
        if scatter is not None:
            covs += within
        covs /= nk[:, None, None]
        covs -= means[:, :, None] * means[:, None, :]
        covs += REG_COVAR * np.eye(d)
    elif covariance_type == "tied":
        spread = x.T @ (w[:, None] * x) - (nk * means.T) @ means
        if scatter is not None:
            spread = spread + scatter.sum(0)
        covs = spread / nk.sum() + REG_COVAR * np.eye(d)
    else:
        second = r.T @ (x * x)
        if scatter is not None:
            second = second + np.diagonal(within, axis1=1, axis2=2)
        covs = second / nk[:, None] - means ** 2 + REG_COVAR
        if covariance_type == "spherical":
            covs = covs.mean(1)
    return nk / nk.sum(), means, covs


def _products(x: np.ndarray) -> np.ndarray:
    """``(n, d(d+1)/2)``: every row's products of two features, ``x_i x_j`` for
    ``i <= j`` in the order of ``np.triu_indices(d)`` (the monomials of EM's
    quadratic forms)."""
    first, second = np.triu_indices(x.shape[1])
    return x[:, first] * x[:, second]


def _log_densities(x, means, covs, covariance_type):
    """``(n, k)`` log of each Gaussian's density at every row of ``x``."""
    n, d = x.shape
    if covariance_type in ("full", "tied"):
        # (x - m)' P (x - m) with P each covariance's inverse is a quadratic in x:
        # sum over i <= j of c_ij x_i x_j, plus b' x, plus a constant. So every row's
        # density under every component is one product of the rows' monomials
        # (x_i x_j, x_i, 1) with a (monomials x k) matrix of coefficients, instead of
        # k whitened copies of the rows (178 thousand colours, k = 9: 98 -> 25 ms).
        # In float64 the expansion loses nothing that matters: its terms are at most
        # |P| |x|^2 (colour features lie in [0, 1]; P at most 1 / REG_COVAR), so the
        # rounding is below 1e-9 of a log density.
        chol = np.linalg.cholesky(np.broadcast_to(covs, (len(means), d, d)))
        inverse = np.linalg.inv(chol)
        precision = inverse.transpose(0, 2, 1) @ inverse
        first, second = np.triu_indices(d)
        quadratic = -0.5 * precision[:, first, second] * np.where(first == second, 1.0, 2.0)
        linear = (precision @ means[:, :, None])[:, :, 0]
        constant = (-0.5 * (means * linear).sum(1)
                    - np.log(np.diagonal(chol, axis1=1, axis2=2)).sum(1) - 0.5 * d * np.log(2 * np.pi))
        out = _products(x) @ quadratic.T
        out += x @ linear.T
        out += constant
        return out
    out = np.empty((n, len(means)))
    for j, mean in enumerate(means):
        var = np.broadcast_to(covs[j], (d,))
        out[:, j] = -0.5 * (((x - mean) ** 2) / var).sum(1) - 0.5 * np.log(var).sum()
    return out - 0.5 * d * np.log(2 * np.pi)


def posteriors(x: np.ndarray, weights: np.ndarray, params: tuple, covariance_type: str):
    """The E-step: the mean log-likelihood per point (rows counting ``weights``
    times) under ``params = (weights, means, covariances)``, and each row's
    posterior probability of each component.

    Examples
    --------
    >>> ll, resp = posteriors(np.array([[0.0], [1.0]]), np.ones(2),
    ...                       (np.array([0.5, 0.5]), np.array([[0.0], [1.0]]),
    ...                        np.array([[[0.01]], [[0.01]]])), "full")
    >>> resp.round(3).tolist()
    [[1.0, 0.0], [0.0, 1.0]]
    """
    share = np.empty((len(x), len(params[0])))
    norm = np.empty(len(x))

    def rows_of(rows):  # a block of rows on each core for a large table
        log_p = _log_densities(x[rows], params[1], params[2], covariance_type)
        log_p += np.log(params[0])
        top = log_p.max(1)
        # In place, and one exp: exp(log_p - top) divided by its row sum is
        # exp(log_p - norm) (a second exp of every entry cost 15 ms at 178 thousand
        # colours and k = 9).
        log_p -= top[:, None]
        np.exp(log_p, out=log_p)
        total = log_p.sum(1)
        norm[rows] = top + np.log(total)
        log_p /= total[:, None]
        share[rows] = log_p

    _parallel.run(rows_of, len(x), len(params[0]))
    return float(weights @ norm / weights.sum()), share


def em(x: np.ndarray, weights: np.ndarray, resp: np.ndarray, *, covariance_type: str = "full",
       max_iter: int = 100, tol: float = EM_TOL, scatter: np.ndarray | None = None,
       progress=None) -> dict:
    """Expectation-maximisation for a Gaussian mixture, each row of ``x`` counting
    ``weights`` times: the same iterations as scikit-learn's ``GaussianMixture`` on
    all the points, from the start the responsibilities ``resp`` give.

    With ``scatter`` (from :func:`bin_rows`) the rows are bins and each bin's spread
    about its mean counts in the covariances. Returns ``{"resp", "history",
    "converged"}``: the final responsibilities, and the weights, means,
    covariances and mean log-likelihood per point of the start and after every step.

    Examples
    --------
    >>> x = np.array([[0.0], [0.1], [1.0], [1.1]])
    >>> fit = em(x, np.ones(4), np.array([[1, 0], [1, 0], [0, 1], [0, 1]], float))
    >>> fit["history"][-1]["means"].ravel().round(2).tolist(), fit["converged"]
    ([0.05, 1.05], True)
    """
    w = np.asarray(weights, np.float64)

    def e_step(params):
        return posteriors(x, w, params, covariance_type)

    params = _estimate(x, w, resp, covariance_type, scatter)
    ll, resp = e_step(params)
    history = [dict(zip(("weights", "means", "covariances"), params), log_likelihood=ll)]
    converged = False
    for step in range(max_iter):
        if progress is not None:
            progress(step / max_iter)
        params = _estimate(x, w, resp, covariance_type, scatter)
        previous, (ll, resp) = ll, e_step(params)
        history.append(dict(zip(("weights", "means", "covariances"), params), log_likelihood=ll))
        if abs(ll - previous) < tol:
            converged = True
            break
    return {"resp": resp, "history": history, "converged": converged}
