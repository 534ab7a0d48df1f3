"""The region-growing and random-walker lesson: its numbers against the engine,
scikit-image and SciPy, and the page driven headless (every control, both questions,
all three image choices)."""

import numpy as np
import pytest
import scipy.sparse as sp
from scipy import ndimage as ndi
from scipy.sparse import csgraph
from scipy.sparse.linalg import spsolve
from skimage import data, measure, segmentation
from sklearn.metrics import jaccard_score

from conftest import assert_no_exception
from segcore import learn, synthetic
from segcore.color import to_gray
from segcore.learn import regions as rg
from segcore.methods.regions import random_walker, region_growing

PAGE = "pages/learn/regions.py"


def _gray(name):
    """Small gray images as a lesson sees them (float32, as the engine's to_gray gives)."""
    if name == "blobs":
        s = synthetic.blobs((96, 96))
        return to_gray(s.image), s.truth
    if name == "coins":
        return to_gray(data.coins()[::3, ::3, None].astype(np.float32) / 255), None
    if name == "noisy":
        s = synthetic.noisy((64, 64), sigma=0.1)
        return to_gray(s.image), s.truth
    raise KeyError(name)


def _engine_region(gray, seed, tolerance, connectivity):
    seg = region_growing(gray[:, :, None], seeds=[(*seed, 1)], tolerance=tolerance,
                         connectivity=connectivity)
    return seg.labels == 1


# --------------------------------------------------------------------------- region growing


@pytest.mark.parametrize("name", ["blobs", "coins", "noisy"])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_the_last_step_is_the_engines_region_and_skimages_flood(name, connectivity):
    gray, truth = _gray(name)
    seed = rg.object_seed(gray, truth)
    # tolerances that are no multiple of 1/255, so that no pixel sits exactly on the
    # limit (flood compares seed - t <= value, the engine |value - seed| <= t)
    for tolerance in (0.013, 0.1, 0.173, 0.33, 0.61):
        growth = rg.grow(gray, seed, tolerance=tolerance, connectivity=connectivity)
        engine = _engine_region(gray, seed, tolerance, connectivity)
        flood = segmentation.flood(gray, seed, tolerance=tolerance,
                                   connectivity=1 if connectivity == 4 else 2)
        assert np.array_equal(growth.region(), engine), tolerance
        assert np.array_equal(growth.region(growth.steps), engine), tolerance
        assert np.array_equal(engine, flood), tolerance


def test_rings_are_breadth_first_distances_inside_the_region():
    gray, truth = _gray("blobs")
    seed = rg.object_seed(gray, truth)
    growth = rg.grow(gray, seed, tolerance=0.3, connectivity=4)
    region = growth.region()
    # SciPy's breadth-first distances over the graph of the region's 4-neighbours
    index = -np.ones(gray.shape, int)
    index[region] = np.arange(region.sum())
    rows, cols = [], []
    for a, b in ((index[:-1], index[1:]), (index[:, :-1], index[:, 1:])):
        both = (a >= 0) & (b >= 0)
        rows += a[both].tolist()
        cols += b[both].tolist()
    graph = sp.coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(region.sum(),) * 2)
    dist = csgraph.shortest_path(graph, directed=False, unweighted=True, indices=index[seed])
    assert np.array_equal(growth.ring[region], dist.astype(int))
    assert (growth.ring[~region] == -1).all()
    # the refused pixels are the region's outside neighbours, each refused one step
    # after the first ring next to it
    border = ndi.binary_dilation(region, ndi.generate_binary_structure(2, 1)) & ~region
    assert np.array_equal(growth.refused >= 0, border)
    padded = np.pad(np.where(region, growth.ring, 10**6), 1, constant_values=10**6)
    nearest = np.minimum.reduce([padded[:-2, 1:-1], padded[2:, 1:-1], padded[1:-1, :-2],
                                 padded[1:-1, 2:]])
    assert np.array_equal(growth.refused[border], nearest[border] + 1)
    assert growth.steps == growth.refused.max()


def test_every_step_tests_against_the_seeds_value():
    gray, truth = _gray("noisy")
    seed = rg.object_seed(gray, truth)
    growth = rg.grow(gray, seed, tolerance=0.15)
    s = float(gray[seed])
    for step in range(growth.steps + 1):
        ring = growth.frontier(step)
        assert (np.abs(gray[ring] - gray[seed]) <= 0.15).all()
        passed, refused = growth.closest_calls(step)
        if ring.any():
            assert passed.difference == pytest.approx(float(np.abs(gray[ring] - s).max()))
            assert passed.joined and growth.ring[passed.row, passed.col] == step
        if refused is not None:
            assert refused.difference > 0.15 and not refused.joined
            assert refused.difference == pytest.approx(
                float(np.abs(gray[growth.refused == step] - s).min()))
        assert growth.size(step) == int(growth.region(step).sum())
        assert growth.mean(step) == pytest.approx(float(gray[growth.region(step)].mean()))
    assert growth.closest_calls(0)[0].difference == 0
    assert growth.frontier(growth.steps).sum() == 0  # the last step adds nothing


@pytest.mark.parametrize("name", ["blobs", "coins"])
@pytest.mark.parametrize("connectivity", [4, 8])
def test_one_join_map_holds_the_engines_region_for_every_tolerance(name, connectivity):
    gray, truth = _gray(name)
    seed = rg.object_seed(gray, truth)
    join = rg.join_tolerance(gray, seed, connectivity=connectivity)
    for tolerance in np.r_[0.0, 0.02, np.unique(join)[[5, 40, -30]], 0.25, 0.5, 0.9]:
        engine = _engine_region(gray, seed, float(tolerance), connectivity)
        assert np.array_equal(join <= float(tolerance), engine), tolerance
    leak, (r, c) = rg.leak_point(join)
    assert r in (0, gray.shape[0] - 1) or c in (0, gray.shape[1] - 1)
    assert join[r, c] == np.float32(leak)

    def touches_edge(region):
        return region[0].any() or region[-1].any() or region[:, 0].any() or region[:, -1].any()

    below = float(np.nextafter(np.float32(leak), np.float32(0)))
    assert touches_edge(_engine_region(gray, seed, leak, connectivity))
    assert not touches_edge(_engine_region(gray, seed, below, connectivity))


def test_the_tolerance_curve_counts_the_engines_region_and_scores_it_like_sklearn():
    gray, truth = _gray("noisy")
    seed = rg.object_seed(gray, truth)
    truth_region = rg.true_region(truth, seed)
    components = measure.label(truth == truth[seed], connectivity=1)
    assert np.array_equal(truth_region, components == components[seed])
    join = rg.join_tolerance(gray, seed)
    tolerances = [0.05, 0.1, 0.2, 0.35, 0.7]
    curve = rg.tolerance_curve(join, tolerances, truth_region=truth_region)
    for k, t in enumerate(tolerances):
        engine = _engine_region(gray, seed, t, 4)
        assert curve["size"][k] == engine.sum()
        assert curve["iou"][k] == pytest.approx(jaccard_score(truth_region.ravel(),
                                                              engine.ravel()))
    assert rg.tolerance_curve(join, tolerances)["iou"] is None


def test_the_seeds_sit_deep_in_objects_and_background():
    gray, truth = _gray("blobs")
    objects = learn.objects(truth)
    (r1, c1, _), (r2, c2, _), (r3, c3, _) = rg.walker_seeds(gray, truth, count=3)
    assert (r1, c1) == rg.object_seed(gray, truth)
    assert objects[r1, c1] and not objects[r2, c2] and objects[r3, c3]
    pieces = measure.label(objects, connectivity=1)
    assert pieces[r1, c1] != pieces[r3, c3]  # another object
    one = pieces == pieces[r1, c1]
    assert not (one[0].any() or one[-1].any() or one[:, 0].any() or one[:, -1].any())
    assert np.array_equal(rg.seed_object(gray, (r1, c1), truth), one)
    # without a truth, Otsu's sides stand in: the seed is on the bright (coin) side
    coins, _ = _gray("coins")
    r, c = rg.object_seed(coins)
    assert coins[r, c] > np.median(coins)


def test_errors_are_said_in_words():
    gray, _ = _gray("blobs")
    with pytest.raises(ValueError, match="outside"):
        rg.grow(gray, (96, 0), tolerance=0.1)
    with pytest.raises(ValueError, match="tolerance"):
        rg.grow(gray, (0, 0), tolerance=-0.1)
    with pytest.raises(ValueError, match="connectivity"):
        rg.join_tolerance(gray, (0, 0), connectivity=6)
    with pytest.raises(ValueError, match="gray image"):
        rg.grow(np.zeros((4, 4, 3)), (0, 0), tolerance=0.1)
    with pytest.raises(ValueError, match="flat"):
        rg.walker_probabilities(np.full((8, 8), 0.3), [(0, 0, 1), (7, 7, 2)], beta=10)
    with pytest.raises(ValueError, match="same pixel"):
        rg.walker_probabilities(gray, [(3, 3, 1), (3, 3, 2)], beta=10)
    with pytest.raises(ValueError, match="at least two labels"):
        rg.walker_probabilities(gray, [(3, 3, 1), (5, 5, 1)], beta=10)
    with pytest.raises(ValueError, match="labelled 1, 2"):
        rg.walker_probabilities(gray, [(3, 3, 1), (5, 5, 3)], beta=10)
    with pytest.raises(ValueError, match="not neighbours"):
        rg.edge_weight(gray, (0, 0), (1, 1), beta=10)


# --------------------------------------------------------------------------- random walker


def _solve(gray, seeds, beta):
    """The walker's probabilities solved here from ``walker_weights``: the Dirichlet
    problem on the graph Laplacian, seeds fixed (Grady 2006)."""
    h, w = gray.shape
    down, right = rg.walker_weights(gray, beta=beta)
    idx = np.arange(h * w).reshape(h, w)
    i = np.r_[idx[:-1].ravel(), idx[:, :-1].ravel()]
    j = np.r_[idx[1:].ravel(), idx[:, 1:].ravel()]
    wts = np.r_[down.ravel(), right.ravel()]
    adjacency = sp.coo_matrix((np.r_[wts, wts], (np.r_[i, j], np.r_[j, i])), shape=(h * w,) * 2)
    laplacian = (sp.diags(np.asarray(adjacency.sum(1)).ravel()) - adjacency).tocsr()
    seeded = np.zeros(h * w, bool)
    seeded[[r * w + c for r, c, _ in seeds]] = True
    k = max(lab for *_, lab in seeds)
    fixed = np.zeros((seeded.sum(), k))
    order = np.flatnonzero(seeded)
    for r, c, lab in seeds:
        fixed[np.searchsorted(order, r * w + c), lab - 1] = 1
    free = ~seeded
    rhs = -laplacian[free][:, seeded] @ fixed
    x = np.zeros((h * w, k))
    x[seeded] = fixed
    x[free] = spsolve(laplacian[free][:, free].tocsc(), rhs).reshape(-1, k)
    return x.reshape(h, w, k)


@pytest.mark.parametrize("beta", [1.0, 130.0, 3000.0])
def test_the_weights_shown_are_the_ones_scikit_images_walker_uses(beta):
    gray, _ = _gray("noisy")
    gray = gray[10:40, 8:44]
    seeds = [(5, 4, 1), (25, 30, 2), (2, 33, 3)]
    mine = _solve(gray.astype(np.float64), seeds, beta)
    skimage_probs = rg.walker_probabilities(gray, seeds, beta=beta)
    assert np.allclose(mine, skimage_probs, atol=1e-6)
    # one pair, as the page shows it
    down, right = rg.walker_weights(gray, beta=beta)
    e = rg.edge_weight(gray, (7, 9), (7, 10), beta=beta)
    assert e.weight == pytest.approx(right[7, 9], rel=1e-12)
    assert e.sigma == pytest.approx(float(gray.astype(np.float64).std()))
    assert rg.edge_weight(gray, (8, 3), (7, 3), beta=beta).weight == pytest.approx(down[7, 3])


def test_exact_probabilities_agree_with_the_engine():
    gray, truth = _gray("blobs")
    seeds = rg.walker_seeds(gray, truth)
    mine = rg.walker_probabilities(gray, seeds, beta=130)
    engine = random_walker(gray[:, :, None], seeds=seeds, beta=130, margin=0.5)
    assert np.abs(mine - engine.probabilities).max() < 2e-3
    assert np.allclose(mine.sum(-1), 1)
    # at the extremes too, without a warning (warnings are errors here)
    for beta in (1.0, 10_000.0):
        p = rg.walker_probabilities(gray, seeds, beta=beta)
        assert p.min() >= 0 and np.allclose(p.sum(-1), 1)


def test_a_pixels_probability_is_the_weighted_average_of_its_neighbours():
    gray, truth = _gray("noisy")
    seeds = rg.walker_seeds(gray, truth, count=3)
    p = rg.walker_probabilities(gray, seeds, beta=300)
    for pixel in [(10, 10), (0, 5), (63, 63), (30, 40)]:
        for label in (1, 2, 3):
            avg = rg.walker_average(gray, p, pixel, beta=300, label=label)
            assert avg["average"] == pytest.approx(avg["value"], abs=1e-7)
            assert len(avg["weights"]) == (2 if pixel == (63, 63) else 3 if 0 in pixel else 4)


def test_high_beta_respects_edges_and_the_question_pixel_changes_label():
    gray, truth = _gray("blobs")
    seeds = rg.walker_seeds(gray, truth)
    low = rg.walker_probabilities(gray, seeds, beta=rg.LOW_BETA)
    high = rg.walker_probabilities(gray, seeds, beta=rg.HIGH_BETA)
    obj = rg.seed_object(gray, seeds[0][:2], truth)
    label1 = high.argmax(-1) == 0
    assert jaccard_score(obj.ravel(), label1.ravel()) > 0.9
    assert jaccard_score(obj.ravel(), (low.argmax(-1) == 0).ravel()) < 0.5
    r, c = rg.question_pixel(low, high)
    assert low[r, c].argmax() != high[r, c].argmax()
    assert 3 <= r < gray.shape[0] - 3 and 3 <= c < gray.shape[1] - 3
    pairs = rg.edge_pairs(gray, seeds[0][:2], seeds[1][:2], region=obj)
    a, b = pairs["across"]
    assert obj[a] != obj[b]  # the pair straddles the object's outline
    assert abs(float(gray[a]) - float(gray[b])) > 0.3
    a, b = pairs["inside"]
    assert obj[a] and obj[b]
    path = rg.walker_path(seeds[0][:2], seeds[1][:2])
    assert all(abs(p[0] - q[0]) + abs(p[1] - q[1]) == 1 for p, q in zip(path, path[1:]))


def test_the_pictures_colour_what_they_say():
    gray, truth = _gray("blobs")
    seed = rg.object_seed(gray, truth)
    growth = rg.grow(gray, seed, tolerance=0.2)
    pic = rg.growth_picture(gray[:, :, None], growth, 5)
    assert pic.shape == gray.shape + (3,) and pic.dtype == np.float32
    assert np.allclose(pic[growth.frontier(5)], rg.FRONTIER_COLOUR)
    assert np.allclose(pic[growth.refused_by(5)], rg.REFUSED_COLOUR)
    outside = ~growth.region(5) & ~growth.refused_by(5)
    far = np.abs(np.indices(gray.shape) - np.array(seed)[:, None, None]).max(0) > 1
    assert np.allclose(pic[outside & far], gray[outside & far][:, None])  # the image as it is
    assert pic[seed].tolist() == [1.0, 1.0, 1.0]
    with pytest.raises(ValueError, match="differ in size"):
        rg.growth_picture(np.zeros((5, 5, 1), np.float32), growth, 1)


# --------------------------------------------------------------------------- the page


def _guess_key(at, prefix):
    widgets = [*at.slider, *at.radio]
    return next(w.key for w in widgets if w.key and w.key.startswith(prefix)
                and w.key.endswith(".guess"))


def _key(at, prefix):
    return next(s.key for s in at.slider if s.key and s.key.startswith(prefix))


def _expected_leak(origin, name):
    from seglab import cache

    sample = cache.sample_image(origin, name)
    image, truth = learn.small_copy(sample.image, sample.truth, max_pixels=20_000)
    gray = to_gray(image)
    seed = rg.object_seed(gray, truth)
    return rg.leak_point(rg.join_tolerance(gray, seed))[0]


CHOICES = {"photo": ("scikit-image", "coins"), "generated": ("generated", "blobs"),
           "yours": ("scikit-image", "astronaut")}


@pytest.mark.parametrize("choice", list(CHOICES))
def test_the_lesson_on_each_image(open_lesson, choice):
    # "yours" is a colour photo without truth; the generated image has exact truth
    at = open_lesson(PAGE, sample=("scikit-image", "astronaut"))
    at.radio(key="learn.regions.image").set_value(choice).run()
    assert_no_exception(at)
    assert "Commit to a guess" in " ".join(c.value for c in at.caption)
    assert "copy of" in at.caption[0].value  # the lesson says it works on a small copy
    at.slider(key=_guess_key(at, "regions.leak.")).set_value(0.3).run()
    at.button(key="regions.leak.reveal").click().run()
    assert_no_exception(at)
    feedback = " ".join(e.value for e in [*at.success, *at.warning])
    assert f"tolerance **{_expected_leak(*CHOICES[choice]):.3f}**" in feedback

    # region growing: every control
    first = [e.value for e in at.latex]
    at.slider(key="regions.tolerance").set_value(0.2).run()
    at.radio(key="regions.connectivity").set_value(8).run()
    at.slider(key=_key(at, "regions.row.")).set_value(20).run()
    at.slider(key=_key(at, "regions.col.")).set_value(30).run()
    assert_no_exception(at)
    at.toggle(key="regions.click").set_value(True).run()  # the picture takes clicks
    assert_no_exception(at)
    assert any("Click to move the seed" in c.value for c in at.caption)
    at.toggle(key="regions.click").set_value(False).run()
    step = at.slider(key=_key(at, "regions.step."))
    assert step.value == step.max  # a new growth shows where it ends
    step.set_value(2).run()
    assert_no_exception(at)
    latex = " ".join(e.value for e in at.latex)
    assert latex != " ".join(first) and r"\le 0.20" in latex and "step 2" in latex
    notices = " ".join(e.value for e in at.info)
    assert "Step 2 added" in notices
    if choice == "generated":
        assert "Against the truth: IoU" in notices
    else:
        assert "No ground truth" in " ".join(c.value for c in at.caption)

    # the random walker: the question, then every control
    at.radio(key=_guess_key(at, "regions.walker.")).set_value("label 2").run()
    at.button(key="regions.walker.reveal").click().run()
    assert_no_exception(at)
    assert any("At β = 1000 it gets label" in e.value for e in [*at.success, *at.warning])
    assert any("At β = 130" in e.value for e in at.info)
    at.select_slider(key="regions.beta").set_value(1000.0).run()
    assert any("At β = 1000" in e.value for e in at.info)
    at.radio(key="regions.count").set_value(3).run()
    assert_no_exception(at)
    for k in (1, 2, 3):
        at.slider(key=_key(at, f"regions.walker.{k}.row.")).set_value(10 * k).run()
        at.slider(key=_key(at, f"regions.walker.{k}.col.")).set_value(12 * k).run()
    assert_no_exception(at)
    latex = " ".join(e.value for e in at.latex)
    assert r"w_{\text{across an edge}}" in latex and "x_i" in latex and "{1000}" in latex
    from seglab.lesson import ANSWERS
    assert len(at.session_state[ANSWERS]) == 2


def test_seeds_on_one_pixel_are_refused_in_words(open_lesson):
    at = open_lesson(PAGE, sample=("generated", "blobs"))
    at.radio(key="learn.regions.image").set_value("yours").run()
    at.slider(key=_guess_key(at, "regions.leak.")).set_value(0.3).run()
    at.button(key="regions.leak.reveal").click().run()
    at.radio(key=_guess_key(at, "regions.walker.")).set_value("label 1").run()
    at.button(key="regions.walker.reveal").click().run()
    for axis in ("row", "col"):
        value = at.slider(key=_key(at, f"regions.walker.1.{axis}.")).value
        at.slider(key=_key(at, f"regions.walker.2.{axis}.")).set_value(value).run()
    assert_no_exception(at)
    assert any("same pixel" in e.value for e in at.warning)


def test_a_flat_image_is_explained_not_crashed(open_lesson):
    from seglab.state import CurrentImage

    at = open_lesson(PAGE)
    flat = np.full((40, 50, 1), 0.4, np.float32)
    at.session_state["current"] = CurrentImage(name="flat.png", origin="upload", key="flat",
                                               image=flat, preview=flat)
    at.radio(key="learn.regions.image").set_value("yours").run()
    assert_no_exception(at)
    assert any("flat" in e.value for e in at.warning)
