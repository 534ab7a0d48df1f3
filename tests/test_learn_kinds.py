"""The lesson "What segmentation is": the five kinds of answer computed by
segcore.learn.kinds (checked against scipy, scikit-image and scikit-learn), and its
page driven headless on each of the three image choices."""

import numpy as np
import pytest
from conftest import assert_no_exception
from scipy import ndimage as ndi
from skimage import draw, filters, measure, morphology
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from segcore import io as sio
from segcore import learn, metrics, samples, synthetic
from segcore.color import to_gray
from segcore.learn import kinds
from segcore.methods.watershed import find_markers

PAGE = "pages/learn/segmentation.py"
EIGHT = np.ones((3, 3), bool)  # 8-connectivity for scipy


@pytest.fixture
def blobs():
    return synthetic.blobs()


def two_discs(shape=(40, 60), gap=0):
    """Discs of radius 10 and 8 whose edges are ``gap`` pixels apart (negative: they
    overlap), as a semantic map: 1 background, 2 discs. (Unequal, since scikit-image's
    h-maxima keep both of two equally high peaks whatever ``h`` is.)"""
    sem = np.ones(shape, np.int32)
    for cx, radius in ((18, 10), (18 + 18 + gap, 8)):
        rr, cc = draw.disk((20, cx), radius, shape=shape)
        sem[rr, cc] = 2
    return sem


def same_partition(a, b) -> bool:
    return adjusted_rand_score(np.ravel(a), np.ravel(b)) == pytest.approx(1.0)


# --------------------------------------------------------------------------- semantic


@pytest.mark.parametrize("method,reference", [("otsu", filters.threshold_otsu),
                                              ("li", filters.threshold_li)])
def test_thresholds_match_scikit_image(blobs, method, reference):
    gray = to_gray(blobs.image)
    seg = kinds.semantic(blobs.image, method=method)
    assert seg.extras["thresholds"][0] == pytest.approx(reference(gray))
    np.testing.assert_array_equal(seg.labels, 1 + (gray > reference(gray)))


def test_kmeans_partition_matches_scikit_learn():
    image = synthetic.noisy((48, 48), sigma=0.08).image
    seg = kinds.semantic(image, method="kmeans2")
    ref = KMeans(2, n_init=4, random_state=0).fit_predict(image.reshape(-1, 1))
    assert set(np.unique(seg.labels)) == {1, 2}
    assert adjusted_rand_score(ref, seg.labels.ravel()) > 0.99


def test_semantic_errors():
    with pytest.raises(ValueError, match="method must be one of"):
        kinds.semantic(np.zeros((4, 4, 1), np.float32), method="magic")
    with pytest.raises(ValueError, match="flat"):
        kinds.semantic(np.full((4, 4, 1), 0.5, np.float32), method="otsu")


def test_background_is_the_class_of_the_border():
    lab = np.full((6, 6), 3)
    lab[1:5, 1:5] = 1
    assert kinds.background_class(lab) == 3
    lab[0, :] = 1  # now the border has 6 ones... and 14 threes
    assert kinds.background_class(lab) == 3
    lab[:, 0] = 1
    lab[-1, :] = 1  # 16 ones against 4 threes
    assert kinds.background_class(lab) == 1
    tie = np.array([[2, 5], [5, 2]])
    assert kinds.background_class(tie) == 2
    border_zero = np.zeros((5, 5), int)
    border_zero[2, 2] = 4
    assert kinds.background_class(border_zero) == 4
    with pytest.raises(ValueError, match=r"\(H, W\)"):
        kinds.background_class(np.ones(5))


# --------------------------------------------------------------------------- instances


def test_connected_components_match_scipy(blobs):
    sem = kinds.semantic(blobs.image, method="otsu").labels
    ids, specks = kinds.instances(sem, how="connected")
    ref, n = ndi.label(sem == 2, structure=EIGHT)
    assert specks == 0 and ids.max() == n == 6
    assert same_partition(ids, ref)
    assert ids.dtype == np.int32 and set(np.unique(ids)) == set(range(n + 1))


def test_specks_smaller_than_min_size_get_no_instance():
    sem = np.ones((20, 20), np.int32)
    sem[2:8, 2:8] = 2  # 36 pixels
    sem[12:14, 12:14] = 2  # 4 pixels
    sem[17, 2] = 2  # 1 pixel
    ids, specks = kinds.instances(sem, how="connected", min_size=5)
    assert ids.max() == 1 and specks == 2
    assert ids[12, 12] == 0 and ids[17, 2] == 0 and ids[4, 4] == 1
    ref = morphology.remove_small_objects(sem == 2, max_size=4)
    np.testing.assert_array_equal(ids > 0, ref)
    with pytest.raises(ValueError, match="min_size"):
        kinds.instances(sem, min_size=-1)
    with pytest.raises(ValueError, match="how must be one of"):
        kinds.instances(sem, how="magic")


def test_connected_components_join_touching_objects_and_the_watershed_splits_them():
    sem = two_discs(gap=-4)  # overlapping: one patch, two round objects
    cc, _ = kinds.instances(sem, how="connected")
    ws, _ = kinds.instances(sem, how="watershed", h=0.05)
    assert cc.max() == 1 and ws.max() == 2
    np.testing.assert_array_equal(ws > 0, sem == 2)  # every object pixel has an id
    # Each disc centre ends in its own instance, split at the waist between them.
    assert {ws[20, 18], ws[20, 32]} == {1, 2}
    assert (ws[:, :24] == ws[20, 18]).sum() == (sem[:, :24] == 2).sum()
    # A high h asks for a deeper waist than this one: no split.
    assert kinds.instances(sem, how="watershed", h=0.3)[0].max() == 1


def test_watershed_never_joins_what_is_apart(blobs):
    sem = kinds.semantic(blobs.image, method="otsu").labels
    cc, _ = kinds.instances(sem, how="connected")
    for h in (0.01, 0.05, 0.2):
        ws, _ = kinds.instances(sem, how="watershed", h=h)
        np.testing.assert_array_equal(ws > 0, cc > 0)
        for i in range(1, ws.max() + 1):  # each watershed piece inside one component
            assert np.unique(cc[ws == i]).size == 1
        assert ws.max() >= cc.max()
    counts = [kinds.instances(sem, how="watershed", h=h)[0].max() for h in (0.01, 0.1, 0.5)]
    assert counts == sorted(counts, reverse=True) and counts[0] > counts[-1]


def test_a_piece_without_a_marker_keeps_an_id():
    # One big square and a thin line: the line's distance peak is below the markers'
    # prominence, so it has no marker; it must still be an instance.
    sem = np.ones((30, 30), np.int32)
    sem[2:22, 2:22] = 2
    sem[27, 2:28] = 2
    ws, _ = kinds.instances(sem, how="watershed", h=0.5)
    assert ws.max() == 2 and ws[27, 10] > 0 and ws[27, 10] != ws[10, 10]


def test_marker_prominence_is_the_engines_rule(blobs):
    mask = blobs.truth == 2
    inside = ndi.distance_transform_edt(mask)
    for h in (0.01, 0.05, 0.2):
        largest, prominence = kinds.marker_prominence(mask, h=h)
        assert largest == pytest.approx(inside.max())
        assert prominence == pytest.approx(max(h * inside.max(), 0.5))
        peaks = measure.label(morphology.h_maxima(inside, prominence) & mask).max()
        engine = find_markers(mask.astype(np.float32), None, "distance", h=h)
        assert peaks == engine.max() - 1  # the engine numbers its markers from 2
    assert kinds.marker_prominence(np.zeros((4, 4), bool), h=0.1) == (0.0, 0.5)


# --------------------------------------------------------------------------- five kinds


def test_boxes_are_the_extents_of_the_instances(blobs):
    sem = kinds.semantic(blobs.image, method="otsu").labels
    k = kinds.segmentation_kinds(sem, how="watershed", h=0.05)
    slices = ndi.find_objects(k.instances)
    assert k.boxes.shape == (k.n_instances, 4) and k.boxes.dtype == np.int32
    for (top, left, bottom, right), (rows, cols) in zip(k.boxes, slices):
        assert (top, left, bottom, right) == (rows.start, cols.start, rows.stop, cols.stop)
    assert (k.box_classes == 2).all()


def test_the_arrays_of_each_kind():
    sem = two_discs(gap=5)
    sem[0, 0] = 2  # a speck
    k = kinds.segmentation_kinds(sem, how="connected", min_size=3)
    assert k.background == 1 and k.things == [2] and k.classes == [1, 2] and k.specks == 1
    assert k.array("classification").shape == () and int(k.array("classification")) == 1
    assert k.array("detection").shape == (2, 4)
    np.testing.assert_array_equal(k.array("semantic"), sem)
    np.testing.assert_array_equal(k.array("instance"), k.instances)
    pan = k.array("panoptic")
    assert pan.shape == sem.shape + (2,) and pan.dtype == np.int32
    assert tuple(pan[0, 0]) == (0, 0)  # the speck: a thing pixel without an id is void
    assert tuple(pan[20, 18]) == (2, k.instances[20, 18]) and k.instances[20, 18] > 0
    assert tuple(pan[39, 59]) == (1, 0)  # stuff: a class, no id
    np.testing.assert_array_equal(pan[..., 0] == 0, (sem == 2) & (k.instances == 0))
    with pytest.raises(ValueError, match="kind must be one of"):
        k.array("magic")


def test_no_things_means_no_objects():
    k = kinds.segmentation_kinds(np.ones((5, 5), np.int32))
    assert k.n_instances == 0 and k.boxes.shape == (0, 4)
    assert int(k.array("classification")) == 0
    assert kinds.IMAGE_CLASSES[int(k.array("classification"))] == "no objects"


def test_the_crop_straddles_two_touching_instances():
    ws, _ = kinds.instances(two_discs(gap=-4), how="watershed", h=0.05)
    top, left = kinds.crop_window(ws)
    crop = ws[top:top + kinds.CROP_SIZE[0], left:left + kinds.CROP_SIZE[1]]
    assert crop.shape == kinds.CROP_SIZE
    assert set(np.unique(crop)) >= {1, 2}
    # One object: the crop shows its edge, so both the object and background.
    one, _ = kinds.instances(two_discs(gap=5)[:, :30], how="connected")
    top, left = kinds.crop_window(one, size=(4, 4))
    assert set(np.unique(one[top:top + 4, left:left + 4])) == {0, 1}
    # Nothing to show: the centre; a picture smaller than the crop: all of it.
    assert kinds.crop_window(np.zeros((20, 20), int), size=(4, 4)) == (7, 7)
    assert kinds.crop_window(np.zeros((3, 5), int), size=(8, 10)) == (0, 0)


def test_compare_instances():
    truth = np.zeros((10, 20), int)
    truth[2:8, 1:6], truth[2:8, 6:11], truth[2:8, 14:19] = 1, 2, 3
    merged = np.where(truth > 0, np.where(truth == 3, 2, 1), 0)  # 1 and 2 as one
    c = kinds.compare_instances(merged, truth)
    m = metrics.match_instances(merged, truth)
    # The merged one overlaps truths 1 and 2 at IoU 0.5 exactly, which counts: one match.
    assert (c["n_pred"], c["n_truth"], c["matched"]) == (2, 3, m["tp"]) == (2, 3, 2)
    assert (c["merged"], c["split"]) == (1, 0)
    assert c["pq"] == pytest.approx(metrics.panoptic_quality(merged, truth)["pq"])
    cut = truth.copy()
    cut[2:5, 14:19] = 4  # truth 3 cut in two halves
    c = kinds.compare_instances(cut, truth)
    assert (c["merged"], c["split"], c["matched"]) == (0, 1, 3)  # a half still matches at 0.5
    perfect = kinds.compare_instances(truth, truth)
    assert perfect["matched"] == 3 and perfect["pq"] == 1.0


# --------------------------------------------------------------------------- truth


@pytest.mark.parametrize("shape,n,rng", [((192, 192), 12, 0), ((64, 80), 5, 3)])
def test_blob_instances_are_the_discs_of_the_generated_blobs(shape, n, rng):
    ids = kinds.blob_instances(shape, n=n, rng=rng)
    np.testing.assert_array_equal(ids > 0, synthetic.blobs(shape, n=n, rng=rng).truth == 2)
    assert set(np.unique(ids)) == set(range(ids.max() + 1))


def test_the_truth_of_the_blobs_has_exact_instances_at_any_size(blobs):
    ids, exact = kinds.true_instances(blobs.truth)
    assert exact and ids.max() == 12
    assert ndi.label(blobs.truth == 2, structure=EIGHT)[1] == 6  # touching cells merge
    for name in ("noisy blobs", "low contrast"):
        assert kinds.true_instances(synthetic.make(name).truth)[1]
    _, small = learn.small_copy(blobs.image, blobs.truth, max_pixels=10_000)
    ids, exact = kinds.true_instances(small)
    assert exact and ids.shape == small.shape
    np.testing.assert_array_equal(ids > 0, small == 2)


def test_other_truths_count_their_connected_pieces():
    truth = synthetic.shapes().truth
    ids, exact = kinds.true_instances(truth)
    assert not exact and ids.max() == 3
    np.testing.assert_array_equal(ids > 0, truth >= 2)
    touching = np.array([[1, 2, 3, 1, 2]])  # classes 2 and 3 touch: still two objects
    assert kinds.true_instances(touching)[0].tolist() == [[0, 1, 3, 0, 2]]  # class by class


# --------------------------------------------------------------------------- pictures


@pytest.mark.parametrize("kind", list(kinds.KINDS))
def test_every_kind_is_drawn(kind):
    sem = two_discs(gap=-4)
    sem[0, 0] = 2
    image = np.linspace(0, 1, sem.size, dtype=np.float32).reshape(sem.shape + (1,))
    k = kinds.segmentation_kinds(sem, how="watershed", min_size=3)
    pic = kinds.kind_picture(image, k, kind)
    assert pic.shape == sem.shape + (3,) and pic.dtype == np.float32
    assert 0 <= pic.min() and pic.max() <= 1
    assert not np.allclose(pic, np.repeat(image, 3, axis=2))  # something is drawn


def test_what_the_pictures_show():
    sem = two_discs(gap=5)
    sem[0, 0] = 2
    image = np.full(sem.shape + (1,), 0.5, np.float32)
    k = kinds.segmentation_kinds(sem, min_size=3)
    cls = kinds.kind_picture(image, k, "classification")
    assert np.allclose(cls, cls[0, 0])  # one answer, one colour, everywhere
    det = kinds.kind_picture(image, k, "detection")
    top, left, bottom, right = k.boxes[0]
    assert not np.allclose(det[top, left + 3], 0.5) and np.allclose(det[20, 18], 0.5)
    pan = kinds.kind_picture(image, k, "panoptic")
    assert (pan[0, 0] == 0).all()  # void
    assert not np.allclose(pan[20, 18], pan[20, 18 + 25])  # two things, two colours
    with pytest.raises(ValueError, match="kind must be one of"):
        kinds.kind_picture(image, k, "magic")


def test_mark_window_frames_the_crop():
    pic = np.zeros((20, 20, 3), np.float32)
    out = kinds.mark_window(pic, (5, 6), size=(3, 4))
    frame = np.zeros((20, 20), bool)
    frame[4, 5:11] = frame[8, 5:11] = frame[4:9, 5] = frame[4:9, 10] = True
    np.testing.assert_array_equal(out[..., 0] == 1, frame)
    assert not pic.any()  # the picture itself is left alone
    edge = kinds.mark_window(pic, (0, 0), size=(3, 4))  # clipped at the border
    assert edge[3, 0:5].all() and edge[0:3, 4].all()


# --------------------------------------------------------------------------- the page


def expected_count(choice: str, method: str = "otsu", min_size: int = 30) -> int:
    """What the page should reveal, computed here from the same small copy."""
    if choice == "generated":
        image = synthetic.make("blobs").image
    else:
        name = "coins" if choice == "photo" else "astronaut"
        image = sio.load_image(samples.skimage_png(name))
    small, _ = learn.small_copy(image)
    sem = kinds.semantic(small, method=method).labels
    return int(kinds.instances(sem, how="connected", min_size=min_size)[0].max())


def guess_slider(at):
    return next(s for s in at.slider if s.key.startswith("learn.segmentation.count."))


def all_text(at) -> str:
    parts = [at.markdown, at.caption, at.info, at.success, at.warning, at.latex]
    return " ".join(str(e.value) for part in parts for e in part)


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    # "Yours" is the colour astronaut without a truth, picked on the Image page.
    at = open_lesson(PAGE, sample=("scikit-image", "astronaut"))
    at.radio(key="learn.segmentation.image").set_value(choice).run()
    assert_no_exception(at)
    assert not at.radio(key="learn.segmentation.image").value != choice
    at.slider(key="learn.segmentation.min_size").set_value(40).run()
    for method in kinds.SEMANTIC_METHODS:
        at.selectbox(key="learn.segmentation.method").set_value(method).run()
        assert_no_exception(at)
        assert "Five kinds" not in all_text(at)  # hidden until the learner answers
    at.selectbox(key="learn.segmentation.method").set_value("otsu").run()
    answer = expected_count(choice, "otsu", 40)
    guess_slider(at).set_value(int(answer)).run()
    at.button(key="learn.segmentation.count.reveal").click().run()
    assert_no_exception(at)
    assert len(at.success) == 1 and f"finds **{answer}** instances" in at.success[0].value

    for how in kinds.INSTANCE_METHODS:
        at.radio(key="learn.segmentation.how").set_value(how).run()
        assert_no_exception(at)
    at.slider(key="learn.segmentation.h").set_value(0.2).run()
    for kind in kinds.KINDS:
        at.radio(key="learn.segmentation.kind").set_value(kind).run()
        assert_no_exception(at)
        shape = {"classification": "`()`", "detection": ", 4)`", "semantic": "`(",
                 "instance": "`(", "panoptic": ", 2)`"}[kind]
        facts = next(str(m.value) for m in at.markdown if "As an array" in str(m.value))
        assert shape in facts.split("shape")[1]
    text = all_text(at)
    notice = next(str(i.value) for i in at.info if "What to notice" in str(i.value))
    if choice == "generated":
        assert "the truth has 12" in notice or "in the truth" in notice
        assert "N = 6" in text  # connected components: the touching cells merged
    else:
        assert "Without a ground truth" in notice
        assert "No ground truth" in text


def test_a_wrong_guess_is_told_and_a_new_setting_asks_again(open_lesson):
    at = open_lesson(PAGE, sample=("generated", "blobs"))
    at.radio(key="learn.segmentation.image").set_value("generated").run()
    guess_slider(at).set_value(40).run()
    at.button(key="learn.segmentation.count.reveal").click().run()
    assert_no_exception(at)
    assert len(at.warning) == 1 and "finds **6** instances" in at.warning[0].value
    assert "The ground truth has **12** objects" in all_text(at)
    assert at.dataframe[-1].value["instances"].tolist() == [6, 10]  # connected, watershed
    at.slider(key="learn.segmentation.min_size").set_value(100).run()
    assert_no_exception(at)
    assert not at.warning and not at.success  # another setting: predict again
    assert "Five kinds" not in all_text(at)
