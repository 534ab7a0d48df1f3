"""The metrics lesson: its experiments against scikit-image, scipy and scikit-learn (the
scores themselves come from segcore.metrics), and the page driven headless (every
control, the six questions, all three image choices and an own image without truth)."""

import numpy as np
import pytest
from scipy import ndimage
from scipy.spatial import cKDTree
from skimage import data, filters, measure, morphology
from skimage.segmentation import find_boundaries
from sklearn.metrics import (accuracy_score, f1_score, jaccard_score, precision_score,
                             recall_score)

from conftest import assert_no_exception
from segcore import learn, metrics, synthetic
from segcore.learn import metrics as lm

PAGE = "pages/learn/metrics.py"


def _masks():
    rng = np.random.default_rng(3)
    horse = ~data.horse()[::3, ::3]  # the silhouette, small
    edge = np.zeros((30, 40), bool)
    edge[:, :15] = True  # touches the frame
    edge[20:, 30:] = True
    return {"horse": horse, "blobs": synthetic.blobs((64, 64)).truth == 2,
            "edge": edge, "speckle": edge | (rng.random(edge.shape) > 0.9)}


@pytest.mark.parametrize("name", list(_masks()))
def test_growing_and_eroding_is_scikit_images_and_scipys_morphology_with_a_disc(name):
    mask = _masks()[name]
    for r in (1, 2, 3, 5):
        disc = morphology.disk(r)
        grown = lm.moved(mask, grow=r)
        assert np.array_equal(grown, morphology.dilation(mask, disc)), r
        assert np.array_equal(grown, ndimage.binary_dilation(mask, disc)), r
        eroded = lm.moved(mask, grow=-r)
        assert np.array_equal(eroded, morphology.erosion(mask, disc)), r
        # the frame is not an edge of the object: scipy's border_value=1
        assert np.array_equal(eroded, ndimage.binary_erosion(mask, disc, border_value=1)), r


def test_a_shift_moves_whole_pixels_and_fills_with_background_as_scipy():
    mask = _masks()["edge"]
    for shift in [(0, 3), (-2, 5), (4, -7), (0, 0), (-29, 0), (0, 45)]:
        expected = ndimage.shift(mask.astype(np.uint8), shift, order=0, cval=0).astype(bool)
        assert np.array_equal(lm.moved(mask, shift=shift), expected), shift


def test_empty_and_full_masks_stay_as_they_are():
    empty, full = np.zeros((5, 6), bool), np.ones((5, 6), bool)
    assert not lm.moved(empty, grow=3).any() and not lm.moved(empty, grow=-3).any()
    assert lm.moved(full, grow=-2).all() and lm.moved(full, grow=2).all()


@pytest.mark.parametrize("shift", [(0, 0), (0, 3), (-4, 2)])
def test_every_score_of_the_curves_is_scikit_learns(shift):
    truth = _masks()["blobs"]
    grows = [-6, -2, 0, 1, 4, 10]
    curve = lm.grow_curve(truth, grows, shift=shift)
    y = truth.ravel()
    for k, g in enumerate(grows):
        p = lm.moved(truth, shift=shift, grow=g).ravel()
        assert curve["iou"][k] == pytest.approx(jaccard_score(y, p, zero_division=0))
        assert curve["dice"][k] == pytest.approx(f1_score(y, p, zero_division=0))
        assert curve["precision"][k] == pytest.approx(precision_score(y, p, zero_division=0))
        assert curve["recall"][k] == pytest.approx(recall_score(y, p, zero_division=0))
        assert curve["accuracy"][k] == pytest.approx(accuracy_score(y, p))


def test_dice_is_two_iou_over_one_plus_iou_and_never_below_it():
    truth = _masks()["horse"]
    curve = lm.grow_curve(truth, range(-10, 11), shift=(2, -3))
    assert np.allclose(lm.dice_from_iou(curve["iou"]), curve["dice"])
    assert np.all(curve["dice"] >= curve["iou"])
    assert lm.dice_from_iou(0.0) == 0.0 and lm.dice_from_iou(1.0) == 1.0
    # growing from the truth: IoU falls more than Dice (the lesson's first answer)
    assert np.all(1 - curve["iou"] >= 1 - curve["dice"])


def test_extra_background_raises_accuracy_and_leaves_iou_alone():
    truth = _masks()["blobs"]
    pred = lm.moved(truth, shift=(0, 3))
    pads = [0, 10, 50, 200]
    c = lm.background_curve(truth, pred, pads)
    for k, pad in enumerate(pads):
        t, p = lm.with_background(truth, pad).ravel(), lm.with_background(pred, pad).ravel()
        assert c["accuracy"][k] == pytest.approx(accuracy_score(t, p))
        assert c["empty_accuracy"][k] == pytest.approx(accuracy_score(t, np.zeros_like(t)))
        assert c["empty_accuracy"][k] == pytest.approx(1 - c["object_share"][k])
        assert c["iou"][k] == pytest.approx(jaccard_score(t, p))
    assert c["empty_iou"].max() == 0
    assert np.ptp(c["iou"]) == 0 and np.all(np.diff(c["accuracy"]) > 0)
    assert lm.framed_picture(np.zeros(truth.shape + (1,)), pred, truth, 7).shape == \
        (truth.shape[0] + 14, truth.shape[1] + 14, 3)


def test_one_bad_object_changes_that_object_only_and_scores_each_object_as_scikit_learn():
    objects = synthetic.blobs((96, 96)).instances
    bad = lm.pick_object(objects, "the smallest")
    sizes = np.bincount(objects.ravel())[1:]
    assert bad == sizes.argmin() + 1 and lm.pick_object(objects, "the largest") == sizes.argmax() + 1
    pred = lm.one_bad_object(objects, bad, shift=(0, 4))
    keep = (objects != bad) & (pred != bad)
    assert np.array_equal(pred[keep & (objects > 0)], objects[keep & (objects > 0)])
    s = lm.object_scores(pred, objects)
    for k, i in enumerate(s["ids"]):
        assert s["iou"][k] == pytest.approx(jaccard_score((objects == i).ravel(), (pred == i).ravel()))
        assert s["dice"][k] == pytest.approx(f1_score((objects == i).ravel(), (pred == i).ravel()))
    assert s["pooled_iou"] == pytest.approx(jaccard_score((objects > 0).ravel(), (pred > 0).ravel()))
    assert s["mean_iou"] == pytest.approx(s["iou"].mean())
    with pytest.raises(ValueError, match="smallest"):
        lm.pick_object(objects, "the middle one")


def test_a_half_right_object_costs_the_mean_iou_more_and_a_lost_one_costs_both_alike():
    objects = synthetic.blobs((96, 96)).instances
    bad = lm.pick_object(objects, "the largest")
    for shift in (1, 3, 6, 10):
        s = lm.object_scores(lm.one_bad_object(objects, bad, shift=(0, shift)), objects)
        assert 1 - s["mean_iou"] > 1 - s["mean_dice"] > 0
    lost = lm.object_scores(lm.one_bad_object(objects, bad, grow=-100), objects)
    assert lost["mean_iou"] == pytest.approx(lost["mean_dice"])
    # pooled, a small object matters less than averaged; a large one more
    small = lm.object_scores(lm.one_bad_object(objects, lm.pick_object(objects, "the smallest"),
                                               shift=(0, 4)), objects)
    assert 1 - small["pooled_iou"] < 1 - small["mean_iou"]


def _brute_boundary_f1(pred, truth, tolerance):
    a = np.argwhere(find_boundaries(pred, connectivity=1, mode="thick"))
    b = np.argwhere(find_boundaries(truth, connectivity=1, mode="thick"))
    p = np.mean(cKDTree(b).query(a)[0] <= tolerance)
    r = np.mean(cKDTree(a).query(b)[0] <= tolerance)
    return p, r


@pytest.mark.parametrize("shift,tolerance", [(2, 2), (3, 1), (5, 0), (0, 0), (4, 6)])
def test_boundary_pixels_count_what_boundary_f1_scores(shift, tolerance):
    truth = _masks()["horse"]
    pred = lm.moved(truth, shift=(0, shift))
    bf = metrics.boundary_f1(pred, truth, tolerance=tolerance)
    px = lm.boundary_pixels(pred, truth, tolerance=tolerance)
    assert bf["precision"] == pytest.approx(px["near"].sum() / (px["near"] | px["far"]).sum())
    assert bf["recall"] == pytest.approx(px["found"].sum() / (px["found"] | px["missed"]).sum())
    assert (bf["precision"], bf["recall"]) == pytest.approx(_brute_boundary_f1(pred, truth, tolerance))
    curve = lm.boundary_curve(pred, truth, [0, tolerance, 10])
    assert curve[1] == pytest.approx(bf["f1"]) and np.all(np.diff(curve) >= 0)
    if shift <= tolerance:  # the horse is inside the frame: a small shift is forgiven
        assert bf["f1"] == 1.0


def test_the_methods_objects_are_the_connected_pieces_of_otsus_split_of_the_blurred_image():
    s = synthetic.noisy((96, 96))
    found = lm.method_objects(s.image, sigma=1.0, how="connected")
    blurred = filters.gaussian(s.image[:, :, 0], sigma=1.0)
    expected = measure.label(blurred > filters.threshold_otsu(blurred), connectivity=2)
    table = metrics.confusion_matrix(found, expected)
    assert (table > 0).sum(axis=1).max() == 1 and (table > 0).sum(axis=0).max() == 1
    split = lm.method_objects(s.image, sigma=1.0, how="watershed")
    assert np.array_equal(split > 0, found > 0) and split.max() >= found.max()


def test_the_horses_truth_is_its_silhouette():
    # The sample's exact truth (segcore.samples) is the picture's dark pixels.
    from segcore import samples

    picture = samples.skimage_picture("horse")
    assert np.array_equal(learn.objects(samples.skimage_truth("horse")), picture < 128)


def test_the_pictures_colour_what_the_scores_count():
    truth = _masks()["blobs"]
    pred = lm.moved(truth, shift=(0, 3))
    image = np.zeros(truth.shape + (1,), np.float32)
    kinds = metrics.error_kinds(np.where(pred, 2, 1), np.where(truth, 2, 1), positive=[2])
    pic = lm.error_picture(image, pred, truth)
    s = metrics.binary_scores(pred, truth)
    green = np.all(np.isclose(pic, [0.0, 0.62, 0.45]), axis=-1)
    assert green.sum() == s["tp"] == (kinds == 1).sum()
    objects = synthetic.blobs((64, 64)).instances
    found = lm.one_bad_object(objects, 1, shift=(0, 12))
    m = metrics.match_instances(found, objects)
    pic = lm.match_picture(image, found, objects, m["pairs"])
    orange = np.all(np.isclose(pic, [0.84, 0.37, 0.0]), axis=-1)
    assert orange.any() == (m["fp"] > 0)


def test_the_equations_carry_the_live_numbers():
    truth = _masks()["blobs"]
    s = metrics.binary_scores(lm.moved(truth, grow=2), truth)
    text = lm.overlap_latex(s)
    assert f"{s['iou']:.3f}" in text and lm.latex_count(s["fp"]) in text
    assert f"{s['precision']:.3f}" in lm.precision_recall_latex(s)
    objects = synthetic.blobs((64, 64)).instances
    found = lm.one_bad_object(objects, 2, shift=(0, 3))
    m, ap = metrics.match_instances(found, objects), metrics.average_precision(found, objects)
    pq = metrics.panoptic_quality(found, objects)
    assert f"{pq['pq']:.3f}" in lm.objects_latex(m, ap, pq, 0.5)
    assert f"{ap['ap']:.3f}" in lm.objects_latex(m, ap, pq, 0.5)


# --------------------------------------------------------------------------- the page


def _guess(at, question):
    return next(w for w in [*at.radio, *at.slider]
                if w.key and w.key.startswith(f"metrics.{question}.") and w.key.endswith(".guess"))


def _answer(at, question, value):
    _guess(at, question).set_value(value).run()
    at.button(key=f"metrics.{question}.reveal").click().run()
    assert_no_exception(at)


def _text(at) -> str:
    return " ".join(e.value for e in [*at.info, *at.success, *at.warning, *at.caption])


@pytest.mark.parametrize("choice,sample", [("photo", None), ("generated", None),
                                           ("yours", ("generated", "blobs"))])
def test_the_lesson_on_each_image(open_lesson, choice, sample):
    at = open_lesson(PAGE, sample=sample)
    at.radio(key="learn.metrics.image").set_value(choice).run()
    assert_no_exception(at)
    # the first question of the page is the first thing a learner answers
    assert next(w.key for w in at.radio if w.key.endswith(".guess")).startswith("metrics.grow.")
    assert "open the explorer" in _text(at)
    _answer(at, "grow", "IoU")
    _answer(at, "accuracy", 0.7)
    _answer(at, "erode", "Precision")
    _answer(at, "bad", "Mean IoU")
    _answer(at, "boundary", 1.0)
    _answer(at, "matched", 1)
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 6
    assert at.session_state[ANSWERS]["metrics.grow"] and at.session_state[ANSWERS]["metrics.erode"]
    assert at.session_state[ANSWERS]["metrics.bad"]
    for key, value in [("shift_right", -5), ("shift_down", 4), ("grow", 3), ("frame", 200),
                       ("pr_grow", 5), ("bad_shift", 9), ("edge_shift", 5), ("tolerance", 1),
                       ("sigma", 2.0), ("threshold", 0.7)]:
        at.slider(key=f"learn.metrics.{key}").set_value(value).run()
        assert_no_exception(at)
    at.radio(key="learn.metrics.bad_object").set_value("the largest").run()
    at.radio(key="learn.metrics.how").set_value("watershed").run()
    assert_no_exception(at)
    notices = [e.value for e in at.info if e.value.startswith("**What to notice.**")]
    assert len(notices) == 6
    text = " ".join(notices)
    assert "Framed by 200 px" in text and "Shifted 5 px, at 1 px tolerance" in text
    assert "matched at 0.70" in text
    latex = " ".join(e.value for e in at.latex)
    assert r"\mathrm{PQ}" in latex and "P_b" in latex and r"\overline{\mathrm{IoU}}" in latex
    if choice == "photo":
        assert "silhouette" in _text(at) and "has one object" in _text(at)


def test_the_numbers_follow_the_explorer(open_lesson):
    at = open_lesson(PAGE)
    _answer(at, "grow", "Dice")
    assert "Not quite" in " ".join(e.value for e in at.warning)
    first = at.latex[1].value
    at.slider(key="learn.metrics.shift_right").set_value(0).run()
    assert at.latex[1].value != first and "= 1.000" in at.latex[1].value  # the truth itself


def test_an_own_image_without_a_usable_truth_gives_way_to_the_generated_one(open_lesson):
    at = open_lesson(PAGE)  # the default sample has no truth
    at.radio(key="learn.metrics.image").set_value("yours").run()
    assert_no_exception(at)
    assert "has no ground truth" in _text(at) and "noisy blobs" in _text(at)
    cur = at.session_state["current"]
    at.session_state["current"] = cur.with_truth(np.ones(cur.shape, np.int32))
    at.run()
    assert_no_exception(at)
    assert "without objects and background" in _text(at)
    _answer(at, "grow", "IoU")
    # a flat image with a truth: every section but the method's works; that one says why
    from seglab.state import CurrentImage

    flat = np.full((40, 50, 1), 0.4, np.float32)
    truth = np.ones((40, 50), np.int32)
    truth[10:20, 10:30] = 2
    at.session_state["current"] = CurrentImage(name="flat.png", origin="upload", key="flat",
                                               image=flat, preview=flat).with_truth(truth)
    at.run()
    assert_no_exception(at)
    assert "cannot split this image" in " ".join(w.value for w in at.warning)
    _answer(at, "boundary", 1.0)
