"""The k-means lesson: its half-step history against scikit-learn's and scipy's
k-means, the numbers it shows, and the page driven through every control."""

import numpy as np
import pytest
from conftest import assert_no_exception
from scipy import ndimage
from scipy.cluster.vq import vq
from sklearn.cluster import KMeans, kmeans_plusplus

from segcore import io as sio
from segcore import learn, samples, synthetic
from segcore.learn import kmeans as km
from segcore.methods.clustering import pixel_features

PAGE = "pages/learn/kmeans.py"


@pytest.fixture(scope="module")
def photo():
    """A small copy of the lesson's photo (chelsea): real colours, no truth."""
    image = sio.load_image(samples.skimage_png("chelsea"))
    return learn.small_copy(image, max_pixels=3000)[0]


@pytest.fixture(scope="module")
def shapes():
    s = synthetic.colour_shapes((48, 64))
    return s.image, s.truth


# --------------------------------------------------------------------------- the run


@pytest.mark.parametrize("space, xy_weight", [("lab", 0.0), ("rgb", 0.5), ("gray", 0.0)])
def test_the_step_by_step_run_ends_where_scikit_learn_ends(photo, space, xy_weight):
    x = pixel_features(photo, space, xy_weight)
    init = km.start_centres(x, 4, start="random pixels", rng=1)
    steps, settled = km.half_steps(x, init)
    ref = KMeans(4, init=init, n_init=1, max_iter=km.MAX_ITER, tol=km.TOL,
                 algorithm="lloyd").fit(x)
    np.testing.assert_allclose(steps[-1].centres, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(vq(x, steps[-1].assigned)[0], ref.labels_)
    assert steps[-1].inertia == pytest.approx(ref.inertia_, rel=1e-9)
    assert steps[-2].round == ref.n_iter_ and settled


def test_every_assign_is_the_nearest_centre_and_every_move_the_mean(photo):
    x = pixel_features(photo, "lab")
    steps, _ = km.half_steps(x, km.start_centres(x, 3, start="k-means++", rng=0))
    for before, here in zip(steps, steps[1:]):
        codes, dist = vq(x, here.assigned)  # scipy's nearest centre, as a reference
        if here.kind == "assign":
            np.testing.assert_array_equal(here.centres, before.centres)
            assert here.inertia == pytest.approx((dist ** 2).sum(), rel=1e-9)
        else:
            for j in range(3):
                mean = x[codes == j].mean(0) if (codes == j).any() else here.assigned[j]
                np.testing.assert_allclose(here.centres[j], mean, atol=1e-12)
            assert here.inertia == pytest.approx(((x - here.centres[codes]) ** 2).sum(),
                                                 rel=1e-9)


@pytest.mark.parametrize("start", km.STARTS)
def test_inertia_never_rises_from_one_half_step_to_the_next(photo, start):
    r = km.run(photo, k=5, space="lab", start=start, rng=2)
    values = [s.inertia for s in r.steps[1:]]
    assert all(b <= a * (1 + 1e-12) for a, b in zip(values, values[1:]))
    assert [s.kind for s in r.steps] == ["start"] + ["assign", "move"] * r.rounds + ["assign"]


def test_the_starts():
    x = np.random.default_rng(0).random((200, 3))
    np.testing.assert_array_equal(km.start_centres(x, 4, start="k-means++", rng=5),
                                  kmeans_plusplus(x, 4, random_state=5)[0])
    picked = km.start_centres(x, 4, start="random pixels", rng=5)
    assert len({tuple(p) for p in picked}) == 4 and all((x == p).all(1).any() for p in picked)
    np.testing.assert_allclose(km.start_centres(x, 4, start="evenly spaced"),
                               np.repeat([[0.125], [0.375], [0.625], [0.875]], 3, axis=1))
    np.testing.assert_allclose(km.start_centres(x, 2, start="evenly spaced", top=[1, 1, 4]),
                               [[0.25, 0.25, 1.0], [0.75, 0.75, 3.0]])


def test_an_evenly_spaced_start_empties_clusters_and_ends_worse_on_the_photo():
    # The lesson's claim, on the lesson's own copy of its photo.
    image = sio.load_image(samples.skimage_png("chelsea"))
    image = learn.small_copy(image, max_pixels=km.LESSON_PIXELS)[0]
    bad = km.run(image, k=4, space="lab", start="evenly spaced")
    good = km.run(image, k=4, space="lab", start="k-means++")
    assert km.summary(bad, len(bad.steps) - 1).empty
    assert not km.summary(good, len(good.steps) - 1).empty
    assert km.compare_inertia(bad.final_inertia, good.final_inertia) == "higher"


def test_a_flat_image_leaves_a_cluster_empty_without_a_warning():
    r = km.run(np.full((5, 6, 3), 0.3, np.float32), k=3, space="rgb", start="k-means++")
    assert r.final_inertia == 0.0
    assert km.counts(r, len(r.steps) - 1).tolist() == [30, 0, 0]
    assert km.summary(r, 1).empty == (2, 3)


def test_position_features_are_the_engines(shapes):
    image, _ = shapes
    r = km.run(image, k=3, space="hsv", xy_weight=0.5, start="evenly spaced")
    np.testing.assert_array_equal(r.features, pixel_features(image, "hsv", 0.5))
    assert r.names == ("hue", "saturation", "value", "row × 0.5", "column × 0.5")
    # evenly spaced runs to the bottom-right pixel's place
    np.testing.assert_allclose(r.steps[0].centres[-1],
                               5 / 6 * np.r_[1.0, 1.0, 1.0, r.features[-1, 3:]])


# --------------------------------------------------------------------------- the numbers shown


def test_distances_next_cluster_and_switching_pixels(shapes):
    image, _ = shapes
    r = km.run(image, k=4, space="rgb", start="random pixels", rng=3)
    x = r.features
    h, w = r.shape
    for step in range(len(r.steps)):
        here = r.steps[step]
        pixel = (step * 7 % h, step * 13 % w)
        centres = here.centres if here.assigned is None else here.assigned
        expected = ((centres - x[pixel[0] * w + pixel[1]]) ** 2).sum(1)
        np.testing.assert_allclose(km.distances(r, step, pixel), expected)
        target = km.next_assign(r, step)
        assert target is None or (r.steps[target].kind == "assign" and target > step)
        later = km.step_labels(r, target if target is not None else len(r.steps) - 1)
        assert km.next_cluster(r, step, pixel) == later[pixel]
        mask = km.switching(r, step)
        np.testing.assert_array_equal(
            mask, np.zeros(r.shape, bool) if target is None else later != km.step_labels(r, step))
        labels = km.step_labels(r, step)
        np.testing.assert_array_equal(km.counts(r, step),
                                      [(labels == j).sum() for j in range(1, 5)] if step else 0)


def test_the_summary_counts_what_each_half_step_did(shapes):
    image, _ = shapes
    r = km.run(image, k=4, space="lab", start="random pixels", rng=0)
    first = km.summary(r, 1)
    assert first.changed == image.shape[0] * image.shape[1] and first.previous is None
    for step in range(2, len(r.steps)):
        s = km.summary(r, step)
        before, now = km.step_labels(r, step - 1), km.step_labels(r, step)
        assert s.changed == int((before != now).sum())
        if s.kind == "move":
            assert s.changed == 0
            shift = np.sqrt(((r.steps[step].centres - r.steps[step - 1].centres) ** 2).sum(1))
            assert s.moved == pytest.approx(shift.max())
        assert s.last == (step == len(r.steps) - 1)


def test_nearest_pixel_and_pieces_match_scipy():
    mask = np.zeros((9, 9), bool)
    mask[[0, 8, 4], [0, 8, 7]] = True
    assert km.nearest_pixel(mask, (3, 5)) == (4, 7)
    labels = np.random.default_rng(0).integers(1, 4, (30, 40))
    expected = sum(ndimage.label(labels == v)[1] for v in (1, 2, 3))  # 4-connected
    assert km.pieces(labels) == expected


def test_compare_inertia():
    assert km.compare_inertia(102.0, 100.0) == "higher"
    assert km.compare_inertia(99.5, 100.0) == "about the same"
    assert km.compare_inertia(90.0, 100.0) == "lower"


def test_the_pictures_and_equations_carry_the_live_numbers(shapes):
    image, _ = shapes
    r = km.run(image, k=3, space="rgb", start="k-means++", rng=0)
    start = km.step_picture(r, 0, image)
    np.testing.assert_array_equal(start, image)
    marked = km.step_picture(r, 1, image, pixel=(10, 10))
    plain = km.step_picture(r, 1, image)
    assert marked[7, 9].tolist() == [0, 0, 0] and marked[14, 12].tolist() == [1, 1, 1]
    np.testing.assert_array_equal(marked[8:13, 8:13], plain[8:13, 8:13])  # the pixel shows
    d = km.distances(r, 1, (10, 10))
    text = km.assign_latex(r, 1, (10, 10))
    shown = [f"{v:.4f}" if v >= 1e-3 else f"{v:.3e}".split("e")[0] for v in d]
    assert all(v in text for v in shown)
    assert text.endswith(f"= {d.argmin() + 1}\\end{{gathered}}")
    j = int(km.step_labels(r, 1)[10, 10])
    members = km.step_labels(r, 1) == j
    assert f"{int(members.sum()):,}".replace(",", "{,}") in km.move_latex(r, 1, j)
    assert f"{r.steps[2].inertia:.3f}" in km.inertia_latex(r, 2)


def test_the_feature_picture_draws_clusters_centres_and_their_moves(shapes):
    image, _ = shapes
    r = km.run(image, k=3, space="lab", start="evenly spaced", rng=0)
    sample = km.sample_pixels(image.shape[0] * image.shape[1], size=500)
    palette = (km.label_palette(3) * 255).astype(np.uint8)
    start, moved = (km.feature_picture(r, step, image, sample=sample, pixel=(5, 5), size=200)
                    for step in (1, 2))
    assert start.shape == (200, 200, 3) and start.dtype == np.uint8
    for j in (1, 2, 3):  # every cluster's colour is on the picture (pixels and centre)
        assert (moved == palette[j]).all(-1).sum() > 20, j
    assert (start != moved).any()  # the move step moved the centres
    gray = km.run(image[:, :, :1], k=2, space="lab", start="k-means++")
    with pytest.raises(ValueError, match="three features"):
        km.feature_picture(gray, 0, image[:, :, :1], sample=np.arange(50))


def test_the_figures(shapes):
    image, _ = shapes
    r = km.run(image, k=3, space="lab", start="k-means++", rng=0)
    sample = km.sample_pixels(image.shape[0] * image.shape[1], size=500)
    fig = km.feature_figure(r, 2, image, sample=sample, pixel=(5, 5))
    clusters = [t for t in fig.data if (t.name or "").startswith("cluster")]
    assert len(clusters) == 3 and sum(len(t.x) for t in clusters) == 500
    assert fig.data[0].type == "scatter3d"
    gray = km.run(image[:, :, :1], k=2, space="lab", start="k-means++")
    assert km.feature_figure(gray, 0, image[:, :, :1], sample=np.arange(50)).data[0].type == \
        "scatter"
    fig = km.inertia_figure(r, 3, other=gray)
    assert [t.name for t in fig.data][-1] == "k-means++ start"
    assert fig.layout.shapes[0].x0 == 3


def test_documented_errors():
    x = np.zeros((5, 3))
    with pytest.raises(ValueError, match="start must be one of"):
        km.start_centres(x, 2, start="anywhere")
    with pytest.raises(ValueError, match="k must be between 1 and the number of pixels"):
        km.start_centres(x, 6, start="k-means++")
    with pytest.raises(ValueError, match="colour space must be one of"):
        km.feature_names("cmyk")
    r = km.run(np.zeros((4, 4, 1), np.float32), k=2, space="gray", start="evenly spaced")
    with pytest.raises(ValueError, match="pixel must be inside the 4 × 4 image"):
        km.distances(r, 1, (4, 0))
    with pytest.raises(ValueError, match="image must be"):
        km.run(np.zeros((4, 4)), k=2, space="gray", start="evenly spaced")


# --------------------------------------------------------------------------- the page


def _guess(at, question: str):
    return next(r for r in at.radio if r.key and r.key.startswith(f"kmeans.{question}.")
                and r.key.endswith(".guess"))


def _answer(at, question: str, option: str) -> str:
    _guess(at, question).set_value(option).run()
    at.button(key=f"kmeans.{question}.reveal").click().run()
    assert_no_exception(at)
    said = [m.value for m in list(at.success) + list(at.warning) if "you said" in m.value]
    assert said, "the answer was not revealed"
    return said[-1]


def _step_caption(at) -> str:
    return next(c.value for c in at.caption if c.value.startswith("Step "))


def _take_every_step(at) -> None:
    """Assign and Move in turn until the run ends, then back, to the end, to the start."""
    assert _step_caption(at).startswith("Step 0 of")
    last = int(_step_caption(at).split(" of ")[1].split(":")[0])
    for step in range(1, last + 1):
        name = "kmeans.assign" if step % 2 else "kmeans.move"
        assert not at.button(key=name).disabled
        at.button(key=name).click().run()
        assert_no_exception(at)
        assert at.slider(key="kmeans.step").value == step
    assert at.button(key="kmeans.assign").disabled and at.button(key="kmeans.move").disabled
    at.button(key="kmeans.back").click().run()
    assert at.slider(key="kmeans.step").value == last - 1
    at.button(key="kmeans.reset").click().run()
    assert at.slider(key="kmeans.step").value == 0
    at.button(key="kmeans.end").click().run()
    assert at.slider(key="kmeans.step").value == last


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    # photo: colour, no truth; generated: colour with truth; yours: coins, gray, no truth
    at = open_lesson(PAGE)
    at.radio(key="learn.kmeans.image").set_value(choice).run()
    assert_no_exception(at)
    if choice == "generated":  # few rounds: every half-step by its button
        _take_every_step(at)
    else:
        at.button(key="kmeans.assign").click().run()
        at.button(key="kmeans.move").click().run()
        assert at.slider(key="kmeans.step").value == 2
        at.button(key="kmeans.back").click().run()
        at.button(key="kmeans.end").click().run()
        at.button(key="kmeans.reset").click().run()
        at.slider(key="kmeans.step").set_value(3).run()
    assert_no_exception(at)
    # the pixel question, answered and revealed at this step
    said = _answer(at, "pixel", "cluster 2")
    assert "squared distances" in said
    # the feature space as a quick picture (default), or a view to turn
    if choice != "yours":
        assert not at.get("plotly_chart") or all(
            "scatter3d" not in str(c.proto.spec) for c in at.get("plotly_chart"))
        at.toggle(key="learn.kmeans.turnable").set_value(True).run()
        assert any("scatter3d" in str(c.proto.spec) for c in at.get("plotly_chart"))
        at.toggle(key="learn.kmeans.turnable").set_value(False).run()
        assert_no_exception(at)
    # the picked pixel, then one that switches cluster at the next assign
    at.slider(key="kmeans.row").set_value(5).run()
    at.slider(key="kmeans.col").set_value(7).run()
    assert "row 5, column 7" in " ".join(m.value for m in at.markdown)
    if not at.button(key="kmeans.pick").disabled:
        at.button(key="kmeans.pick").click().run()
        assert_no_exception(at)
    # the settings: every change starts the run again
    at.slider(key="kmeans.k").set_value(3).run()
    assert at.slider(key="kmeans.step").value == 0
    if choice == "yours":  # a gray image has one colour space
        assert at.selectbox(key="kmeans.space").disabled
    else:
        at.selectbox(key="kmeans.space").set_value("hsv").run()
    at.slider(key="kmeans.xy_weight").set_value(0.5).run()
    at.selectbox(key="kmeans.start").set_value("random pixels").run()
    at.number_input(key="kmeans.rng").set_value(4).run()
    assert_no_exception(at)
    # the start question, answered and revealed: then both final inertias show
    said = _answer(at, "start", "Higher: a worse fit")
    assert "k-means++ at" in said
    labels = [m.label for m in at.metric]
    assert "random pixels: final inertia" in labels and "k-means++: final inertia" in labels
    assert ("Agreement with the truth" in labels) == (choice == "generated")


def test_the_numbers_on_the_page_are_segcores(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.kmeans.image").set_value("generated").run()
    at.selectbox(key="kmeans.start").set_value("evenly spaced").run()
    sample = synthetic.make("colour shapes")
    image, truth = learn.small_copy(sample.image, sample.truth, max_pixels=km.LESSON_PIXELS)
    bad = km.run(image, k=4, space="lab", start="evenly spaced")
    good = km.run(image, k=4, space="lab", start="k-means++")
    verdict = km.compare_inertia(bad.final_inertia, good.final_inertia)
    option = {"higher": "Higher: a worse fit", "about the same": "About the same (within 1%)",
              "lower": "Lower: a better fit"}[verdict]
    assert _answer(at, "start", option).startswith("Right")
    shown = {m.label: m.value for m in at.metric}
    assert shown["evenly spaced: final inertia"] == f"{bad.final_inertia:.2f}"
    assert shown["k-means++: final inertia"] == f"{good.final_inertia:.2f}"
    assert shown["Connected pieces"] == f"{km.pieces(km.step_labels(bad, len(bad.steps) - 1)):,}"
    at.button(key="kmeans.assign").click().run()
    s = km.summary(bad, 1)
    assert f"the inertia is {s.inertia:.2f}" in at.info[0].value
