"""The thresholds lesson: its numbers against scikit-image and scikit-learn, and the page
driven headless (every control, the two questions, all three image choices)."""

import numpy as np
import pytest
from skimage import data, filters
from sklearn.metrics import f1_score, jaccard_score

from conftest import assert_no_exception
from segcore import synthetic
from segcore.learn import thresholds as th
from segcore.methods.threshold import GLOBAL

PAGE = "pages/learn/thresholds.py"


def _images():
    rng = np.random.default_rng(1)
    return {"coins": data.coins() / 255.0, "camera": data.camera() / 255.0,
            "blobs": synthetic.noisy((96, 96)).image[:, :, 0],
            "random": rng.random((40, 60)) ** 2}


@pytest.mark.parametrize("name", list(_images()))
def test_the_curves_maximum_is_scikit_images_otsu_threshold(name):
    gray = _images()[name]
    curve = th.otsu_curve(gray)
    assert curve.threshold == pytest.approx(filters.threshold_otsu(gray), abs=1e-12)
    # the identity the lesson shows: total = within + between, at every threshold
    assert np.allclose(curve.within + curve.between, curve.total)
    assert curve.best == int(np.argmin(curve.within))


def test_within_class_variance_is_the_weighted_variance_of_the_two_classes():
    gray = _images()["coins"]
    curve = th.otsu_curve(gray)
    values = np.repeat(curve.centres, curve.counts.astype(int))  # the binned pixels
    for i in (10, 80, 200):
        lo, hi = values[values <= curve.thresholds[i]], values[values > curve.thresholds[i]]
        within = (lo.size * lo.var() + hi.size * hi.var()) / values.size
        assert curve.within[i] == pytest.approx(within, rel=1e-9)
        assert curve.weight_below[i] == pytest.approx(lo.size / values.size)
        assert curve.mean_above[i] == pytest.approx(hi.mean())


def test_a_flat_image_is_refused_in_words():
    with pytest.raises(ValueError, match="flat"):
        th.otsu_curve(np.full((4, 4), 0.3))


def test_two_means_walks_to_a_fixed_point_that_lowers_the_within_class_variance():
    for name, gray in _images().items():
        steps = th.two_means(gray)
        within = [s["within"] for s in steps]
        assert all(b <= a + 1e-15 for a, b in zip(within, within[1:])), name
        last = steps[-1]
        curve = th.otsu_curve(gray)
        # a fixed point: splitting halfway between its means gives the same split again
        i = np.searchsorted(curve.thresholds, (last["mean_below"] + last["mean_above"]) / 2,
                            side="right") - 1
        assert curve.within[i] == pytest.approx(last["within"]), name
    # where the hills are well apart two-means finds Otsu's split
    blobs = synthetic.blobs((64, 64)).image[:, :, 0]
    curve = th.otsu_curve(blobs)
    assert th.two_means(blobs)[-1]["within"] == pytest.approx(curve.within.min())


def test_every_algorithms_threshold_is_scikit_images():
    gray = _images()["camera"]
    found = th.all_thresholds(gray)
    for name, fn in GLOBAL.items():
        assert found[name] == pytest.approx(float(fn(gray))), name
    two = np.r_[np.zeros(50), np.ones(50)].reshape(10, 10)  # no two peaks after smoothing
    assert isinstance(th.all_thresholds(two)["minimum"], str)


@pytest.mark.parametrize("brighter", [True, False])
def test_scores_at_every_threshold_equal_scikit_learns(brighter):
    s = synthetic.noisy((64, 64))
    gray, objects = s.image[:, :, 0], s.truth >= 2
    ts = [0.2, 0.45, 0.5, 0.61, 0.9]
    got = th.threshold_scores(gray, objects, ts, brighter=brighter)
    for k, t in enumerate(ts):
        pred = gray > t if brighter else gray <= t
        assert got["iou"][k] == pytest.approx(jaccard_score(objects.ravel(), pred.ravel()))
        assert got["dice"][k] == pytest.approx(f1_score(objects.ravel(), pred.ravel()))
    assert th.objects_brighter(gray, objects)


def test_sauvola_at_a_pixel_is_scikit_images_everywhere_borders_included():
    gray = _images()["random"]
    expected = filters.threshold_sauvola(gray, window_size=15, k=0.3)
    for r, c in [(0, 0), (20, 25), (39, 59), (3, 55)]:
        assert th.sauvola_at(gray, r, c, window_size=15, std_weight=0.3).threshold == \
            pytest.approx(expected[r, c], abs=1e-9)


def test_on_the_page_a_local_threshold_keeps_the_dark_corner_readable():
    page = data.page() / 255.0
    out = th.local_against_global(page, window_size=31, std_weight=0.2)
    assert out["dark_ink"]["global"] > 0.5 > out["dark_ink"]["local"]
    r, c = out["pixel"]
    assert out["global_ink"][r, c] != out["local_ink"][r, c]
    assert 15 <= r < page.shape[0] - 15 and 15 <= c < page.shape[1] - 15  # not at the border
    assert out["at"].threshold == pytest.approx(out["threshold_map"][r, c], abs=1e-9)


# --------------------------------------------------------------------------- the page


def _reveal_first(at):
    at.slider(key=next(k for k in _keys(at) if k.startswith("thresholds.otsu."))).set_value(0.5)
    at.run()
    at.button(key="thresholds.otsu.reveal").click().run()
    assert_no_exception(at)


def _keys(at):
    return [s.key for s in at.slider]


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    at = open_lesson(PAGE, sample=("generated", "low contrast"))
    at.radio(key="learn.thresholds.image").set_value(choice).run()
    assert_no_exception(at)
    assert "Commit to a guess" in " ".join(c.value for c in at.caption)
    _reveal_first(at)
    feedback = " ".join(e.value for e in [*at.success, *at.warning])
    assert "Otsu's threshold is" in feedback
    at.slider(key="thresholds.t").set_value(0.3).run()
    assert_no_exception(at)
    latex = " ".join(e.value for e in at.latex)
    assert r"\sigma_B^2(t)" in latex and "Sauvola" not in latex
    notices = " ".join(e.value for e in at.info)
    assert "What to notice" in notices
    if choice == "photo":
        assert "needs the true objects" in notices
    else:
        assert "best IoU" in notices or "as good as the best" in notices
    at.slider(key="thresholds.window").set_value(15).run()
    at.slider(key="thresholds.k").set_value(0.4).run()
    at.radio(key="thresholds.page.page.guess").set_value("Most of it turns black").run()
    at.button(key="thresholds.page.reveal").click().run()
    assert_no_exception(at)
    assert any("calls" in e.value for e in [*at.success, *at.warning])
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 2


def test_the_numbers_on_the_page_follow_the_slider(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.thresholds.image").set_value("generated").run()
    _reveal_first(at)
    first = at.latex[0].value
    at.slider(key="thresholds.t").set_value(0.7).run()
    assert at.latex[0].value != first
    assert "0.7" in " ".join(e.value for e in at.info)
