"""Scores that compare a segmentation with a reference.

Every function takes label images: integer (or bool) arrays of the same shape,
normally ``(H, W)``. The segmentation under test comes first (``pred`` or
``seg``), the reference second (``truth`` or ``truths``), and every score is
computed from one contingency table built with :func:`numpy.bincount`, in
``int64`` counts and ``float64`` ratios, so megapixel images stay exact and fast.

Four families:

- class scores for semantic labels: :func:`confusion_matrix`, :func:`score`
  (IoU, Dice, precision, recall, pixel accuracy; optional Hungarian matching of
  unsupervised labels to classes), :func:`binary_scores`;
- :func:`boundary_f1`, boundary precision and recall within a pixel tolerance;
- partition comparisons that ignore label names: :func:`rand_index`,
  :func:`adjusted_rand_index`, :func:`adapted_rand_error`,
  :func:`variation_of_information`, and the BSDS500 region benchmark against
  several human truths: :func:`covering`, :func:`probabilistic_rand_index`,
  :func:`bsds_vi`;
- instance scores for label images whose ids are objects and ``0`` is
  background: :func:`match_instances`, :func:`average_precision`,
  :func:`panoptic_quality`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np


def linear_sum_assignment(weight: np.ndarray, maximize: bool = False):
    """:func:`scipy.optimize.linear_sum_assignment`, imported when first needed:
    ``scipy.optimize`` takes 0.15 s to import, a sixth of the app's first page.

    Examples
    --------
    >>> [a.tolist() for a in linear_sum_assignment(np.eye(2), maximize=True)]
    [[0, 1], [0, 1]]
    """
    from scipy.optimize import linear_sum_assignment as solve

    return solve(weight, maximize=maximize)

__all__ = [
    "confusion_matrix",
    "score",
    "evaluate",
    "error_kinds",
    "ERROR_KINDS",
    "apply_mapping",
    "match_labels",
    "bsds_measures",
    "binary_scores",
    "boundary_f1",
    "rand_index",
    "adjusted_rand_index",
    "adapted_rand_error",
    "variation_of_information",
    "covering",
    "probabilistic_rand_index",
    "bsds_vi",
    "match_instances",
    "average_precision",
    "panoptic_quality",
]

#: How predicted labels are matched to truth classes before scoring (see :func:`score`).
MATCHES = ("hungarian", "majority", "none")

# Above this many cells a dense contingency table costs more memory than
# sorting the pixel pairs; below it bincount is several times faster.
_DENSE_CELLS = 1 << 22


# --------------------------------------------------------------------------
# validation and counting
# --------------------------------------------------------------------------


def _as_labels(labels, name: str) -> np.ndarray:
    arr = np.asarray(labels)
    if arr.dtype != bool and not np.issubdtype(arr.dtype, np.integer):
        raise ValueError(
            f"{name} must be an integer or bool label image, got dtype {arr.dtype}"
        )
    if arr.ndim == 0 or arr.size == 0:
        raise ValueError(f"{name} must be a non-empty label image, got shape {arr.shape}")
    return arr.astype(np.int64, copy=False)


def _check_pair(pred, truth, names=("pred", "truth")) -> tuple[np.ndarray, np.ndarray]:
    pred = _as_labels(pred, names[0])
    truth = _as_labels(truth, names[1])
    if pred.shape != truth.shape:
        raise ValueError(
            f"{names[0]} and {names[1]} must have the same shape, got "
            f"{names[0]} {pred.shape} and {names[1]} {truth.shape}"
        )
    return pred, truth


def _check_truths(seg, truths) -> tuple[np.ndarray, list[np.ndarray]]:
    seg = _as_labels(seg, "seg")
    if isinstance(truths, np.ndarray) and truths.ndim == seg.ndim:
        raise ValueError(
            f"truths must be a list of label images (or a stack of shape (n,) + "
            f"{seg.shape}), got one array of shape {truths.shape}; wrap a single "
            "truth in a list"
        )
    truths = list(truths)
    if not truths:
        raise ValueError("truths must hold at least one label image, got none")
    checked = [
        _check_pair(seg, truth, ("seg", f"truths[{k}]"))[1] for k, truth in enumerate(truths)
    ]
    return seg, checked


def _small_range(values: np.ndarray) -> tuple[int, int] | None:
    """(min, max) when a lookup table over the value range is cheap, else None."""
    lo, hi = int(values.min()), int(values.max())
    return (lo, hi) if hi - lo < max(values.size, 1 << 16) else None


def _unique(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values of a 1-D int64 array, by counting when possible."""
    span = _small_range(values)
    if span is None:
        return np.unique(values)
    lo, hi = span
    return np.flatnonzero(np.bincount(values - lo, minlength=hi - lo + 1)) + lo


def _encode(values: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """Position of each value in sorted ``classes``; ``len(classes)`` if absent."""
    k = classes.size
    if k == 0:
        return np.zeros(values.shape, np.int64)
    span = _small_range(values)
    if span is not None:
        lo, hi = span
        lut = np.full(hi - lo + 1, k, dtype=np.int64)
        inside = (classes >= lo) & (classes <= hi)
        lut[classes[inside] - lo] = np.flatnonzero(inside)
        return lut[values - lo]
    pos = np.minimum(np.searchsorted(classes, values), k - 1)
    return np.where(classes[pos] == values, pos, k)


class _Table(NamedTuple):
    """Sparse contingency table of two flat label arrays ``a`` and ``b``."""

    a_classes: np.ndarray  # (Ka,) sorted labels of a
    b_classes: np.ndarray  # (Kb,)
    i: np.ndarray  # (M,) row (a) index of each non-empty cell
    j: np.ndarray  # (M,) column (b) index
    n: np.ndarray  # (M,) int64 pixel count of the cell
    a_sizes: np.ndarray  # (Ka,) int64 pixels per a label
    b_sizes: np.ndarray  # (Kb,)
    a_index: np.ndarray  # (N,) row index of every pixel


def _contingency(a: np.ndarray, b: np.ndarray) -> _Table:
    a, b = a.ravel(), b.ravel()
    a_classes, b_classes = _unique(a), _unique(b)
    ai, bj = _encode(a, a_classes), _encode(b, b_classes)
    ka, kb = a_classes.size, b_classes.size
    flat = ai * kb + bj
    if ka * kb <= max(a.size, _DENSE_CELLS):
        counts = np.bincount(flat, minlength=ka * kb)
        cells = np.flatnonzero(counts)
        n = counts[cells]
    else:
        cells, n = np.unique(flat, return_counts=True)
    i, j = np.divmod(cells, kb)
    return _Table(
        a_classes,
        b_classes,
        i,
        j,
        n.astype(np.int64),
        np.bincount(ai, minlength=ka).astype(np.int64),
        np.bincount(bj, minlength=kb).astype(np.int64),
        ai,
    )


def _sum_squares(counts: np.ndarray) -> int:
    # Python ints: sums of squared counts reach N**2, past float64's exact range.
    return int(np.dot(counts, counts))


def _ratio(num: float, den: float, *, empty: float = 0.0) -> float:
    return float(num / den) if den else empty


def _drop(pred: np.ndarray, truth: np.ndarray, ignore) -> tuple[np.ndarray, np.ndarray]:
    pred, truth = pred.ravel(), truth.ravel()
    if ignore is None:
        return pred, truth
    keep = truth != ignore
    if not keep.any():
        raise ValueError(
            f"every truth pixel has the ignored value {ignore}; nothing is left to score"
        )
    return pred[keep], truth[keep]


# --------------------------------------------------------------------------
# class scores
# --------------------------------------------------------------------------


def confusion_matrix(pred, truth, *, labels=None) -> np.ndarray:
    """Count pixels by (true class, predicted class).

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        Predicted labels.
    truth : (H, W) int or bool ndarray
        Reference labels, same shape as `pred`.
    labels : sequence of int, optional
        The classes, in the order of the rows and columns. Pixels whose true
        or predicted label is not among them are not counted. Default: every
        value found in `truth` or `pred`, sorted.

    Returns
    -------
    confusion : (K, K) int64 ndarray
        ``confusion[r, c]`` is the number of pixels of true class
        ``labels[r]`` predicted as ``labels[c]``: rows are truth, columns are
        prediction, as ``sklearn.metrics.confusion_matrix(truth, pred)``.

    Raises
    ------
    ValueError
        If the shapes differ, a label image is not integer or bool, or
        `labels` is empty, not integer or has repeats.

    Examples
    --------
    >>> truth = np.array([[1, 1], [2, 2]])
    >>> pred = np.array([[1, 2], [2, 2]])
    >>> confusion_matrix(pred, truth)
    array([[1, 1],
           [0, 2]])
    """
    pred, truth = _check_pair(pred, truth)
    pred, truth = pred.ravel(), truth.ravel()
    if labels is None:
        classes = np.union1d(_unique(truth), _unique(pred))
        return _confusion(pred, truth, classes)[:-1, :-1]
    classes = np.asarray(labels)
    if classes.ndim != 1 or classes.size == 0 or not np.issubdtype(classes.dtype, np.integer):
        raise ValueError(f"labels must be a non-empty 1-D sequence of ints, got {labels!r}")
    order = np.argsort(classes, kind="stable")
    ordered = classes[order].astype(np.int64)
    if np.any(ordered[1:] == ordered[:-1]):
        raise ValueError(f"labels must not repeat, got {labels!r}")
    # Counted in sorted order, then rows and columns put back in the caller's order.
    full = _confusion(pred, truth, ordered)[:-1, :-1]
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return full[np.ix_(back, back)]


def _confusion(pred: np.ndarray, truth: np.ndarray, classes: np.ndarray) -> np.ndarray:
    """(K + 1, K + 1) counts; the last row and column gather labels outside ``classes``."""
    k = classes.size + 1
    flat = _encode(truth, classes) * k + _encode(pred, classes)
    return np.bincount(flat, minlength=k * k).reshape(k, k).astype(np.int64)


def score(pred, truth, *, match: str = "hungarian", ignore: int | None = None) -> dict:
    """Per-class and mean IoU, Dice, precision and recall, and pixel accuracy.

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        Predicted labels. With ``match="hungarian"`` these may be arbitrary
        cluster ids (k-means, superpixels, ...).
    truth : (H, W) int or bool ndarray
        Reference labels, same shape as `pred`.
    match : {"hungarian", "majority", "none"}
        ``"none"`` compares label values as they are. ``"hungarian"`` (the
        default, since most methods number their regions arbitrarily) first
        renames each predicted label to the truth class it is paired with by
        :func:`scipy.optimize.linear_sum_assignment`, which pairs predicted
        labels and truth classes one to one so that the total overlap (pixels
        in common) is largest. Predicted labels left without a partner, or
        paired with a class they do not overlap, become an "unmatched" id:
        ``-1``, or one less than the smallest truth class when ``-1`` is a
        truth class. Their pixels count as wrong. ``"majority"`` renames every
        predicted label to the truth class it overlaps most (many to one), the
        usual way to score an over-segmentation such as superpixels: it shows
        how well the regions' borders could follow the truth, not whether the
        method found one region per class.
    ignore : int, optional
        A truth value whose pixels are left out of every count (for example
        ``0``, unlabelled). Predictions of this value on other pixels still
        count as wrong, but it is never a class of its own.

    Returns
    -------
    scores : dict
        ``classes``
            The K scored classes, sorted: every label that occurs in `truth`
            or (after matching) in `pred`, without `ignore`. With
            ``match="hungarian"`` this is the truth classes only, because the
            unmatched id is not a class.
        ``iou``, ``dice``, ``precision``, ``recall`` : float
            Unweighted means over ``classes`` of the per-class values
            ``TP / (TP + FP + FN)``, ``2 TP / (2 TP + FP + FN)``,
            ``TP / (TP + FP)`` and ``TP / (TP + FN)``, where a ratio with a
            zero denominator (a class never predicted, or never true) is 0.
            These equal scikit-learn's ``jaccard_score``, ``f1_score``,
            ``precision_score`` and ``recall_score`` with
            ``average="macro"``, ``labels=classes`` and ``zero_division=0``.
        ``accuracy`` : float
            Fraction of scored pixels whose (matched) prediction equals truth.
        ``per_class`` : dict
            ``{class: {"iou", "dice", "precision", "recall", "support"}}``,
            support being the number of true pixels of the class.
        ``confusion`` : (K, K) int64 ndarray
            :func:`confusion_matrix` over ``classes`` (rows truth), after
            matching and ignoring.
        ``mapping`` : dict or None
            ``{pred_label: truth_class or unmatched id}`` for every predicted
            label, with ``match="hungarian"`` or ``"majority"``; ``None`` otherwise.

    Raises
    ------
    ValueError
        If the shapes differ, `match` is unknown, or every truth pixel has the
        `ignore` value.

    Examples
    --------
    A prediction with the right regions but other names scores 1 once matched:

    >>> truth = np.array([[1, 1, 2, 2], [1, 1, 2, 2]])
    >>> pred = np.array([[7, 7, 3, 3], [7, 7, 3, 3]])
    >>> score(pred, truth, match="none")["iou"]
    0.0
    >>> result = score(pred, truth)
    >>> result["iou"], result["mapping"]
    (1.0, {3: 2, 7: 1})
    >>> over = np.array([[7, 8, 3, 3], [7, 8, 3, 3]])  # one class split in two
    >>> score(over, truth, match="hungarian")["iou"], score(over, truth, match="majority")["iou"]
    (0.75, 1.0)
    >>> score(np.array([1, 1, 2, 2]), np.array([1, 2, 2, 2]), match="none")["per_class"][2]["recall"]
    0.666...
    """
    if match not in MATCHES:
        raise ValueError(f"match must be one of {MATCHES}, got {match!r}")
    pred, truth = _check_pair(pred, truth)
    pred, truth = _drop(pred, truth, ignore)
    mapping = None
    if match == "hungarian":
        pred, mapping = _hungarian(pred, truth)
        classes = _unique(truth)
    elif match == "majority":
        pred, mapping = _majority(pred, truth)
        classes = _unique(truth)
    else:
        classes = np.union1d(_unique(truth), _unique(pred))
    if ignore is not None:
        classes = classes[classes != ignore]

    full = _confusion(pred, truth, classes)
    k = classes.size
    tp = np.diag(full)[:k].astype(np.float64)
    support = full[:k].sum(axis=1)
    predicted = full[:, :k].sum(axis=0)
    fp = predicted - tp
    fn = support - tp
    with np.errstate(divide="ignore", invalid="ignore"):
        per = {
            # Every class occurs in truth or pred, so these denominators are > 0.
            "iou": tp / (tp + fp + fn),
            "dice": 2 * tp / (2 * tp + fp + fn),
            "precision": np.where(predicted > 0, tp / np.maximum(predicted, 1), 0.0),
            "recall": np.where(support > 0, tp / np.maximum(support, 1), 0.0),
        }
    per_class = {
        int(c): {**{name: float(v[r]) for name, v in per.items()}, "support": int(support[r])}
        for r, c in enumerate(classes)
    }
    return {
        **{name: float(v.mean()) for name, v in per.items()},
        "accuracy": float(np.mean(pred == truth)),
        "per_class": per_class,
        "confusion": full[:k, :k],
        "classes": [int(c) for c in classes],
        "mapping": mapping,
    }


def _hungarian(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, dict]:
    """Rename predicted labels to the truth classes of largest total overlap."""
    table = _contingency(pred, truth)
    overlap = np.zeros((table.a_classes.size, table.b_classes.size), np.int64)
    overlap[table.i, table.j] = table.n
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    real = overlap[rows, cols] > 0
    truth_classes = table.b_classes
    unmatched = -1 if -1 not in truth_classes else int(truth_classes.min()) - 1
    lut = np.full(table.a_classes.size, unmatched, np.int64)
    lut[rows[real]] = truth_classes[cols[real]]
    mapping = {int(p): int(t) for p, t in zip(table.a_classes, lut)}
    return lut[table.a_index], mapping


def _majority(pred: np.ndarray, truth: np.ndarray) -> tuple[np.ndarray, dict]:
    """Rename every predicted label to the truth class it overlaps most."""
    table = _contingency(pred, truth)
    overlap = np.zeros((table.a_classes.size, table.b_classes.size), np.int64)
    overlap[table.i, table.j] = table.n
    lut = table.b_classes[overlap.argmax(axis=1)].astype(np.int64)
    mapping = {int(p): int(t) for p, t in zip(table.a_classes, lut)}
    return lut[table.a_index], mapping


def match_labels(labels, reference) -> np.ndarray:
    """``labels`` renumbered to agree with ``reference``: each region takes the number
    of the reference region it is paired with (Hungarian matching on pixel overlap, as
    :func:`score` pairs labels with classes), and regions left unpaired take new
    numbers above every reference number, in their own order. Two results drawn with
    the same colours per number then show the same object in the same colour.

    Parameters
    ----------
    labels, reference : (H, W) int arrays of the same shape
        Label ``0`` (unlabelled) stays ``0`` and is never paired.

    Returns
    -------
    (H, W) int32 ndarray

    Examples
    --------
    >>> ref = np.array([[1, 1, 2, 2, 3]])
    >>> match_labels(np.array([[5, 5, 7, 7, 9]]), ref).tolist()
    [[1, 1, 2, 2, 3]]
    >>> match_labels(np.array([[2, 2, 1, 1, 4]]), np.array([[1, 1, 2, 2, 2]])).tolist()
    [[1, 1, 2, 2, 3]]
    """
    labels, reference = _check_pair(labels, reference, names=("labels", "reference"))
    table = _contingency(labels, reference)
    overlap = np.zeros((table.a_classes.size, table.b_classes.size), np.int64)
    overlap[table.i, table.j] = table.n
    overlap[table.a_classes == 0, :] = 0  # unlabelled pixels pair with nothing
    overlap[:, table.b_classes == 0] = 0
    rows, cols = linear_sum_assignment(overlap, maximize=True)
    real = overlap[rows, cols] > 0
    lut = np.zeros(table.a_classes.size, np.int64)
    lut[rows[real]] = table.b_classes[cols[real]]
    left = np.flatnonzero((lut == 0) & (table.a_classes != 0))
    top = max(int(table.b_classes.max(initial=0)), 0)
    lut[left] = top + 1 + np.arange(left.size)
    return lut[table.a_index].reshape(labels.shape).astype(np.int32)


def apply_mapping(labels, mapping: dict | None, *, missing: int = -1) -> np.ndarray:
    """Rename labels by a ``{label: class}`` mapping, as :func:`score` returns it;
    labels the mapping does not name become ``missing``.

    Examples
    --------
    >>> apply_mapping(np.array([[7, 3, 5]]), {3: 2, 7: 1}).tolist()
    [[1, 2, -1]]
    """
    labels = np.asarray(labels)
    if not mapping:
        return labels
    keys = np.array(sorted(mapping), dtype=np.int64)
    vals = np.array([mapping[k] for k in keys], dtype=np.int64)
    idx = np.clip(np.searchsorted(keys, labels), 0, len(keys) - 1)
    return np.where(keys[idx] == labels, vals[idx], missing)


#: The values of :func:`error_kinds`, in order: right background, found, wrongly
#: marked, missed, and another label (another object class, or a label matched to no class).
ERROR_KINDS = ("correct background", "found", "wrongly marked", "missed", "other label")


def error_kinds(pred, truth, *, mapping: dict | None = None, positive=None,
                ignore: int | None = None) -> np.ndarray:
    """Where a (matched) prediction is right and how it is wrong, pixel by pixel.

    Parameters
    ----------
    pred : (H, W) int ndarray
        Predicted labels; renamed by `mapping` first (as :func:`score` returns it).
    truth : (H, W) int ndarray
        Truth classes, same shape.
    mapping : dict, optional
        ``{pred_label: truth_class}``; labels it does not name match no class.
    positive : sequence of int, optional
        The object classes; the others are background. Default: every truth
        class but the smallest.
    ignore : int, optional
        Truth value of unlabelled pixels; they count as correct background.

    Returns
    -------
    kinds : (H, W) uint8 ndarray
        Indices into :data:`ERROR_KINDS`: ``0`` correct background, ``1``
        found (the right object class), ``2`` wrongly marked (an object class
        on background), ``3`` missed (a background class on an object), ``4``
        other label (an object given another object class, or any pixel whose
        label was matched to no class at all).

    Examples
    --------
    >>> truth = np.array([[1, 2, 3, 3, 1]])
    >>> error_kinds(np.array([[2, 2, 1, 2, 1]]), truth, positive=[2, 3]).tolist()
    [[2, 1, 3, 4, 0]]
    >>> error_kinds(np.array([[5, 6, 6, 7, 7]]), truth, mapping={5: 1, 6: 2, 7: -1}).tolist()
    [[0, 1, 4, 4, 4]]
    """
    pred, truth = _check_pair(pred, truth)
    pred = apply_mapping(pred, mapping)
    classes = _unique((truth if ignore is None else truth[truth != ignore]).ravel())
    if positive is None:
        positive = classes[1:]
    positive = np.asarray(list(positive), np.int64)
    p, t = np.isin(pred, positive), np.isin(truth, positive)
    background = np.isin(pred, classes) & ~p
    kinds = np.full(truth.shape, 4, np.uint8)  # what no rule below claims: another label
    kinds[(pred == truth) & ~t] = 0
    kinds[(pred == truth) & t] = 1
    kinds[p & ~t] = 2
    kinds[background & t] = 3
    if ignore is not None:
        kinds[truth == ignore] = 0
    return kinds


def evaluate(pred, truth, *, match: str = "hungarian", ignore: int | None = None,
             tolerance: float = 2) -> dict:
    """Everything the app shows to score one result: :func:`score`, the
    :func:`boundary_f1`, and where the labels that matched no class went.

    Parameters
    ----------
    pred, truth : (H, W) int ndarray
    match : {"hungarian", "majority", "none"}
        As in :func:`score`.
    ignore : int, optional
        Truth value of unlabelled pixels, left out of every measure.
    tolerance : float
        Boundary tolerance in pixels, as in :func:`boundary_f1`.

    Returns
    -------
    report : dict
        What :func:`score` returns, plus ``boundary`` (precision, recall, f1),
        ``unmatched`` (predicted labels that found no class of their own),
        ``unmatched_share`` (the fraction of scored pixels they cover), and
        ``table`` with ``columns``: the confusion matrix over the classes with,
        when some labels matched no class, one more column for their pixels
        (named ``"no class"``).

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]])
    >>> r = evaluate(np.array([[5, 6, 7, 7]]), truth, tolerance=0)
    >>> r["iou"], r["unmatched"], r["columns"], r["table"].tolist()
    (0.75, [6], [1, 2, 'no class'], [[1, 0, 1], [0, 2, 0]])
    """
    result = score(pred, truth, match=match, ignore=ignore)
    pred, truth = _check_pair(pred, truth)
    result["boundary"] = boundary_f1(pred, truth, tolerance=tolerance, ignore=ignore)
    mapping = result["mapping"] or {}
    classes = result["classes"]
    unmatched = sorted(p for p, t in mapping.items() if t not in classes)
    keep = truth != ignore if ignore is not None else np.ones(truth.shape, bool)
    result["unmatched"] = unmatched
    result["unmatched_share"] = float(np.isin(pred[keep], unmatched).mean()) if unmatched else 0.0
    result["table"], result["columns"] = result["confusion"], list(classes)
    if unmatched:
        lost = mapping[unmatched[0]]
        renamed = apply_mapping(pred, mapping)
        result["table"] = confusion_matrix(renamed[keep], truth[keep],
                                           labels=list(classes) + [lost])[:-1]
        result["columns"] = list(classes) + ["no class"]
    return result


def binary_scores(pred, truth, *, positive: int = 1) -> dict:
    """IoU, Dice, precision, recall and accuracy of one foreground class.

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        Predicted labels or mask.
    truth : (H, W) int or bool ndarray
        Reference labels or mask, same shape as `pred`.
    positive : int
        The foreground value (``True`` counts as ``1``). Every other value is
        background.

    Returns
    -------
    scores : dict
        ``iou``, ``dice``, ``precision``, ``recall``, ``accuracy`` (floats)
        and the counts ``tp``, ``fp``, ``fn``, ``tn``. When neither mask has
        a foreground pixel all four ratios are 1 (nothing to find, nothing
        found); otherwise a zero denominator gives 0, as scikit-learn's
        ``zero_division=0``.

    Raises
    ------
    ValueError
        If the shapes differ or a label image is not integer or bool.

    Examples
    --------
    >>> truth = np.array([[0, 1, 1, 1]], bool)
    >>> pred = np.array([[1, 1, 1, 0]], bool)
    >>> s = binary_scores(pred, truth)
    >>> s["iou"], s["dice"], s["accuracy"]
    (0.5, 0.666..., 0.5)
    """
    pred, truth = _check_pair(pred, truth)
    p, t = pred == positive, truth == positive
    tp = int(np.count_nonzero(p & t))
    fp = int(np.count_nonzero(p)) - tp
    fn = int(np.count_nonzero(t)) - tp
    tn = p.size - tp - fp - fn
    empty = 1.0 if tp + fp + fn == 0 else 0.0
    return {
        "iou": _ratio(tp, tp + fp + fn, empty=empty),
        "dice": _ratio(2 * tp, 2 * tp + fp + fn, empty=empty),
        "precision": _ratio(tp, tp + fp, empty=empty),
        "recall": _ratio(tp, tp + fn, empty=empty),
        "accuracy": (tp + tn) / p.size,
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "tn": tn,
    }


# --------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------


def boundary_f1(pred, truth, *, tolerance: float = 2, ignore: int | None = None) -> dict:
    """Precision, recall and F1 of region boundaries within a pixel tolerance.

    Boundaries are :func:`skimage.segmentation.find_boundaries` with
    ``mode="thick"`` and 4-connectivity: every pixel with a 4-neighbour of
    another label. A boundary between two regions is thus two pixels wide,
    one on each side, and it does not depend on which label is 0, so renaming
    labels never changes the score. The image border is not a boundary.

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        Predicted labels.
    truth : (H, W) int or bool ndarray
        Reference labels, same shape as `pred`.
    tolerance : float
        Largest Euclidean distance, in pixels, at which a boundary pixel still
        counts as found. ``0`` asks for the very same pixels.
    ignore : int, optional
        A truth value for unlabelled pixels: boundaries inside them, and the
        border of the unlabelled area itself, are left out on both sides.

    Returns
    -------
    scores : dict
        ``precision``: fraction of `pred` boundary pixels within `tolerance`
        of a `truth` boundary pixel (distances from
        :func:`scipy.ndimage.distance_transform_edt`); ``recall``: the same
        from `truth` to `pred`; ``f1``: their harmonic mean (0 when both are
        0). Unlike the BSDS benchmark, pixels are not matched one to one.
        When neither image has a boundary all three are 1; when only one has,
        all three are 0.

    Raises
    ------
    ValueError
        If the shapes differ or `tolerance` is negative or not finite.

    Examples
    --------
    >>> truth = np.zeros((8, 8), int); truth[:, 4:] = 1
    >>> pred = np.zeros((8, 8), int); pred[:, 5:] = 1
    >>> boundary_f1(pred, truth, tolerance=1)["f1"]
    1.0
    >>> boundary_f1(pred, truth, tolerance=0)["f1"]
    0.5
    """
    # scipy.ndimage and skimage.segmentation load when first needed: importing them
    # with segcore took 0.5 s of the app's first page on a fresh server.
    from scipy import ndimage
    from skimage.segmentation import find_boundaries

    pred, truth = _check_pair(pred, truth)
    if not np.isfinite(tolerance) or tolerance < 0:
        raise ValueError(f"tolerance must be a finite number >= 0, got {tolerance!r}")
    pred_edges = find_boundaries(pred, connectivity=1, mode="thick")
    truth_edges = find_boundaries(truth, connectivity=1, mode="thick")
    if ignore is not None:
        # Unlabelled pixels tell nothing about borders; nor does their own edge.
        left_out = ndimage.binary_dilation(truth == ignore)
        pred_edges &= ~left_out
        truth_edges &= ~left_out
    n_pred, n_truth = int(pred_edges.sum()), int(truth_edges.sum())
    if n_pred == 0 or n_truth == 0:
        same = float(n_pred == n_truth)
        return {"precision": same, "recall": same, "f1": same}
    to_truth = ndimage.distance_transform_edt(~truth_edges)
    to_pred = ndimage.distance_transform_edt(~pred_edges)
    precision = float(np.mean(to_truth[pred_edges] <= tolerance))
    recall = float(np.mean(to_pred[truth_edges] <= tolerance))
    f1 = _ratio(2 * precision * recall, precision + recall)
    return {"precision": precision, "recall": recall, "f1": f1}


# --------------------------------------------------------------------------
# partition comparisons
# --------------------------------------------------------------------------


def _pair_terms(table: _Table) -> tuple[int, int, int, int]:
    """Pixel count and the sums of squared cell, row and column counts."""
    return (
        int(table.a_sizes.sum()),
        _sum_squares(table.n),
        _sum_squares(table.a_sizes),
        _sum_squares(table.b_sizes),
    )


def _rand(table: _Table) -> float:
    n, cells, rows, cols = _pair_terms(table)
    pairs = n * (n - 1) // 2
    # Disagreeing pairs: together in one labelling and apart in the other.
    disagree = (rows + cols) // 2 - cells
    if pairs == 0 or disagree == 0:
        return 1.0
    return (pairs - disagree) / pairs


def rand_index(pred, truth) -> float:
    """Rand index: the fraction of pixel pairs on which two labellings agree.

    A pair agrees when both labellings put its two pixels in the same region,
    or both put them in different regions. Label names do not matter, and
    every value (``0`` included) is a region.

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        A labelling.
    truth : (H, W) int or bool ndarray
        Another, same shape. The index is symmetric.

    Returns
    -------
    ri : float
        In ``[0, 1]``; equals ``sklearn.metrics.rand_score(truth, pred)``,
        including 1 for fewer than two pixels.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> rand_index(np.array([[1, 1, 2, 2]]), np.array([[5, 5, 9, 9]]))
    1.0
    >>> rand_index(np.array([[1, 1, 2, 3]]), np.array([[1, 1, 2, 2]]))
    0.8333...
    """
    pred, truth = _check_pair(pred, truth)
    return _rand(_contingency(pred, truth))


def adjusted_rand_index(pred, truth) -> float:
    """Rand index corrected for chance (Hubert and Arabie, 1985).

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        A labelling.
    truth : (H, W) int or bool ndarray
        Another, same shape. The index is symmetric.

    Returns
    -------
    ari : float
        1 for identical partitions, about 0 for independent ones, negative for
        worse than chance; equals ``sklearn.metrics.adjusted_rand_score``.

    Raises
    ------
    ValueError
        If the shapes differ.

    Examples
    --------
    >>> adjusted_rand_index(np.array([[1, 1, 2, 2]]), np.array([[2, 2, 1, 1]]))
    1.0
    >>> adjusted_rand_index(np.array([[1, 2, 1, 2]]), np.array([[1, 1, 2, 2]]))
    -0.5
    """
    pred, truth = _check_pair(pred, truth)
    n, cells, rows, cols = _pair_terms(_contingency(pred, truth))
    # Ordered pixel pairs, as sklearn.metrics.pair_confusion_matrix counts them.
    both = cells - n
    only_pred = rows - cells
    only_truth = cols - cells
    neither = n * n - only_pred - only_truth - cells
    if only_pred == 0 and only_truth == 0:
        return 1.0
    return 2.0 * (both * neither - only_truth * only_pred) / (
        (both + only_truth) * (only_truth + neither) + (both + only_pred) * (only_pred + neither)
    )


def adapted_rand_error(pred, truth, *, ignore: int | None = 0) -> tuple[float, float, float]:
    """Adapted Rand error of the SNEMI3D challenge (Arganda-Carreras et al. 2015).

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        The segmentation under test.
    truth : (H, W) int or bool ndarray
        The reference, same shape.
    ignore : int or None
        Truth value whose pixels are left out (default ``0``, unlabelled, as
        scikit-image's default ``ignore_labels=(0,)``); ``None`` keeps all.

    Returns
    -------
    error : float
        ``1 - F``, F the harmonic mean of `precision` and `recall`; equal to
        ``skimage.metrics.adapted_rand_error(truth, pred)[0]``.
    precision : float
        Of the pixel pairs that `pred` puts in one region, the fraction that
        `truth` also puts in one region (the Rand merge score: false merges
        lower it).
    recall : float
        Of the pixel pairs that `truth` puts in one region, the fraction that
        `pred` also does (the Rand split score: false splits lower it).

    Raises
    ------
    ValueError
        If the shapes differ or every truth pixel has the `ignore` value.

    Notes
    -----
    scikit-image returns the same three numbers with `precision` and
    `recall` in swapped places (its "precision" divides by the truth pairs;
    scikit-image issue #6485). The error, which is symmetric, is identical.
    A ratio with no pairs to divide by (every pixel its own region) is 1.

    Examples
    --------
    One region over two true ones merges them: recall stays 1, precision drops.

    >>> truth = np.array([[1, 1, 2, 2]])
    >>> error, precision, recall = adapted_rand_error(np.ones((1, 4), int), truth)
    >>> round(error, 4), round(precision, 4), recall
    (0.5, 0.3333, 1.0)
    """
    pred, truth = _check_pair(pred, truth)
    pred, truth = _drop(pred, truth, ignore)
    n, cells, rows, cols = _pair_terms(_contingency(pred, truth))
    both, in_pred, in_truth = cells - n, rows - n, cols - n
    precision = _ratio(both, in_pred, empty=1.0)
    recall = _ratio(both, in_truth, empty=1.0)
    f_score = _ratio(both, (in_pred + in_truth) / 2, empty=1.0)
    return 1.0 - f_score, precision, recall


def _conditional_entropies(table: _Table) -> tuple[float, float]:
    """(H(a | b), H(b | a)) in bits."""
    n = table.a_sizes.sum()
    p = table.n / n
    h_a_given_b = -float(np.sum(p * np.log2(table.n / table.b_sizes[table.j])))
    h_b_given_a = -float(np.sum(p * np.log2(table.n / table.a_sizes[table.i])))
    # -0.0 from identical labellings reads badly in reports.
    return h_a_given_b + 0.0, h_b_given_a + 0.0


def variation_of_information(
    pred, truth, *, ignore: int | None = None
) -> tuple[float, float]:
    """Conditional entropies of the variation of information (Meila 2007).

    Parameters
    ----------
    pred : (H, W) int or bool ndarray
        The segmentation under test.
    truth : (H, W) int or bool ndarray
        The reference, same shape.
    ignore : int, optional
        Truth value whose pixels are left out; by default none are.

    Returns
    -------
    split : float
        ``H(pred | truth)`` in bits: how much `pred` over-segments (0 when
        every `pred` region lies inside one `truth` region).
    merge : float
        ``H(truth | pred)`` in bits: how much `pred` under-segments.
        The variation of information is ``VI = split + merge``. The pair
        equals ``skimage.metrics.variation_of_information(truth, pred)``.

    Raises
    ------
    ValueError
        If the shapes differ or every truth pixel has the `ignore` value.

    Examples
    --------
    Splitting each of two regions in half costs one bit and merges nothing:

    >>> truth = np.array([[1, 1, 2, 2]])
    >>> variation_of_information(np.array([[1, 2, 3, 4]]), truth)
    (1.0, 0.0)
    """
    pred, truth = _check_pair(pred, truth)
    pred, truth = _drop(pred, truth, ignore)
    return _conditional_entropies(_contingency(pred, truth))


# --------------------------------------------------------------------------
# BSDS500 region benchmark
# --------------------------------------------------------------------------


def _labelled_pair(seg: np.ndarray, truth: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    keep = (seg != 0) & (truth != 0)
    if np.count_nonzero(keep) == 0:
        raise ValueError(f"seg and truths[{k}] have no labelled (non-zero) pixel in common")
    return seg[keep], truth[keep]


def covering(seg, truths) -> float:
    """Segmentation covering of the ground truths by `seg` (Arbelaez et al. 2011).

    For one truth ``G`` with regions ``R`` and the segmentation's regions
    ``R'``, the covering of ``G`` by ``seg`` is
    ``C(seg -> G) = 1/N sum_R |R| max_R' IoU(R, R')``, ``N`` the number of
    labelled pixels of ``G``. This is the region benchmark's "covering"
    (recall direction) of the BSDS500 code: with several truths the sums run
    over all truths' regions at once, which is the plain mean over truths
    when they label equally many pixels.

    Label ``0`` is unlabelled: it is not a region of a truth, and `seg`
    pixels labelled 0 cover nothing (as the BSDS500 code, which ignores 0).

    Parameters
    ----------
    seg : (H, W) int or bool ndarray
        The segmentation under test.
    truths : sequence of (H, W) int ndarray, or (n, H, W) ndarray
        One or more reference segmentations, each the shape of `seg`.

    Returns
    -------
    covering : float
        In ``[0, 1]``, 1 when every truth region is exactly a region of `seg`.

    Raises
    ------
    ValueError
        If a shape differs, `truths` is empty or a single image, or no truth
        has a labelled pixel.

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]])
    >>> covering(np.array([[1, 1, 1, 1]]), [truth])
    0.5
    >>> covering(truth, [truth, np.array([[1, 1, 1, 1]])])
    0.75
    """
    seg, truths = _check_truths(seg, truths)
    covered, total = 0.0, 0
    for truth in truths:
        table = _contingency(truth, seg)
        iou = table.n / (table.a_sizes[table.i] + table.b_sizes[table.j] - table.n)
        real = (table.a_classes[table.i] != 0) & (table.b_classes[table.j] != 0)
        best = np.zeros(table.a_classes.size)
        np.maximum.at(best, table.i[real], iou[real])
        regions = table.a_classes != 0
        covered += float(np.dot(table.a_sizes[regions], best[regions]))
        total += int(table.a_sizes[regions].sum())
    if total == 0:
        raise ValueError("the truths have no labelled (non-zero) pixel to cover")
    return covered / total


def probabilistic_rand_index(seg, truths) -> float:
    """Probabilistic Rand index of `seg` against several truths (Unnikrishnan et al. 2007).

    Parameters
    ----------
    seg : (H, W) int or bool ndarray
        The segmentation under test.
    truths : sequence of (H, W) int ndarray, or (n, H, W) ndarray
        One or more reference segmentations, each the shape of `seg`.

    Returns
    -------
    pri : float
        The mean over `truths` of :func:`rand_index` (`seg`, truth), each
        computed on the pixels labelled (non-zero) in both, as the BSDS500
        code does.

    Raises
    ------
    ValueError
        If a shape differs, `truths` is empty or a single image, or `seg`
        and a truth share no labelled pixel.

    Notes
    -----
    PRI is defined over pixel pairs ``(i, j)``: with ``c_ij`` 1 when `seg`
    puts them together and ``p_ij`` the fraction of truths that do,
    ``PRI = mean_(i<j) [c_ij p_ij + (1 - c_ij)(1 - p_ij)]``. The bracket is
    linear in ``p_ij = (1/T) sum_t g_ij^t``, so it equals
    ``(1/T) sum_t [c_ij g_ij^t + (1 - c_ij)(1 - g_ij^t)]``, and swapping the
    two means gives ``(1/T) sum_t RI(seg, truth_t)``. (When the truths leave
    different pixels unlabelled, the per-truth form is the definition.)

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]])
    >>> probabilistic_rand_index(truth, [truth, np.array([[1, 1, 1, 1]])])
    0.6666...
    """
    seg, truths = _check_truths(seg, truths)
    scores = [_rand(_contingency(*_labelled_pair(seg, t, k))) for k, t in enumerate(truths)]
    return float(np.mean(scores))


def bsds_vi(seg, truths) -> float:
    """Variation of information of `seg` averaged over several truths, as BSDS500.

    Parameters
    ----------
    seg : (H, W) int or bool ndarray
        The segmentation under test.
    truths : sequence of (H, W) int ndarray, or (n, H, W) ndarray
        One or more reference segmentations, each the shape of `seg`.

    Returns
    -------
    vi : float
        The mean over `truths` of ``split + merge`` from
        :func:`variation_of_information`, in bits, each computed on the
        pixels labelled (non-zero) in both. Lower is better; 0 when `seg`
        equals every truth up to label names.

    Raises
    ------
    ValueError
        If a shape differs, `truths` is empty or a single image, or `seg`
        and a truth share no labelled pixel.

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]])
    >>> bsds_vi(np.array([[1, 1, 1, 1]]), [truth, truth])
    1.0
    """
    seg, truths = _check_truths(seg, truths)
    totals = [
        sum(_conditional_entropies(_contingency(*_labelled_pair(seg, t, k))))
        for k, t in enumerate(truths)
    ]
    return float(np.mean(totals))


def bsds_measures(seg, truths) -> dict:
    """:func:`covering`, :func:`probabilistic_rand_index` and :func:`bsds_vi` at once,
    as a benchmark over a dataset needs them: where no pixel is unlabelled (``0``),
    each truth's contingency table with `seg` is built once for all three instead of
    three times (the three functions are what this equals, tested).

    Examples
    --------
    >>> truth = np.array([[1, 1, 2, 2]])
    >>> bsds_measures(np.array([[1, 1, 1, 1]]), [truth, truth])
    {'covering': 0.5, 'pri': 0.3333..., 'vi': 1.0}
    """
    seg, truths = _check_truths(seg, truths)
    if not seg.all() or not all(t.all() for t in truths):
        return {"covering": covering(seg, truths), "pri": probabilistic_rand_index(seg, truths),
                "vi": bsds_vi(seg, truths)}
    covered, total, rand, vi = 0.0, 0, [], []
    for truth in truths:
        table = _contingency(truth, seg)
        iou = table.n / (table.a_sizes[table.i] + table.b_sizes[table.j] - table.n)
        best = np.zeros(table.a_classes.size)
        np.maximum.at(best, table.i, iou)
        covered += float(np.dot(table.a_sizes, best))
        total += int(table.a_sizes.sum())
        rand.append(_rand(table))  # symmetric in its two labellings
        vi.append(sum(_conditional_entropies(table)))  # split + merge: symmetric too
    return {"covering": covered / total, "pri": float(np.mean(rand)), "vi": float(np.mean(vi))}


# --------------------------------------------------------------------------
# instances
# --------------------------------------------------------------------------


class _Overlaps(NamedTuple):
    """IoU of every overlapping (pred instance, truth instance) pair."""

    pred_ids: np.ndarray  # (P,) sorted non-zero pred labels
    truth_ids: np.ndarray  # (T,)
    i: np.ndarray  # (M,) index into pred_ids
    j: np.ndarray  # (M,) index into truth_ids
    iou: np.ndarray  # (M,) float64


def _overlaps(pred, truth) -> _Overlaps:
    pred, truth = _check_pair(pred, truth)
    table = _contingency(pred, truth)
    iou = table.n / (table.a_sizes[table.i] + table.b_sizes[table.j] - table.n)
    pred_fg, truth_fg = table.a_classes != 0, table.b_classes != 0
    real = pred_fg[table.i] & truth_fg[table.j]
    # Re-index rows and columns so that background is not an instance.
    pred_pos = np.cumsum(pred_fg) - 1
    truth_pos = np.cumsum(truth_fg) - 1
    return _Overlaps(
        table.a_classes[pred_fg],
        table.b_classes[truth_fg],
        pred_pos[table.i[real]],
        truth_pos[table.j[real]],
        iou[real],
    )


def _check_threshold(threshold: float) -> None:
    if not 0 <= threshold <= 1:
        raise ValueError(f"IoU threshold must lie in [0, 1], got {threshold!r}")


def _match(ov: _Overlaps, threshold: float, *, strict: bool) -> tuple[np.ndarray, np.ndarray]:
    """Indices (into ov.i) of the one-to-one matched pairs."""
    good = np.flatnonzero(ov.iou > threshold if strict else ov.iou >= threshold)
    ci, cj = ov.i[good], ov.j[good]
    if np.unique(ci).size == ci.size and np.unique(cj).size == cj.size:
        return good  # above IoU 0.5 this always holds: no instance has two candidates
    rows, r = np.unique(ci, return_inverse=True)
    cols, c = np.unique(cj, return_inverse=True)
    # Weights 1 + IoU / (2 min(rows, cols)): the IoU terms of any matching sum to
    # at most 1/2, so the most matches win first and the largest total IoU second.
    weight = np.zeros((rows.size, cols.size))
    weight[r, c] = 1.0 + ov.iou[good] / (2 * min(rows.size, cols.size))
    at = np.full((rows.size, cols.size), -1, np.int64)
    at[r, c] = good
    ri, cj_ = linear_sum_assignment(weight, maximize=True)
    chosen = at[ri, cj_]
    return np.sort(chosen[chosen >= 0])


def _counts(ov: _Overlaps, matched: np.ndarray) -> tuple[int, int, int]:
    tp = int(matched.size)
    return tp, ov.pred_ids.size - tp, ov.truth_ids.size - tp


def match_instances(pred, truth, *, threshold: float = 0.5) -> dict:
    """Pair predicted and true instances one to one at an IoU threshold.

    Parameters
    ----------
    pred : (H, W) int ndarray
        Predicted instances: each non-zero id is one object, ``0`` is
        background.
    truth : (H, W) int ndarray
        True instances, same shape and convention.
    threshold : float
        A pair can match when its IoU is at least `threshold` (the
        StarDist / Cellpose / COCO convention). From 0.5 up an instance has
        at most one such partner; below it the pairing is the one with the
        most matches and, among those, the largest total IoU
        (:func:`scipy.optimize.linear_sum_assignment`).

    Returns
    -------
    result : dict
        ``pairs`` : (M, 2) int64 ndarray
            ``(pred_id, truth_id)`` of each match, sorted.
        ``iou`` : (M,) float64 ndarray
            IoU of each match.
        ``tp``, ``fp``, ``fn`` : int
            Matches, unmatched predictions, unmatched truths.
        ``n_pred``, ``n_truth`` : int
            Instances in each image.
        ``precision``, ``recall``, ``f1``, ``ap`` : float
            ``TP / n_pred``, ``TP / n_truth``, ``2 TP / (n_pred + n_truth)``
            and ``TP / (TP + FP + FN)``, the per-threshold "average
            precision" of the cell-segmentation benchmarks. With no instance
            in either image all four are 1; otherwise a zero denominator
            gives 0.

    Raises
    ------
    ValueError
        If the shapes differ or `threshold` is outside ``[0, 1]``.

    Examples
    --------
    >>> truth = np.array([[1, 1, 0, 2, 2]])
    >>> pred = np.array([[5, 5, 5, 0, 0]])
    >>> m = match_instances(pred, truth)
    >>> m["pairs"].tolist(), m["iou"].round(3).tolist(), m["tp"], m["fn"]
    ([[5, 1]], [0.667], 1, 1)
    """
    _check_threshold(threshold)
    ov = _overlaps(pred, truth)
    matched = _match(ov, threshold, strict=False)
    tp, fp, fn = _counts(ov, matched)
    empty = 1.0 if tp + fp + fn == 0 else 0.0
    pairs = np.stack([ov.pred_ids[ov.i[matched]], ov.truth_ids[ov.j[matched]]], axis=1)
    return {
        "pairs": pairs.astype(np.int64).reshape(-1, 2),
        "iou": ov.iou[matched],
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "n_pred": int(ov.pred_ids.size),
        "n_truth": int(ov.truth_ids.size),
        "precision": _ratio(tp, tp + fp, empty=empty),
        "recall": _ratio(tp, tp + fn, empty=empty),
        "f1": _ratio(2 * tp, 2 * tp + fp + fn, empty=empty),
        "ap": _ratio(tp, tp + fp + fn, empty=empty),
    }


def average_precision(pred, truth, *, thresholds=None) -> dict:
    """Instance "average precision" over IoU thresholds, as StarDist and Cellpose.

    The label images carry no confidence scores, so there is no ranking to
    integrate a precision-recall curve over. At each threshold the score is
    ``AP_t = TP / (TP + FP + FN)`` with instances matched by
    :func:`match_instances`; the result is the mean over thresholds, in the
    spirit of COCO's AP@[.5:.95].

    Parameters
    ----------
    pred : (H, W) int ndarray
        Predicted instances, ``0`` background.
    truth : (H, W) int ndarray
        True instances, same shape and convention.
    thresholds : sequence of float, optional
        IoU thresholds in ``[0, 1]``. Default ``np.linspace(0.5, 0.95, 10)``,
        COCO's, written so that 0.6 is exactly 0.6 (``np.arange`` drifts).

    Returns
    -------
    result : dict
        ``ap`` : float
            Mean of ``per_threshold``.
        ``thresholds`` : (T,) float64 ndarray
        ``per_threshold`` : (T,) float64 ndarray
            ``AP_t`` at each threshold (1 when neither image has instances).
        ``tp``, ``fp``, ``fn`` : (T,) int64 ndarray

    Raises
    ------
    ValueError
        If the shapes differ, `thresholds` is empty or a threshold lies
        outside ``[0, 1]``.

    Examples
    --------
    >>> truth = np.zeros((6, 6), int); truth[1:5, 1:5] = 1
    >>> pred = np.zeros((6, 6), int); pred[1:5, 2:6] = 1
    >>> result = average_precision(pred, truth)  # IoU 12 / 20 = 0.6
    >>> result["per_threshold"].tolist()[:4], result["ap"]
    ([1.0, 1.0, 1.0, 0.0], 0.3)
    """
    thresholds = (
        np.linspace(0.5, 0.95, 10)
        if thresholds is None
        else np.atleast_1d(np.asarray(thresholds, np.float64))
    )
    if thresholds.ndim != 1 or thresholds.size == 0:
        raise ValueError(f"thresholds must be a non-empty 1-D sequence, got {thresholds!r}")
    for threshold in thresholds:
        _check_threshold(threshold)
    ov = _overlaps(pred, truth)
    counts = np.array(
        [_counts(ov, _match(ov, t, strict=False)) for t in thresholds], np.int64
    ).reshape(-1, 3)
    tp, fp, fn = counts.T
    total = tp + fp + fn
    per_threshold = np.where(total > 0, tp / np.maximum(total, 1), 1.0)
    return {
        "ap": float(per_threshold.mean()),
        "thresholds": thresholds,
        "per_threshold": per_threshold,
        "tp": tp,
        "fp": fp,
        "fn": fn,
    }


def panoptic_quality(pred, truth, *, threshold: float = 0.5) -> dict:
    """Panoptic quality of instance label images (Kirillov et al. 2019).

    Parameters
    ----------
    pred : (H, W) int ndarray
        Predicted instances, ``0`` background (no "void" region is handled).
    truth : (H, W) int ndarray
        True instances, same shape and convention.
    threshold : float
        A pair matches when its IoU is strictly greater than `threshold`.
        The paper's 0.5 makes matches unique; lower values pair instances as
        :func:`match_instances` does.

    Returns
    -------
    result : dict
        ``sq`` (mean IoU of the matches), ``rq`` (``TP / (TP + FP/2 + FN/2)``),
        ``pq`` (``SQ * RQ``) as floats, and the counts ``tp``, ``fp``, ``fn``.
        With no instance in either image all three scores are 1; with
        instances but no match they are 0.

    Raises
    ------
    ValueError
        If the shapes differ or `threshold` is outside ``[0, 1]``.

    Examples
    --------
    >>> truth = np.zeros((6, 6), int); truth[1:5, 1:5] = 1; truth[5, :] = 2
    >>> pred = np.zeros((6, 6), int); pred[1:5, 2:6] = 1
    >>> pq = panoptic_quality(pred, truth)
    >>> pq["sq"], pq["rq"], round(pq["pq"], 4), pq["fn"]
    (0.6, 0.666..., 0.4, 1)
    """
    _check_threshold(threshold)
    ov = _overlaps(pred, truth)
    matched = _match(ov, threshold, strict=True)
    tp, fp, fn = _counts(ov, matched)
    if tp + fp + fn == 0:
        sq = rq = 1.0
    else:
        sq = _ratio(float(ov.iou[matched].sum()), tp)
        rq = tp / (tp + fp / 2 + fn / 2)
    return {"pq": sq * rq, "sq": sq, "rq": rq, "tp": tp, "fp": fp, "fn": fn}
