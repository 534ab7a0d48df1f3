"""The Gaussian mixtures lesson: its EM history against scikit-learn and scipy, the
half-steps it draws, and the page driven headless (every control, every step kind,
both questions, all three image choices)."""

import re

import numpy as np
import pytest
from scipy import stats
from skimage import data
from sklearn.cluster import KMeans
from sklearn.mixture import GaussianMixture

import segcore
from conftest import assert_no_exception
from segcore import learn, metrics, synthetic
from segcore.color import to_space
from segcore.learn import mixtures as mx
from segcore.methods.clustering import REG_COVAR, colour_table

PAGE = "pages/learn/mixtures.py"


def _gray(shape=(40, 48), rng=0):
    """Three gray levels with different spreads: a narrow dark one, a wide middle one."""
    gen = np.random.default_rng(rng)
    truth = synthetic.shapes(shape, rng=rng).truth
    levels, spreads = np.array([0, 0.2, 0.5, 0.55, 0.85]), np.array([0, 0.02, 0.08, 0.08, 0.04])
    image = levels[truth] + gen.normal(0, 1, shape) * spreads[truth]
    # 8-bit values, as a photo's: the points the lesson fits are then the pixels exactly
    return (np.rint(np.clip(image, 0, 1) * 255) / 255).astype(np.float32)[:, :, None]


def _colour(shape=(36, 44)):
    return synthetic.colour_shapes(shape, rng=2).image


def _pixels(points):
    """Every pixel's feature value, from the table (what scikit-learn is given)."""
    return points.x[points.index]


# --------------------------------------------------------------------------- features


def test_gray_points_are_the_engines_colour_table():
    image = _gray()
    points = mx.feature_points(image)
    x, counts, index = colour_table(image, "gray")
    assert np.array_equal(points.x, x) and np.array_equal(points.counts, counts)
    assert np.array_equal(points.index, index)
    assert points.shape == image.shape[:2]


@pytest.mark.parametrize("features", ["ab", "Lb", "rg", "gray"])
def test_every_pixel_gets_its_own_rounded_feature_value(features):
    image = _colour()
    points = mx.feature_points(image, features=features)
    choice = mx.FEATURES[features]
    # the engine compares colours at 8 bits, then converts; the lesson rounds the result again
    eight_bit = (np.rint(image * 255) / 255).astype(np.float32)
    expected = to_space(eight_bit, choice.space)[..., list(choice.channels)]
    expected = expected.reshape(-1, len(choice.channels))
    assert np.abs(_pixels(points) - expected).max() <= 0.5 / 255 + 1e-6
    assert points.counts.sum() == image.shape[0] * image.shape[1]
    assert len(np.unique(points.x, axis=0)) == len(points.x)


def test_feature_and_start_errors_are_plain_words():
    with pytest.raises(ValueError, match="a gray image has one feature"):
        mx.feature_points(_gray(), features="rg")
    with pytest.raises(ValueError, match="features must be one of"):
        mx.feature_points(_colour(), features="hue")
    points = mx.feature_points(synthetic.two_regions((8, 8)).image)
    with pytest.raises(ValueError, match="2 distinct values, fewer than k = 3"):
        mx.fit_em(points, k=3)
    with pytest.raises(ValueError, match="start must be one of"):
        mx.fit_em(points, k=2, start="everywhere")
    history = mx.fit_em(points, k=2)
    with pytest.raises(ValueError, match="step must be in"):
        mx.step_state(points, history, 2 * history.n_steps + 1)
    with pytest.raises(ValueError, match="threshold must be in"):
        mx.hard_and_soft(points, history, threshold=0)


# --------------------------------------------------------------------------- EM


def test_the_kmeans_start_gives_the_engines_gmm_fit():
    image = _gray()
    history = mx.fit_em(mx.feature_points(image), k=3)
    seg = segcore.segment(image, "gmm", k=3, space="gray", covariance_type="full")
    assert history.n_steps == seg.extras["n_iter"]
    assert np.allclose(history.weights[-1], seg.extras["weights"])
    assert np.allclose(history.means[-1], seg.extras["means"])
    assert np.allclose(history.covariances[-1], seg.extras["covariances"])
    assert history.log_likelihood[-1] == pytest.approx(seg.extras["log_likelihood"], abs=1e-3)


# scikit-learn warns that one iteration did not converge: that one step is the point.
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("features, image", [("gray", _gray()), ("rg", _colour())])
@pytest.mark.parametrize("t", [0, 2])
def test_one_em_iteration_is_scikit_learns(features, image, t):
    points = mx.feature_points(image, features=features)
    history = mx.fit_em(points, k=3, start="random", rng=1)
    weights, means, covs = mx.parameters(history, t)
    gm = GaussianMixture(3, covariance_type="full", weights_init=weights, means_init=means,
                         precisions_init=np.linalg.inv(covs), max_iter=1, tol=0,
                         reg_covar=REG_COVAR, init_params="random", random_state=0)
    gm.fit(_pixels(points))
    after = mx.parameters(history, t + 1)
    assert np.allclose(gm.weights_, after[0], atol=1e-9)
    assert np.allclose(gm.means_, after[1], atol=1e-9)
    assert np.allclose(gm.covariances_, after[2], rtol=1e-6, atol=1e-12)
    # scikit-learn's bound is the log-likelihood under the parameters before its M step
    assert gm.lower_bound_ == pytest.approx(history.log_likelihood[t], rel=1e-9)
    assert gm.score(_pixels(points)) == pytest.approx(history.log_likelihood[t + 1], rel=1e-9)


def test_the_e_step_is_bayes_rule_with_scipys_normal_densities():
    points = mx.feature_points(_gray())
    history = mx.fit_em(points, k=3, start="random", rng=3)
    for t in (1, 2, history.n_steps + 1):
        weights, means, covs = mx.parameters(history, t - 1)
        joint = np.stack([w * stats.norm.pdf(points.x[:, 0], m[0], np.sqrt(c[0, 0]))
                          for w, m, c in zip(weights, means, covs)], 1)
        expected = joint / joint.sum(1, keepdims=True)
        assert np.allclose(mx.responsibilities(points, history, t), expected)
        log_likelihood = np.log(joint.sum(1)) @ points.counts / points.counts.sum()
        assert history.log_likelihood[t - 1] == pytest.approx(log_likelihood, rel=1e-10)
        value = points.x[5]
        terms = mx.e_step_terms(value, (weights, means, covs))
        assert np.allclose(terms["weighted"], joint[5])
        assert terms["total"] == pytest.approx(joint[5].sum())
        assert np.allclose(terms["density"], joint[5] / weights)


def test_the_e_step_in_two_dimensions_uses_scipys_multivariate_normal():
    points = mx.feature_points(_colour(), features="ab")
    history = mx.fit_em(points, k=3)
    weights, means, covs = mx.parameters(history, 1)
    joint = np.stack([w * stats.multivariate_normal(m, c).pdf(points.x)
                      for w, m, c in zip(weights, means, covs)], 1)
    assert np.allclose(mx.responsibilities(points, history, 2), joint / joint.sum(1, keepdims=True))


def test_the_m_step_sums_give_the_next_parameters():
    for features, image in (("gray", _gray()), ("Lb", _colour())):
        points = mx.feature_points(image, features=features)
        history = mx.fit_em(points, k=3, start="random", rng=4)
        for t in (0, 1, history.n_steps):
            resp = mx.responsibilities(points, history, t)
            terms = mx.m_step_terms(points, resp)
            weights, means, covs = mx.parameters(history, t)
            assert terms["n"] == image.shape[0] * image.shape[1]
            assert np.allclose(terms["nk"] / terms["n"], weights)
            assert np.allclose(terms["sums"] / terms["nk"][:, None], means)
            d = points.x.shape[1]
            assert np.allclose(terms["spread"] / terms["nk"][:, None, None] + REG_COVAR * np.eye(d),
                               covs)
            # the same sums written out pixel by pixel
            x, r = _pixels(points), resp[points.index]
            assert np.allclose(terms["sums"], r.T @ x)


def _lesson_copy(image):
    return learn.small_copy(image)[0]


@pytest.mark.parametrize("case", [
    ("coins", "gray", "kmeans", 0), ("coins", "gray", "random", 5),
    ("shapes", "gray", "random", 2), ("chelsea", "ab", "random", 1), ("chelsea", "rg", "kmeans", 0),
])
def test_the_log_likelihood_never_goes_down(case):
    name, features, start, rng = case
    image = {"coins": lambda: data.coins()[:, :, None] / np.float32(255),
             "shapes": lambda: synthetic.shapes().image,
             "chelsea": lambda: data.chelsea() / np.float32(255)}[name]()
    points = mx.feature_points(_lesson_copy(image.astype(np.float32)), features=features)
    history = mx.fit_em(points, k=4, start=start, rng=rng)
    assert history.n_steps >= 2
    assert np.all(np.diff(history.log_likelihood) >= -1e-12)
    # the half-steps: an E step keeps it, an M step raises it
    states = [mx.step_state(points, history, s) for s in range(2 * history.n_steps + 1)]
    for state in states[1:]:
        if state.kind == "E":
            assert state.log_likelihood == states[state.step - 1].log_likelihood
            assert state.next_log_likelihood >= state.log_likelihood - 1e-12
        else:
            assert state.ll_change >= -1e-12


def test_the_random_start_is_k_distinct_pixels_and_repeats_with_its_seed():
    points = mx.feature_points(_gray())
    a, b = (mx.fit_em(points, k=3, start="random", rng=7) for _ in range(2))
    assert np.array_equal(a.means, b.means)
    assert all((points.x == c).all(1).any() for c in a.centres)
    other = mx.fit_em(points, k=3, start="random", rng=8)
    assert not np.array_equal(a.centres, other.centres)


# --------------------------------------------------------------------------- half-steps


def test_half_steps_change_the_split_or_the_curves_never_both():
    points = mx.feature_points(_gray())
    history = mx.fit_em(points, k=3, start="random", rng=1)
    names = mx.step_names(history)
    assert len(names) == 2 * history.n_steps + 1 and names[:3] == ["Start", "E step 1", "M step 1"]
    start = mx.step_state(points, history, 0)
    assert set(np.unique(start.resp)) <= {0.0, 1.0}
    assert np.array_equal(start.resp.argmax(1), history.start_assign)
    previous = start
    for step in range(1, len(names)):
        state = mx.step_state(points, history, step)
        if state.kind == "E":
            assert all(np.array_equal(a, b) for a, b in zip(state.params, previous.params))
            assert np.array_equal(state.resp, previous.next_resp)
            assert state.switched == pytest.approx(
                mx.switched_fraction(points, previous.resp, state.resp))
        else:
            assert np.array_equal(state.resp, previous.resp)
            assert np.array_equal(state.m_resp, state.resp)
            assert np.allclose(state.params[1], history.means[step // 2])
        previous = state


def test_the_marked_pixel_is_one_the_next_e_step_moves():
    points = mx.feature_points(_gray())
    history = mx.fit_em(points, k=3, start="random", rng=1)
    for step in range(0, 2 * history.n_steps + 1, 2):
        state = mx.step_state(points, history, step)
        moved = state.resp.argmax(1) != state.next_resp.argmax(1)
        if moved.any():
            assert moved[state.marked]
            assert points.counts[state.marked] == points.counts[moved].max()
        r, c = mx.row_pixel(points, state.marked)
        assert points.index[r * points.shape[1] + c] == state.marked


# --------------------------------------------------------------------------- hard and soft


def test_hard_is_kmeans_and_soft_is_the_mixtures_main_component():
    image = _gray((48, 64))
    points = mx.feature_points(image)
    history = mx.fit_em(points, k=3)
    out = mx.hard_and_soft(points, history, threshold=0.95)
    hard = mx.to_image(points, out["hard"])
    reference = KMeans(3, n_init=10, random_state=0).fit(image.reshape(-1, 1))
    assert metrics.adjusted_rand_index(hard.ravel(), reference.labels_) > 0.99
    # the same optimum: no worse a sum of squared distances than scikit-learn's
    values = image.ravel()
    inertia = sum(((values[hard.ravel() == j] - values[hard.ravel() == j].mean()) ** 2).sum()
                  for j in range(3))
    assert inertia <= reference.inertia_ * (1 + 1e-6)
    final = history.weights[-1], history.means[-1], history.covariances[-1]
    gm = GaussianMixture(3, weights_init=final[0], means_init=final[1],
                         precisions_init=np.linalg.inv(final[2]), reg_covar=REG_COVAR)
    gm.weights_, gm.means_, gm.covariances_ = final
    gm.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(final[2]))
    probabilities = gm.predict_proba(image.reshape(-1, 1))
    assert np.array_equal(mx.to_image(points, out["soft"]).ravel(), probabilities.argmax(1))
    assert out["disagree_fraction"] == pytest.approx(
        np.mean(mx.to_image(points, out["hard"] != out["soft"])))
    assert out["uncertain_fraction"] == pytest.approx(np.mean(probabilities.max(1) < 0.95))
    # k-means cuts half-way between its centres (to the 1/255 the values are rounded to)
    centres = np.sort([image.ravel()[hard.ravel() == j].mean() for j in range(3)])
    assert np.allclose(out["hard_cuts"], (centres[1:] + centres[:-1]) / 2, atol=1 / 255)


def test_the_mixture_gives_a_wide_components_neighbours_to_it():
    # the docstring's case, against scikit-learn: a value nearer the dark centre joins the
    # bright group
    x = np.array([0.0, 0.01, 0.02, 0.03, 0.25, 0.5, 0.75, 1.0], np.float32).reshape(2, 4)
    points = mx.feature_points(x)
    out = mx.hard_and_soft(points, mx.fit_em(points, k=2))
    gm = GaussianMixture(2, reg_covar=REG_COVAR, random_state=0).fit(x.reshape(-1, 1))
    wide = int(np.argmax(gm.covariances_.ravel()))
    assert gm.predict(np.array([[0.25]]))[0] == wide
    assert out["soft_cuts"][0] < 0.25 < out["hard_cuts"][0]


def test_ellipse_points_are_at_the_given_mahalanobis_distance():
    cov = np.array([[0.04, 0.015], [0.015, 0.01]])
    ring = mx.ellipse(np.array([0.5, 0.4]), cov, scale=2)
    d = ring - [0.5, 0.4]
    assert np.allclose(np.einsum("ni,ij,nj->n", d, np.linalg.inv(cov), d), 4)


# --------------------------------------------------------------------------- figures, equations


def test_the_histogram_stacks_to_the_pixel_counts_and_draws_the_weighted_curves():
    points = mx.feature_points(_gray())
    history = mx.fit_em(points, k=3)
    state = mx.step_state(points, history, 3)
    fig = mx.mixture_histogram_figure(points, state.params, state.resp, marked=state.marked)
    bars = [t for t in fig.data if t.type == "bar"]
    assert np.allclose(np.sum([b.y for b in bars], 0), points.counts)
    curve = next(t for t in fig.data if t.name == "component 2")
    w, m, c = (a[1] for a in state.params)
    at = int(np.argmin(np.abs(np.asarray(curve.x) - m[0])))
    expected = w * stats.norm.pdf(curve.x[at], m[0], np.sqrt(c[0, 0])) * points.counts.sum() / 255
    assert curve.y[at] == pytest.approx(expected)
    with pytest.raises(ValueError, match="one feature"):
        mx.mixture_histogram_figure(mx.feature_points(_colour(), features="ab"), state.params,
                                    state.resp)


def test_the_scatter_and_soft_maps_mark_the_followed_pixel():
    points = mx.feature_points(_colour(), features="rg")
    history = mx.fit_em(points, k=3)
    state = mx.step_state(points, history, 2)
    fig = mx.mixture_scatter_figure(points, state.params, state.resp, marked=state.marked)
    marked = next(t for t in fig.data if t.name == "marked pixel")
    assert (marked.x[0], marked.y[0]) == tuple(points.x[state.marked])
    maps = mx.to_image(points, state.resp)
    assert maps.shape == points.shape + (3,) and np.allclose(maps.sum(2), 1)
    pixel = mx.row_pixel(points, state.marked)
    soft = mx.soft_maps_figure(maps, marked=pixel)
    rings = [t for t in soft.data if t.type == "scatter"]
    assert len(rings) == 3 and rings[0].x == (pixel[1],) and rings[0].y == (pixel[0],)


def _last_number(line):
    """The number after the last ``=`` of a LaTeX line (``1.2 \\times 10^{-4}`` too)."""
    text = line.rsplit("=", 1)[1].split(",")[0].replace("\\,", "").strip()
    shown = re.fullmatch(r"(-?[0-9.]+)(?: \\times 10\^\{(-?\d+)\})?", text)
    return float(shown.group(1)) * 10.0 ** int(shown.group(2) or 0)


def test_the_equations_show_the_numbers_of_the_step():
    points = mx.feature_points(_gray())
    history = mx.fit_em(points, k=3)
    state = mx.step_state(points, history, 2)
    lines = mx.m_step_latex(mx.m_step_terms(points, state.m_resp))
    weights, means, covs = state.params
    assert len(lines) == 1 + 3
    for j in range(3):
        shown = re.search(r"\\pi_\d = \\frac\{[^}]*\}\{[^}]*\} = ([0-9.]+)", lines[j + 1])
        assert float(shown.group(1)) == pytest.approx(weights[j], rel=5e-3)
        shown = re.search(r"\\mu_\d = \\frac\{[^}]*\}\{[^}]*\} = ([0-9.]+)", lines[j + 1])
        assert float(shown.group(1)) == pytest.approx(means[j, 0], rel=5e-3)
        assert _last_number(lines[j + 1]) == pytest.approx(
            covs[j, 0, 0], rel=5e-3)
    value = points.x[state.marked]
    e_lines = mx.e_step_latex(value, state.e_params)
    assert len(e_lines) == 2 + 3
    resp = mx.responsibilities(points, history, state.e_step)[state.marked]
    big = int(np.argmax(resp))
    assert _last_number(e_lines[2 + big]) == pytest.approx(resp[big], abs=5e-4)
    colour = mx.feature_points(_colour(), features="ab")
    history = mx.fit_em(colour, k=2)
    lines = mx.m_step_latex(mx.m_step_terms(colour, mx.responsibilities(colour, history, 1)))
    assert len(lines) == 1 + 2 * 2 and "\\Sigma_2" in lines[4]


def test_mark_pixel_and_the_hard_soft_picture_colour_what_they_say():
    ringed = mx.mark_pixel(np.zeros((30, 30, 3), np.float32), (15, 15), radius=5)
    assert ringed[15, 20].tolist() == [1, 1, 1] and ringed[15, 15].tolist() == [0, 0, 0]
    picture = mx.hard_soft_picture(np.ones((2, 2, 1), np.float32), np.eye(2, dtype=bool),
                                   np.ones((2, 2), bool))
    assert np.allclose(picture[0, 0], mx.DISAGREE_COLOUR)
    assert np.allclose(picture[0, 1], mx.UNCERTAIN_COLOUR)


# --------------------------------------------------------------------------- the page


def _step_slider(at):
    return next(s for s in at.select_slider if s.label == "Step through EM")


def _answer(at, key, option):
    guess = next(r for r in at.radio if r.key and r.key.startswith(f"learn.mixtures.{key}.")
                 and r.key.endswith(".guess"))
    guess.set_value(option).run()
    at.button(key=f"learn.mixtures.{key}.reveal").click().run()
    assert_no_exception(at)
    said = [m.value for m in at.success] + [m.value for m in at.warning]
    assert any(s.startswith(("Right", "Not quite")) for s in said), said
    return [m.value for m in at.success]


def _notice(at):
    return next(m.value for m in at.info if m.value.startswith("**What to notice.**"))


def test_page_on_the_generated_image_every_control_and_step(open_lesson):
    at = open_lesson(PAGE)
    at.radio(key="learn.mixtures.image").set_value("generated").run()
    assert_no_exception(at)
    assert "Against the ground truth" in " ".join(m.value for m in at.markdown)
    # the question at the start: which component after the first E step? Its answer, from segcore
    image = _lesson_copy(synthetic.make("shapes").image)
    points = mx.feature_points(image)
    history = mx.fit_em(points, k=3)
    state = mx.step_state(points, history, 0)
    right = f"component {int(state.next_resp[state.marked].argmax()) + 1}"
    assert "At the start" in _notice(at)
    assert any(right in s for s in _answer(at, "component", right))
    # the next step button takes the E step, then the M step; Back goes back
    at.button(key="learn.mixtures.next").click().run()
    assert _step_slider(at).value == "E step 1" and "The E step moved no curve" in _notice(at)
    # the log-likelihood question, answered right (an M step never lowers it)
    rise = history.log_likelihood[1] - history.log_likelihood[0]
    assert any("It goes from" in s for s in _answer(at, "likelihood",
                                                     "go up" if rise >= 5e-5 else "stay the same"))
    at.button(key="learn.mixtures.next").click().run()
    assert _step_slider(at).value == "M step 1" and "The M step refitted" in _notice(at)
    at.button(key="learn.mixtures.back").click().run()
    assert _step_slider(at).value == "E step 1"
    last = _step_slider(at).options[-1]
    _step_slider(at).set_value(last).run()
    assert "EM stops here" in _notice(at) or "its most" in _notice(at)
    assert len(at.latex) >= 1 + 3 + 2 + 3
    for label, value in (("Components (k)", 4), ("Random start", 3)):
        next(s for s in at.slider if s.label == label).set_value(value).run()
        assert_no_exception(at)
    at.radio(key="learn.mixtures.start").set_value("random").run()
    next(s for s in at.slider if s.label.startswith("Call a pixel uncertain")).set_value(0.6).run()
    assert_no_exception(at)
    assert any("60%" in m.label for m in at.metric)
    assert _step_slider(at).value == "Start"  # new settings, a new run from its start


def test_page_on_the_gray_and_the_colour_photo(open_lesson):
    at = open_lesson(PAGE)
    assert "No ground truth for this image" in " ".join(c.value for c in at.caption)
    at.button(key="learn.mixtures.next").click().run()
    _answer(at, "likelihood", "go down")  # wrong on purpose: the page says why
    assert at.warning and "never lowers" in at.warning[0].value
    at.radio(key="learn.mixtures.photo").set_value("chelsea").run()
    assert_no_exception(at)
    for features in ("Lb", "rg", "gray", "ab"):
        at.radio(key="learn.mixtures.features").set_value(features).run()
        assert_no_exception(at)
    at.button(key="learn.mixtures.next").click().run()
    at.button(key="learn.mixtures.next").click().run()
    assert _step_slider(at).value == "M step 1"
    assert any("\\Sigma_1" in line.value for line in at.latex)
    _answer(at, "component", "component 1")


def test_page_on_the_learners_own_colour_image_and_a_two_value_image(open_lesson):
    at = open_lesson(PAGE, sample=("generated", "colour shapes"))
    at.radio(key="learn.mixtures.image").set_value("yours").run()
    assert_no_exception(at)
    assert "Against the ground truth" in " ".join(m.value for m in at.markdown)
    _step_slider(at).set_value("E step 1").run()
    _answer(at, "likelihood", "go up")
    at = open_lesson(PAGE, sample=("generated", "two regions"))
    at.radio(key="learn.mixtures.image").set_value("yours").run()
    assert_no_exception(at)
    assert any("fewer than k = 3" in w.value for w in at.warning)
    next(s for s in at.slider if s.label == "Components (k)").set_value(2).run()
    assert_no_exception(at)
    assert not any("EM cannot run" in w.value for w in at.warning)
