"""Tests for segcore.metrics: cross-checks against scikit-learn and scikit-image,
and exact answers on hand-made label images."""

import itertools

import numpy as np
import pytest
import skimage.metrics
import sklearn.metrics
from scipy import ndimage

from segcore import metrics

CASES = [  # (seed, shape, number of truth classes)
    (0, (17, 23), 2),
    (1, (32, 32), 5),
    (2, (40, 31), 9),
    (3, (8, 64), 3),
]


def noisy_pair(seed, shape, n_classes):
    """A blobby truth and a prediction that misses one class and invents two."""
    rng = np.random.default_rng(seed)
    smooth = ndimage.gaussian_filter(rng.normal(size=shape), 3)
    edges = np.quantile(smooth, np.linspace(0, 1, n_classes + 1)[1:-1])
    truth = np.digitize(smooth, edges).astype(np.int32)
    pred = truth.copy()
    flip = rng.random(shape) < 0.2
    pred[flip] = rng.integers(0, n_classes + 2, flip.sum())
    # A class that is in truth but never predicted...
    pred[pred == n_classes - 1] = 0
    # ...and negative labels must work as well as positive ones.
    pred[rng.random(shape) < 0.02] = -3
    return pred, truth


# --------------------------------------------------------------------------
# class scores
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed, shape, n_classes", CASES)
def test_confusion_matrix_matches_sklearn(seed, shape, n_classes):
    pred, truth = noisy_pair(seed, shape, n_classes)
    expected = sklearn.metrics.confusion_matrix(truth.ravel(), pred.ravel())
    got = metrics.confusion_matrix(pred, truth)
    assert got.dtype == np.int64
    np.testing.assert_array_equal(got, expected)


def test_confusion_matrix_with_labels_keeps_order_and_drops_others():
    pred, truth = noisy_pair(4, (30, 30), 5)
    labels = [3, 0, 6, 1]  # unsorted, and 6 occurs in pred only
    expected = sklearn.metrics.confusion_matrix(truth.ravel(), pred.ravel(), labels=labels)
    np.testing.assert_array_equal(metrics.confusion_matrix(pred, truth, labels=labels), expected)


def test_confusion_matrix_with_huge_label_values():
    # Values far apart take the sorted-search path instead of a lookup table.
    pred, truth = noisy_pair(5, (20, 20), 4)
    pred, truth = pred.astype(np.int64) * 10**12, truth.astype(np.int64) * 10**12
    expected = sklearn.metrics.confusion_matrix(truth.ravel(), pred.ravel())
    np.testing.assert_array_equal(metrics.confusion_matrix(pred, truth), expected)


def test_confusion_matrix_rejects_bad_labels():
    a = np.zeros((3, 3), int)
    with pytest.raises(ValueError, match="must not repeat"):
        metrics.confusion_matrix(a, a, labels=[1, 1])
    with pytest.raises(ValueError, match="non-empty 1-D sequence of ints"):
        metrics.confusion_matrix(a, a, labels=[])


def sklearn_scores(pred, truth, classes):
    kw = dict(labels=classes, average="macro", zero_division=0)
    y_true, y_pred = truth.ravel(), pred.ravel()
    return {
        "iou": sklearn.metrics.jaccard_score(y_true, y_pred, **kw),
        "dice": sklearn.metrics.f1_score(y_true, y_pred, **kw),
        "precision": sklearn.metrics.precision_score(y_true, y_pred, **kw),
        "recall": sklearn.metrics.recall_score(y_true, y_pred, **kw),
        "accuracy": sklearn.metrics.accuracy_score(y_true, y_pred),
    }


@pytest.mark.parametrize("seed, shape, n_classes", CASES)
def test_score_matches_sklearn_macro_averages(seed, shape, n_classes):
    pred, truth = noisy_pair(seed, shape, n_classes)
    result = metrics.score(pred, truth, match="none")
    classes = sorted(set(np.unique(truth)) | set(np.unique(pred)))
    assert result["classes"] == classes
    assert n_classes - 1 in result["classes"]  # absent from pred, still averaged
    expected = sklearn_scores(pred, truth, classes)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-6), name

    per = {
        "iou": sklearn.metrics.jaccard_score,
        "dice": sklearn.metrics.f1_score,
        "precision": sklearn.metrics.precision_score,
        "recall": sklearn.metrics.recall_score,
    }
    for name, fn in per.items():
        values = fn(truth.ravel(), pred.ravel(), labels=classes, average=None, zero_division=0)
        got = [result["per_class"][c][name] for c in classes]
        np.testing.assert_allclose(got, values, atol=1e-6, err_msg=name)
    support = [np.count_nonzero(truth == c) for c in classes]
    assert [result["per_class"][c]["support"] for c in classes] == support
    np.testing.assert_array_equal(result["confusion"], metrics.confusion_matrix(pred, truth))
    assert result["mapping"] is None


@pytest.mark.parametrize("seed, shape, n_classes", CASES[:2])
def test_score_ignore_scores_only_the_kept_pixels(seed, shape, n_classes):
    pred, truth = noisy_pair(seed, shape, n_classes + 1)
    result = metrics.score(pred, truth, match="none", ignore=0)
    keep = truth != 0
    classes = sorted((set(np.unique(truth[keep])) | set(np.unique(pred[keep]))) - {0})
    assert result["classes"] == classes
    expected = sklearn_scores(pred[keep], truth[keep], classes)
    for name, value in expected.items():
        assert result[name] == pytest.approx(value, abs=1e-6), name


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_hungarian_recovers_a_relabelled_truth(seed):
    rng = np.random.default_rng(seed)
    _, truth = noisy_pair(seed, (24, 24), 4)
    names = rng.permutation(50)[:4] + 10  # new names, none equal to a truth class
    pred = names[truth]
    matched = metrics.score(pred, truth, match="hungarian")
    for name in ("iou", "dice", "precision", "recall", "accuracy"):
        assert matched[name] == 1.0
    assert matched["mapping"] == {int(names[c]): c for c in range(4)}
    plain = metrics.score(pred, truth, match="none")
    assert plain["iou"] == 0.0 and plain["accuracy"] == 0.0


def test_hungarian_maximises_total_overlap():
    pred, truth = noisy_pair(7, (30, 30), 4)
    rng = np.random.default_rng(7)
    # pred holds six distinct values (-3, 0, 1, 2, 4, 5): six labels for four classes.
    pred = rng.permutation(np.arange(20, 29))[pred + 3]
    result = metrics.score(pred, truth, match="hungarian")
    table = sklearn.metrics.confusion_matrix(truth.ravel(), pred.ravel())
    classes = np.unique(np.concatenate([truth.ravel(), pred.ravel()]))
    rows = np.flatnonzero(np.isin(classes, np.unique(truth)))
    cols = np.flatnonzero(np.isin(classes, np.unique(pred)))
    best = max(
        sum(table[r, c] for r, c in zip(rows, perm))
        for perm in itertools.permutations(cols, len(rows))
    )
    assert result["accuracy"] * truth.size == best
    unmatched = [p for p, t in result["mapping"].items() if t == -1]
    assert len(unmatched) == 2
    assert result["classes"] == [0, 1, 2, 3]  # -1 is no class


def test_hungarian_with_fewer_labels_than_classes():
    truth = np.repeat(np.arange(1, 5), 4).reshape(4, 4)  # rows 1, 2, 3, 4
    # Two labels for four classes: 9 lies mostly on classes 1 and 2, 8 on 3 and 4.
    pred = np.array([[9, 9, 9, 9], [9, 9, 9, 8], [8, 8, 8, 8], [9, 8, 8, 8]])
    result = metrics.score(pred, truth, match="hungarian")
    assert result["mapping"] == {8: 3, 9: 1}
    assert result["accuracy"] == 0.5
    assert result["classes"] == [1, 2, 3, 4]
    assert [result["per_class"][c]["recall"] for c in (1, 2, 3, 4)] == [1.0, 0.0, 1.0, 0.0]
    assert result["iou"] == pytest.approx((0.5 + 0 + 0.5 + 0) / 4)


def test_hungarian_unmatched_id_avoids_a_truth_class_of_minus_one():
    truth = np.array([[-1, -1, 2, 2]])
    pred = np.array([[5, 6, 7, 7]])
    result = metrics.score(pred, truth, match="hungarian")
    assert -2 in result["mapping"].values()
    assert result["classes"] == [-1, 2]


def test_score_rejects_bad_arguments():
    a = np.zeros((4, 4), int)
    with pytest.raises(ValueError, match="match must be one of"):
        metrics.score(a, a, match="greedy")
    with pytest.raises(ValueError, match="nothing is left to score"):
        metrics.score(a, a, ignore=0)


@pytest.mark.parametrize("seed", [0, 1])
def test_binary_scores_match_sklearn(seed):
    pred, truth = noisy_pair(seed, (25, 25), 3)
    result = metrics.binary_scores(pred, truth, positive=1)
    y_true, y_pred = truth.ravel() == 1, pred.ravel() == 1
    assert result["iou"] == pytest.approx(sklearn.metrics.jaccard_score(y_true, y_pred))
    assert result["dice"] == pytest.approx(sklearn.metrics.f1_score(y_true, y_pred))
    assert result["precision"] == pytest.approx(sklearn.metrics.precision_score(y_true, y_pred))
    assert result["recall"] == pytest.approx(sklearn.metrics.recall_score(y_true, y_pred))
    assert result["accuracy"] == pytest.approx(sklearn.metrics.accuracy_score(y_true, y_pred))


def test_binary_scores_of_empty_masks():
    empty = np.zeros((5, 5), bool)
    full = np.ones((5, 5), bool)
    both_empty = metrics.binary_scores(empty, empty)
    assert [both_empty[k] for k in ("iou", "dice", "precision", "recall")] == [1.0] * 4
    missed = metrics.binary_scores(empty, full)
    assert [missed[k] for k in ("iou", "dice", "precision", "recall", "accuracy")] == [0.0] * 5


# --------------------------------------------------------------------------
# boundaries
# --------------------------------------------------------------------------


def disk(shape, centre, radius):
    rows, cols = np.indices(shape)
    return ((rows - centre[0]) ** 2 + (cols - centre[1]) ** 2 <= radius**2).astype(np.int32)


def test_boundary_f1_identical_is_one():
    _, truth = noisy_pair(0, (40, 40), 4)
    assert metrics.boundary_f1(truth, truth, tolerance=0) == {
        "precision": 1.0,
        "recall": 1.0,
        "f1": 1.0,
    }


def test_boundary_f1_one_pixel_shift():
    truth = disk((40, 40), (20, 20), 10)
    pred = np.roll(truth, 1, axis=1)  # far from the border: a plain shift
    assert metrics.boundary_f1(pred, truth, tolerance=2)["f1"] == 1.0
    assert metrics.boundary_f1(pred, truth, tolerance=1)["f1"] == 1.0
    strict = metrics.boundary_f1(pred, truth, tolerance=0)
    assert 0 < strict["precision"] < 1 and 0 < strict["recall"] < 1 and strict["f1"] < 1
    # A shift by 4 pixels is out of reach of tolerance 2 for the left and right arcs.
    assert metrics.boundary_f1(np.roll(truth, 4, axis=1), truth, tolerance=2)["f1"] < 1


def test_boundary_f1_ignores_label_names():
    pred, truth = noisy_pair(3, (30, 30), 3)
    renamed = np.where(truth == 0, 7, truth)  # 0 is not special
    assert metrics.boundary_f1(pred, renamed) == metrics.boundary_f1(pred, truth)


def test_boundary_f1_empty_boundaries():
    flat = np.ones((10, 10), int)
    assert metrics.boundary_f1(flat, 2 * flat)["f1"] == 1.0
    split = flat.copy()
    split[:, 5:] = 2
    assert metrics.boundary_f1(flat, split) == {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert metrics.boundary_f1(split, flat)["f1"] == 0.0
    with pytest.raises(ValueError, match="tolerance must be a finite number"):
        metrics.boundary_f1(flat, flat, tolerance=-1)


# --------------------------------------------------------------------------
# partition comparisons
# --------------------------------------------------------------------------


@pytest.mark.parametrize("seed, shape, n_classes", CASES)
def test_rand_indices_match_sklearn(seed, shape, n_classes):
    pred, truth = noisy_pair(seed, shape, n_classes)
    y_true, y_pred = truth.ravel(), pred.ravel()
    assert metrics.rand_index(pred, truth) == pytest.approx(
        sklearn.metrics.rand_score(y_true, y_pred), abs=1e-12
    )
    assert metrics.adjusted_rand_index(pred, truth) == pytest.approx(
        sklearn.metrics.adjusted_rand_score(y_true, y_pred), abs=1e-12
    )


def test_rand_indices_with_many_labels_and_edge_cases():
    # Almost every pixel its own label: the sparse contingency path.
    rng = np.random.default_rng(11)
    pred = rng.integers(0, 8000, (100, 100))
    truth = rng.integers(0, 8000, (100, 100))
    assert metrics.rand_index(pred, truth) == pytest.approx(
        sklearn.metrics.rand_score(truth.ravel(), pred.ravel()), abs=1e-12
    )
    assert metrics.adjusted_rand_index(pred, truth) == pytest.approx(
        sklearn.metrics.adjusted_rand_score(truth.ravel(), pred.ravel()), abs=1e-12
    )
    one = np.array([[3]])
    assert metrics.rand_index(one, one) == sklearn.metrics.rand_score([3], [3])
    assert metrics.adjusted_rand_index(one, one) == sklearn.metrics.adjusted_rand_score([3], [3])


def test_rand_index_on_a_megapixel_stays_exact():
    rng = np.random.default_rng(12)
    truth = rng.integers(0, 3, (1024, 1024))
    pred = np.where(rng.random(truth.shape) < 0.1, 0, truth)
    assert metrics.rand_index(pred, truth) == pytest.approx(
        sklearn.metrics.rand_score(truth.ravel(), pred.ravel()), abs=1e-12
    )


@pytest.mark.parametrize("seed, shape, n_classes", CASES)
@pytest.mark.parametrize("ignore", [0, None])
def test_adapted_rand_error_matches_skimage(seed, shape, n_classes, ignore):
    pred, truth = noisy_pair(seed, shape, n_classes)
    pred = pred + 3  # skimage wants non-negative labels
    error, precision, recall = metrics.adapted_rand_error(pred, truth, ignore=ignore)
    ignore_labels = () if ignore is None else (ignore,)
    ref_error, ref_first, ref_second = skimage.metrics.adapted_rand_error(
        truth, pred, ignore_labels=ignore_labels
    )
    assert error == pytest.approx(ref_error, abs=1e-6)
    # skimage returns the two ratios in swapped places (its issue #6485).
    assert precision == pytest.approx(ref_second, abs=1e-6)
    assert recall == pytest.approx(ref_first, abs=1e-6)


def test_adapted_rand_precision_and_recall_follow_merges_and_splits():
    truth = np.repeat([1, 2], 8).reshape(4, 4)
    over = np.arange(16).reshape(4, 4) // 2 + 1  # splits, never merges
    _, precision, recall = metrics.adapted_rand_error(over, truth)
    assert precision == 1.0 and recall < 1.0
    _, precision, recall = metrics.adapted_rand_error(np.ones_like(truth), truth)
    assert recall == 1.0 and precision < 1.0


@pytest.mark.parametrize("seed, shape, n_classes", CASES)
@pytest.mark.parametrize("ignore", [None, 1])
def test_variation_of_information_matches_skimage(seed, shape, n_classes, ignore):
    pred, truth = noisy_pair(seed, shape, n_classes)
    pred = pred + 3
    ignore_labels = () if ignore is None else (ignore,)
    expected = skimage.metrics.variation_of_information(truth, pred, ignore_labels=ignore_labels)
    got = metrics.variation_of_information(pred, truth, ignore=ignore)
    np.testing.assert_allclose(got, expected, atol=1e-6)


def test_variation_of_information_of_pure_splits_and_merges():
    truth = np.repeat([1, 2], 8).reshape(4, 4)
    split, merge = metrics.variation_of_information(np.arange(16).reshape(4, 4), truth)
    assert (split, merge) == (pytest.approx(3.0), 0.0)  # 8 equal parts per region: 3 bits
    split, merge = metrics.variation_of_information(np.ones_like(truth), truth)
    assert (split, merge) == (0.0, pytest.approx(1.0))


# --------------------------------------------------------------------------
# BSDS measures
# --------------------------------------------------------------------------


def bsds_truths(seed, shape=(12, 10), n=3):
    """Human-like truths: non-zero labels that disagree on some boundaries."""
    rng = np.random.default_rng(seed)
    smooth = ndimage.gaussian_filter(rng.normal(size=shape), 2)
    truths = []
    for k in range(n):
        edges = np.quantile(smooth, np.linspace(0, 1, k + 3)[1:-1])
        truths.append(np.digitize(smooth, edges) + 1)
    seg = np.digitize(smooth + 0.1 * rng.normal(size=shape), np.quantile(smooth, [0.5])) + 1
    return seg, truths


def test_covering_of_identical_and_hand_example():
    seg, truths = bsds_truths(0)
    assert metrics.covering(truths[0], [truths[0]]) == 1.0
    # Truth regions: A (rows 0-1, 8 px) and B (rows 2-3, 8 px). The seg splits B
    # into two halves and also takes the first row of A into its left region.
    truth = np.repeat([1, 2], 8).reshape(4, 4)
    seg = np.array([[1, 1, 1, 1], [1, 1, 1, 1], [2, 2, 3, 3], [2, 2, 3, 3]])
    # A: IoU with region 1 is 8/8; B: best IoU with 2 or 3 is 4/8.
    assert metrics.covering(seg, [truth]) == pytest.approx((8 * 1 + 8 * 0.5) / 16)
    # Direction matters: the truth covers the seg differently.
    assert metrics.covering(truth, [seg]) == pytest.approx((8 * 1 + 4 * 0.5 + 4 * 0.5) / 16)


def test_covering_pools_truths_and_ignores_unlabelled_pixels():
    seg, truths = bsds_truths(1)
    each = [metrics.covering(seg, [t]) for t in truths]
    assert metrics.covering(seg, truths) == pytest.approx(np.mean(each))
    # Unlabelled truth pixels leave the region and the pixel count.
    truth = np.array([[1, 1, 0, 0]])
    assert metrics.covering(np.array([[5, 5, 6, 6]]), [truth]) == 1.0
    # Unlabelled seg pixels cover nothing.
    assert metrics.covering(np.array([[0, 5, 5, 5]]), [np.array([[1, 1, 2, 2]])]) == pytest.approx(
        (2 * (1 / 4) + 2 * (2 / 3)) / 4
    )
    stack = np.stack(truths)
    assert metrics.covering(seg, stack) == metrics.covering(seg, truths)


def brute_force_pri(seg, truths):
    seg = seg.ravel()
    flat = [t.ravel() for t in truths]
    total, count = 0.0, 0
    for i, j in itertools.combinations(range(seg.size), 2):
        together = seg[i] == seg[j]
        p = np.mean([t[i] == t[j] for t in flat])
        total += p if together else 1 - p
        count += 1
    return total / count


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_probabilistic_rand_index(seed):
    seg, truths = bsds_truths(seed, shape=(6, 5))
    pri = metrics.probabilistic_rand_index(seg, truths)
    mean_ri = np.mean([sklearn.metrics.rand_score(t.ravel(), seg.ravel()) for t in truths])
    assert pri == pytest.approx(mean_ri, abs=1e-12)
    assert pri == pytest.approx(brute_force_pri(seg, truths), abs=1e-12)
    assert metrics.probabilistic_rand_index(truths[0], truths[:1]) == 1.0


def test_bsds_measures_leave_out_unlabelled_pixels():
    seg, truths = bsds_truths(3)
    truths[0][:3] = 0
    keep = truths[0] != 0
    expected = sklearn.metrics.rand_score(truths[0][keep], seg[keep])
    assert metrics.probabilistic_rand_index(seg, truths[:1]) == pytest.approx(expected)


@pytest.mark.parametrize("seed", [0, 1])
def test_bsds_vi_is_mean_of_skimage_vi(seed):
    seg, truths = bsds_truths(seed, shape=(20, 20))
    expected = np.mean([skimage.metrics.variation_of_information(t, seg).sum() for t in truths])
    assert metrics.bsds_vi(seg, truths) == pytest.approx(expected, abs=1e-6)
    assert metrics.bsds_vi(truths[1], [truths[1]]) == 0.0


def test_bsds_measures_reject_bad_truths():
    seg, truths = bsds_truths(0)
    for fn in (metrics.covering, metrics.probabilistic_rand_index, metrics.bsds_vi):
        with pytest.raises(ValueError, match="list of label images"):
            fn(seg, truths[0])
        with pytest.raises(ValueError, match="at least one"):
            fn(seg, [])
        with pytest.raises(ValueError, match=r"truths\[1\] \(5, 5\)"):
            fn(seg, [truths[0], np.ones((5, 5), int)])
    with pytest.raises(ValueError, match="no labelled"):
        metrics.probabilistic_rand_index(seg, [np.zeros_like(seg)])
    with pytest.raises(ValueError, match="no labelled"):
        metrics.covering(seg, [np.zeros_like(seg)])


# --------------------------------------------------------------------------
# instances
# --------------------------------------------------------------------------


def instance_grid(n_side=3, size=5, gap=2):
    """n_side**2 square instances of size x size on a background of 0."""
    step = size + gap
    labels = np.zeros((n_side * step + gap,) * 2, np.int32)
    for k in range(n_side * n_side):
        r, c = divmod(k, n_side)
        top, left = gap + r * step, gap + c * step
        labels[top : top + size, left : left + size] = k + 1
    return labels


def test_identical_instances_score_one():
    truth = instance_grid()
    pred = np.where(truth > 0, truth + 100, 0)  # ids need not agree
    matches = metrics.match_instances(pred, truth)
    assert matches["tp"] == 9 and matches["fp"] == 0 and matches["fn"] == 0
    assert sorted(matches["pairs"].tolist()) == [[k + 100, k] for k in range(1, 10)]
    np.testing.assert_array_equal(matches["iou"], np.ones(9))
    assert metrics.average_precision(pred, truth)["ap"] == 1.0
    pq = metrics.panoptic_quality(pred, truth)
    assert (pq["pq"], pq["sq"], pq["rq"]) == (1.0, 1.0, 1.0)


def test_missing_instance_lowers_rq_by_the_exact_amount():
    truth = instance_grid()
    pred = np.where(truth == 5, 0, truth)
    pq = metrics.panoptic_quality(pred, truth)
    n = 9
    assert (pq["tp"], pq["fp"], pq["fn"]) == (n - 1, 0, 1)
    assert pq["rq"] == pytest.approx((n - 1) / (n - 1 + 0.5))
    assert pq["sq"] == 1.0 and pq["pq"] == pytest.approx(pq["rq"])
    # An extra false instance costs the same half count.
    extra = truth.copy()
    extra[0, :2] = 50
    assert metrics.panoptic_quality(extra, truth)["rq"] == pytest.approx(n / (n + 0.5))
    ap = metrics.average_precision(pred, truth)
    np.testing.assert_allclose(ap["per_threshold"], (n - 1) / n)


def test_instances_with_a_known_iou():
    truth = np.zeros((8, 8), np.int32)
    truth[1:6, 1:6] = 1  # 25 px
    pred = np.zeros_like(truth)
    pred[1:6, 2:7] = 3  # shifted by one column: 20 px shared, union 30
    iou = 20 / 30
    matches = metrics.match_instances(pred, truth)
    assert matches["iou"].tolist() == [pytest.approx(iou)]
    assert metrics.match_instances(pred, truth, threshold=0.7)["tp"] == 0
    ap = metrics.average_precision(pred, truth)
    np.testing.assert_allclose(ap["thresholds"], np.arange(10) * 0.05 + 0.5)
    np.testing.assert_array_equal(ap["per_threshold"], [1, 1, 1, 1, 0, 0, 0, 0, 0, 0])
    assert ap["ap"] == pytest.approx(0.4)
    np.testing.assert_array_equal(ap["fp"], [0] * 4 + [1] * 6)
    pq = metrics.panoptic_quality(pred, truth)
    assert pq["sq"] == pytest.approx(iou) and pq["rq"] == 1.0 and pq["pq"] == pytest.approx(iou)


def test_pq_threshold_is_strict_and_ap_threshold_inclusive():
    truth = np.array([[1, 1, 0, 0]])
    pred = np.array([[2, 0, 0, 0]])  # IoU exactly 1/2
    assert metrics.panoptic_quality(pred, truth)["tp"] == 0
    assert metrics.match_instances(pred, truth, threshold=0.5)["tp"] == 1


def test_low_threshold_matching_prefers_more_matches():
    # pred 1 overlaps truth 1 a lot and truth 2 a little; pred 2 overlaps only truth 1.
    truth = np.array([[1, 1, 1, 1, 2, 2, 2, 2]])
    pred = np.array([[2, 1, 1, 1, 1, 0, 0, 0]])
    low = metrics.match_instances(pred, truth, threshold=0.1)
    assert low["tp"] == 2
    assert sorted(low["pairs"].tolist()) == [[1, 2], [2, 1]]
    assert metrics.match_instances(pred, truth, threshold=0.5)["pairs"].tolist() == [[1, 1]]


def test_instance_scores_without_instances():
    background = np.zeros((4, 4), int)
    assert metrics.match_instances(background, background)["ap"] == 1.0
    assert metrics.average_precision(background, background)["ap"] == 1.0
    assert metrics.panoptic_quality(background, background)["pq"] == 1.0
    some = background.copy()
    some[1, 1] = 1
    assert metrics.panoptic_quality(background, some)["pq"] == 0.0
    missed = metrics.match_instances(background, some)
    assert (missed["precision"], missed["recall"], missed["fn"]) == (0.0, 0.0, 1)
    with pytest.raises(ValueError, match=r"IoU threshold must lie in \[0, 1\]"):
        metrics.average_precision(some, some, thresholds=[0.5, 1.5])


# --------------------------------------------------------------------------
# validation shared by every function
# --------------------------------------------------------------------------

PAIRWISE = [
    metrics.confusion_matrix,
    metrics.score,
    metrics.binary_scores,
    metrics.boundary_f1,
    metrics.rand_index,
    metrics.adjusted_rand_index,
    metrics.adapted_rand_error,
    metrics.variation_of_information,
    metrics.match_instances,
    metrics.average_precision,
    metrics.panoptic_quality,
]


@pytest.mark.parametrize("fn", PAIRWISE, ids=lambda fn: fn.__name__)
def test_shape_mismatch_names_both_shapes(fn):
    with pytest.raises(ValueError, match=r"same shape.*pred \(4, 5\) and truth \(5, 4\)"):
        fn(np.zeros((4, 5), int), np.ones((5, 4), int))


@pytest.mark.parametrize("fn", PAIRWISE, ids=lambda fn: fn.__name__)
def test_float_labels_are_rejected(fn):
    with pytest.raises(ValueError, match="integer or bool label image, got dtype float64"):
        fn(np.zeros((4, 4)), np.ones((4, 4), int))


def test_bool_masks_are_label_images():
    truth = np.zeros((6, 6), bool)
    truth[:3] = True
    pred = np.zeros((6, 6), bool)
    pred[:4] = True
    assert metrics.score(pred, truth, match="none")["accuracy"] == pytest.approx(30 / 36)
    np.testing.assert_array_equal(
        metrics.confusion_matrix(pred, truth), [[12, 6], [0, 18]]
    )


def test_majority_matching_maps_every_label_to_its_largest_overlap():
    rng = np.random.default_rng(5)
    truth = rng.integers(1, 4, (30, 40))
    pred = rng.integers(0, 9, (30, 40))
    result = metrics.score(pred, truth, match="majority")
    for p, t in result["mapping"].items():
        overlaps = [np.sum((pred == p) & (truth == c)) for c in (1, 2, 3)]
        assert overlaps[t - 1] == max(overlaps)
    # Once renamed, it is the plain score of the renamed labels.
    renamed = np.vectorize(result["mapping"].get)(pred)
    assert result["iou"] == pytest.approx(metrics.score(renamed, truth)["iou"])
    # A split of the truth into many pieces scores perfectly.
    pieces = truth * 100 + rng.integers(0, 5, truth.shape)
    assert metrics.score(pieces, truth, match="majority")["iou"] == 1.0


# ------------------------------------------------------------------ matching labels for colours


def test_match_labels_undoes_a_renumbering_and_keeps_the_partition():
    rng = np.random.default_rng(3)
    reference = rng.integers(1, 6, (30, 40))
    shuffled = np.array([0, 17, 4, 99, 23, 8])[reference]
    np.testing.assert_array_equal(metrics.match_labels(shuffled, reference), reference)
    split = reference.copy()
    split[:, 20:] += 10  # every region cut in two: the larger half keeps the number
    matched = metrics.match_labels(split, reference)
    pairs = set(zip(split.ravel().tolist(), matched.ravel().tolist()))
    assert len(pairs) == len(np.unique(split)) == len(np.unique(matched)), "one to one"
    assert matched.max() > reference.max(), "unpaired halves get numbers above the reference's"
    zero = reference.copy()
    zero[:5] = 0
    assert (metrics.match_labels(zero, reference)[:5] == 0).all()


@pytest.mark.parametrize("zeros", [False, True])
def test_bsds_measures_at_once_equal_the_three_functions(zeros):
    rng = np.random.default_rng(11)
    seg = rng.integers(1, 9, (40, 50))
    truths = [rng.integers(1, 5, (40, 50)), np.repeat(rng.integers(1, 4, (40, 1)), 50, axis=1)]
    if zeros:
        truths[0][:5] = 0
    together = metrics.bsds_measures(seg, truths)
    assert together["covering"] == pytest.approx(metrics.covering(seg, truths), abs=1e-12)
    assert together["pri"] == pytest.approx(metrics.probabilistic_rand_index(seg, truths),
                                            abs=1e-12)
    assert together["vi"] == pytest.approx(metrics.bsds_vi(seg, truths), abs=1e-12)
