"""The graphs lesson: Felzenszwalb's replay against scikit-image and against a direct
computation of its merge numbers, SLIC's distance against scikit-image's assignment,
the region graph against scikit-image's RAG, the Laplacian's eigenpairs against
SciPy, the cut against the engine's spectral method; then the page driven headless
(every control, both questions, all three image choices)."""

import numpy as np
import pytest
import scipy.linalg
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree
from skimage import graph as skgraph
from skimage import segmentation
from skimage.segmentation import find_boundaries

from conftest import assert_no_exception
from segcore import learn, synthetic
from segcore.color import to_space
from segcore.learn import graphs as gr
from segcore.methods import graph as methods

PAGE = "pages/learn/graphs.py"


def _photo(max_pixels=20_000):
    from segcore import io as sio
    from segcore.samples import skimage_png
    return learn.small_copy(sio.load_image(skimage_png("coffee")), max_pixels=max_pixels)[0]


def _crops():
    photo = _photo()
    shapes = synthetic.colour_shapes((96, 128)).image
    coins = synthetic.noisy((64, 64)).image  # one channel
    rng = np.random.default_rng(3)
    return {"photo": photo[40:72, 60:92], "shapes": shapes[20:52, 80:112],
            "gray": coins[10:40, 20:48], "noise": rng.random((20, 24, 3)).astype(np.float32)}


# --------------------------------------------------------------------------- Felzenszwalb


@pytest.mark.parametrize("name", list(_crops()))
@pytest.mark.parametrize("scale, min_size", [(10, 1), (100, 1), (1000, 1), (100, 15)])
def test_the_replay_gives_scikit_images_felzenszwalb_labels(name, scale, min_size):
    crop = _crops()[name]
    run = gr.felzenszwalb_run(crop, scale=scale, min_size=min_size)
    feats = to_space(crop, "lab")
    expected = segmentation.felzenszwalb(feats, scale=scale, sigma=0.8, min_size=min_size,
                                         channel_axis=-1) + 1
    assert np.array_equal(run.labels, expected)
    engine = methods.felzenszwalb(crop, scale=scale, sigma=0.8, min_size=min_size, space="lab")
    assert np.array_equal(run.labels, engine.labels)
    # every test that merges makes one region fewer
    if min_size == 1:
        assert run.n_merges + run.n_regions == crop.shape[0] * crop.shape[1]
        assert np.array_equal(run.labels_at(run.n_tests), run.labels)


def test_the_pixel_graph_is_every_8_neighbour_pair_weighted_by_blurred_colour_difference():
    from scipy import ndimage as ndi

    crop = _crops()["photo"][:12, :15]
    h, w = crop.shape[:2]
    graph = gr.pixel_graph(crop, sigma=0.8)
    assert graph.n_edges == 4 * h * w - 3 * h - 3 * w + 2
    assert np.all(np.diff(graph.weights) >= 0)
    rows, cols = np.divmod(graph.edges, w)
    assert np.abs(np.diff(rows, axis=1)).max() == 1 == np.abs(np.diff(cols, axis=1)).max()
    pairs = {tuple(sorted(e)) for e in graph.edges.tolist()}
    assert len(pairs) == graph.n_edges  # no edge twice
    feats = ndi.gaussian_filter(to_space(crop, "lab").astype(np.float64), [0.8, 0.8, 0],
                                mode="reflect").reshape(h * w, -1)
    direct = np.linalg.norm(feats[graph.edges[:, 0]] - feats[graph.edges[:, 1]], axis=1)
    assert np.allclose(graph.weights, direct, atol=1e-12)


def _internal(graph, members):
    """The largest edge of the minimum spanning tree of the pixels ``members``."""
    if members.sum() == 1:
        return 0.0
    e = graph.edges
    keep = members[e[:, 0]] & members[e[:, 1]]
    n = members.size
    # SciPy drops zero weights, so shift them all by one (a spanning tree of a graph
    # always has the same number of edges, so the tree found is the same).
    tree = minimum_spanning_tree(coo_matrix((graph.weights[keep] + 1, (e[keep, 0], e[keep, 1])),
                                            shape=(n, n)))
    assert tree.nnz == members.sum() - 1  # the region is connected
    return float(tree.data.max() - 1)


@pytest.mark.parametrize("name", ["photo", "shapes", "gray"])
def test_merge_numbers_match_a_direct_computation(name):
    crop = _crops()[name]
    run = gr.felzenszwalb_run(crop, scale=100)
    graph = run.graph
    rng = np.random.default_rng(0)
    refused = np.flatnonzero(~run.merged)
    merged = np.flatnonzero(run.merged)
    steps = np.r_[rng.choice(merged, 12, replace=False), refused[:12], gr.largest_decision(run)]
    assert refused.size > 0
    for step in steps:
        d = run.decision(int(step))
        labels = run.labels_at(int(step)).ravel()
        one, two = labels == labels[d.pixels[0]], labels == labels[d.pixels[1]]
        assert not (one & two).any()
        assert d.sizes == (one.sum(), two.sum())
        assert d.internal[0] == pytest.approx(_internal(graph, one), abs=1e-12)
        assert d.internal[1] == pytest.approx(_internal(graph, two), abs=1e-12)
        e = graph.edges
        between = (one[e[:, 0]] & two[e[:, 1]]) | (two[e[:, 0]] & one[e[:, 1]])
        assert d.dif == pytest.approx(graph.weights[between].min(), abs=1e-12)  # Dif: weakest link
        k = 100 / 255
        assert d.m_int == pytest.approx(min(d.internal[0] + k / d.sizes[0],
                                            d.internal[1] + k / d.sizes[1]))
        if abs(d.dif - d.m_int) > 1e-6:  # scikit-image rounds the thresholds to floats
            assert d.merged == (d.dif < d.m_int)


def test_after_a_refusal_the_region_with_the_lower_threshold_never_grows():
    run = gr.felzenszwalb_run(_crops()["photo"], scale=100)
    final = run.labels_at(run.n_tests).ravel()
    for step in np.flatnonzero(~run.merged):
        d = run.decision(int(step))
        side = 0 if d.thresholds[0] <= d.thresholds[1] else 1
        labels = run.labels_at(int(step)).ravel()
        pixel = d.pixels[side]
        then, later = labels == labels[pixel], final == final[pixel]
        assert np.array_equal(then, later), step


def test_the_question_is_the_test_with_the_largest_smaller_region():
    run = gr.felzenszwalb_run(_crops()["shapes"], scale=300)
    asked = gr.largest_decision(run)
    smaller = run.sizes.min(axis=1)
    assert smaller[asked] == smaller.max()
    pic = gr.decision_picture(_crops()["shapes"], run.labels_at(asked), run.decision(asked))
    p, q = run.decision(asked).pixels
    w = run.graph.shape[1]
    assert pic[p // w, p % w].tolist() == [1.0, 0.0, 0.0] == pic[q // w, q % w].tolist()


def test_the_busiest_window_holds_the_edge():
    img = np.zeros((100, 120, 3), np.float32)
    img[:, 80:] = 1
    top, left = gr.busiest_window(img, size=32)
    assert left < 80 <= left + 32 and 0 <= top <= 100 - 32
    assert gr.busiest_window(img[:10, :10], size=32) == (0, 0)


# --------------------------------------------------------------------------- SLIC


def test_slic_assigns_almost_every_pixel_to_the_centre_nearest_by_the_lessons_distance():
    img = _photo()
    feats = to_space(img, "lab")
    rng = np.random.default_rng(0)
    for m in (3, 30):
        # The engine's settings, without the clean-up that hands stray pieces over.
        sp = segmentation.slic(feats, n_segments=100, compactness=m / 100, sigma=0,
                               channel_axis=-1, convert2lab=False, start_label=1,
                               enforce_connectivity=False)
        sp = np.unique(sp, return_inverse=True)[1].reshape(sp.shape) + 1
        pixels = [tuple(int(rng.integers(0, s)) for s in sp.shape) for _ in range(150)]
        nearest = [gr.slic_distances(img, sp, p, n_segments=100, compactness=m)[0].label == sp[p]
                   for p in pixels]
        assert np.mean(nearest) > 0.95, m


def test_the_slic_distance_is_the_formula_on_the_stretched_features():
    img = _photo(5_000)
    sp = methods.slic(img, n_segments=40, compactness=10, sigma=0.0, space="lab").labels
    feats = to_space(img, "lab").astype(np.float64)
    feats = (feats - feats.min()) / (feats.max() - feats.min())  # scikit-image's stretch
    pixel = (10, 20)
    step = gr.slic_step(sp.shape, 40)
    for d in gr.slic_distances(img, sp, pixel, n_segments=40, compactness=10):
        inside = sp == d.label
        centre = np.argwhere(inside).mean(0)
        colour = feats[inside].mean(0)
        assert d.space == pytest.approx(np.hypot(*(centre - pixel)))
        assert d.colour == pytest.approx(100 * np.linalg.norm(feats[pixel] - colour))
        assert d.distance == pytest.approx(np.sqrt(d.colour ** 2 + (d.space / step * 10) ** 2))
        assert d.label == sp[pixel] or max(abs(centre - pixel)) <= 2 * step


def test_the_stretched_pixel_is_far_from_its_centre_and_still_nearest_to_it():
    img = _photo()
    sp = methods.slic(img, n_segments=100, compactness=3, sigma=0.0, space="lab").labels
    pixel = gr.stretched_pixel(img, sp, n_segments=100, compactness=3)
    found = gr.slic_distances(img, sp, pixel, n_segments=100, compactness=3)
    assert found[0].label == sp[pixel]
    rows, cols = np.indices(sp.shape)
    far = np.zeros(sp.shape)
    for label in range(1, sp.max() + 1):
        inside = sp == label
        r, c = rows[inside], cols[inside]
        far[inside] = np.hypot(r - r.mean(), c - c.mean())
    assert found[0].space >= np.quantile(far, 0.99)


# --------------------------------------------------------------------------- region graph


@pytest.mark.parametrize("which", ["shapes", "photo", "gray"])
def test_the_region_graph_is_scikit_images_rag_mean_color(which):
    img = {"shapes": synthetic.colour_shapes((96, 128)).image, "photo": _photo(),
           "gray": synthetic.noisy((80, 80)).image}[which]
    sp = methods.slic(img, n_segments=120, compactness=10, sigma=0.0, space="lab").labels
    graph = gr.region_graph(img, sp)
    rag = skgraph.rag_mean_color(to_space(img, "lab"), sp, connectivity=1)
    ours = {(int(a) + 1, int(b) + 1): d for (a, b), d in zip(graph.edges, graph.distances)}
    theirs = {tuple(sorted(e)): rag.edges[e]["weight"] for e in rag.edges}
    assert set(ours) == set(theirs)
    channels = graph.colours.shape[1]
    for node in rag.nodes:
        assert np.allclose(graph.colours[node - 1], rag.nodes[node]["mean color"][:channels])
    # rag_mean_color sums colours into three channels, so a gray value counts three
    # times in its weights: the distance of one channel is its weight / sqrt(3).
    spread = 1 if channels == 3 else np.sqrt(3)
    for edge, weight in theirs.items():
        assert ours[edge] == pytest.approx(weight / spread, abs=1e-5)
    assert graph.sizes.sum() == sp.size
    for node in (1, graph.n_nodes):
        assert np.allclose(graph.centroids[node - 1], np.argwhere(sp == node).mean(0))


def test_bad_region_graphs_are_refused_in_words():
    img = np.zeros((4, 4, 1), np.float32)
    with pytest.raises(ValueError, match="differ in size"):
        gr.region_graph(img, np.ones((3, 4), int))
    with pytest.raises(ValueError, match="none missing"):
        gr.region_graph(img, np.full((4, 4), 2))


# --------------------------------------------------------------------------- spectral


def _small_graph(sigma=0.2):
    img = synthetic.colour_shapes((96, 128)).image
    sp = methods.slic(img, n_segments=120, compactness=10, sigma=0.0, space="lab").labels
    graph = gr.region_graph(img, sp)
    weights = gr.affinity(graph, similarity_sigma=sigma)
    return img, graph, weights


def test_the_laplacians_eigenpairs_solve_the_normalised_cut_problem():
    _, graph, weights = _small_graph()
    spectrum = gr.laplacian_spectrum(weights, n=6)
    degrees = np.diag(weights.sum(1))
    expected = scipy.linalg.eigh(degrees - weights, degrees, eigvals_only=True)[:6]
    assert np.allclose(spectrum.eigenvalues, np.maximum(expected, 0), atol=1e-9)
    assert spectrum.eigenvalues[0] == pytest.approx(0, abs=1e-10)
    y = spectrum.eigenvectors
    assert np.ptp(y[:, 0]) < 1e-8 * np.abs(y[:, 0]).max()  # the first is constant
    for j in range(6):
        residual = (degrees - weights) @ y[:, j] - spectrum.eigenvalues[j] * degrees @ y[:, j]
        assert np.abs(residual).max() < 1e-8
        assert y[:, j] @ degrees @ y[:, j] == pytest.approx(1)
        assert y[np.argmax(np.abs(y[:, j])), j] > 0


def test_the_fiedler_cut_is_the_best_split_of_y2_and_no_cut_beats_lambda_2():
    _, graph, weights = _small_graph()
    spectrum = gr.laplacian_spectrum(weights)
    cut = gr.fiedler_cut(weights, spectrum)
    direct = gr.normalized_cut(weights, cut.inside)
    assert cut.ncut == pytest.approx(direct.ncut)
    a, b = cut.inside, ~cut.inside
    assert cut.cut == pytest.approx(weights[np.ix_(a, b)].sum())
    assert cut.assoc_a == pytest.approx(weights[a].sum())
    y2 = spectrum.eigenvectors[:, 1]
    others = [gr.normalized_cut(weights, y2 >= t).ncut for t in np.unique(y2)[1:]]
    assert cut.ncut == pytest.approx(min(others))
    rng = np.random.default_rng(0)
    for _ in range(50):
        split = rng.random(graph.n_nodes) < rng.uniform(0.05, 0.95)
        if split.any() and not split.all():
            assert gr.normalized_cut(weights, split).ncut >= spectrum.eigenvalues[1] - 1e-12
    assert cut.ncut >= spectrum.eigenvalues[1] - 1e-12
    # on the colour shapes the cut cuts off one whole shape
    img = synthetic.colour_shapes((96, 128))
    truth = gr.paint(graph.superpixels, cut.inside)
    shape = np.bincount(img.truth[truth]).argmax()
    assert shape >= 2 and (img.truth[truth] == shape).mean() > 0.95


@pytest.mark.parametrize("k, sigma", [(2, 0.2), (3, 0.1), (4, 0.4)])
def test_k_means_on_the_eigenvectors_is_the_engines_spectral_clustering(k, sigma):
    img, graph, weights = _small_graph(sigma)
    clusters = gr.spectral_clusters(gr.laplacian_spectrum(weights), k=k, rng=0)
    ours = gr.spectral_labels(img, graph, clusters)
    engine = methods.spectral(img, k=k, n_segments=120, compactness=10, similarity_sigma=sigma,
                              space="lab", rng=0)
    assert np.array_equal(ours, engine.labels)


def test_spectral_errors_are_refused_in_words():
    _, graph, weights = _small_graph()
    with pytest.raises(ValueError, match="similarity_sigma"):
        gr.affinity(graph, similarity_sigma=0)
    with pytest.raises(ValueError, match="square"):
        gr.laplacian_spectrum(np.ones((2, 3)))
    with pytest.raises(ValueError, match="positive weight"):
        gr.laplacian_spectrum(np.zeros((2, 2)))
    with pytest.raises(ValueError, match="both sides"):
        gr.normalized_cut(weights, np.ones(graph.n_nodes, bool))
    with pytest.raises(ValueError, match="k must be"):
        gr.spectral_clusters(gr.laplacian_spectrum(weights), k=1)
    with pytest.raises(ValueError, match="scale"):
        gr.felzenszwalb_run(np.zeros((4, 4, 1), np.float32), scale=0)
    with pytest.raises(ValueError, match="min_size"):
        gr.felzenszwalb_run(np.zeros((4, 4, 1), np.float32), scale=1, min_size=0)
    with pytest.raises(ValueError, match="sigma"):
        gr.pixel_graph(np.zeros((4, 4, 1), np.float32), sigma=-1)
    run = gr.felzenszwalb_run(np.zeros((4, 4, 1), np.float32), scale=10)
    with pytest.raises(ValueError, match="step"):
        run.decision(run.n_tests)


def test_the_candidate_splits_hold_the_cut_once_and_differ_from_each_other():
    img, graph, weights = _small_graph()
    cut = gr.fiedler_cut(weights, gr.laplacian_spectrum(weights))
    choices = gr.split_choices(img, graph, cut.inside)
    names = [name for name, _ in choices]
    assert names.count("the cut") == 1 and len(choices) >= 2
    total = graph.sizes.sum()
    for i, (_, a) in enumerate(choices):
        assert a.any() and not a.all()
        for _, b in choices[i + 1:]:
            agree = graph.sizes[a == b].sum() / total
            assert max(agree, 1 - agree) <= 0.85


def test_pictures_paint_regions_and_signs():
    sp = np.array([[1, 1, 2], [3, 3, 2]])
    values = gr.paint(sp, np.array([-2.0, 0.0, 4.0]))
    assert values.tolist() == [[-2.0, -2.0, 0.0], [4.0, 4.0, 0.0]]
    pic = gr.diverging_picture(values)
    assert pic[0, 0].tolist() == pytest.approx([0.13, 0.4, 0.67])  # the lowest: full blue
    assert pic[1, 0].tolist() == pytest.approx([0.7, 0.09, 0.17])  # the highest: full red
    assert pic[0, 2].tolist() == [1.0, 1.0, 1.0]
    big = np.repeat(np.repeat(sp, 3, axis=0), 3, axis=1)
    out = gr.superpixel_picture(np.zeros((6, 9, 1), np.float32), big, highlight=3)
    edge = find_boundaries(big, mode="inner")
    assert np.allclose(out[edge], [1.0, 0.9, 0.0])
    assert out[4, 1].tolist() == [0.0, 0.5, 0.5]  # inside superpixel 3: tinted cyan
    assert out[1, 1].tolist() == [0.0, 0.0, 0.0]  # inside another: the image


# --------------------------------------------------------------------------- the page


def _by_prefix(widgets, prefix):
    return next(w for w in widgets if w.key.startswith(prefix))


def _answer(at, question, *, pick=0):
    radio = next(r for r in at.radio if r.key.startswith(f"graphs.{question}.")
                 and r.key.endswith(".guess"))
    radio.set_value(radio.options[pick]).run()
    at.button(key=f"graphs.{question}.reveal").click().run()
    assert_no_exception(at)


@pytest.mark.parametrize("choice", ["photo", "generated", "yours"])
def test_the_lesson_on_each_image(open_lesson, choice):
    at = open_lesson(PAGE)  # the current image stays coins: "yours" is a gray photo
    at.radio(key="learn.graphs.image").set_value(choice).run()
    assert_no_exception(at)
    captions = " ".join(c.value for c in at.caption)
    assert "Commit to an answer and press Reveal; then you can step" in captions
    assert not any(s.key.startswith("graphs.step.") for s in at.slider)  # nothing given away
    # the crop and the scale
    _by_prefix(at.slider, "graphs.top.").set_value(5)
    _by_prefix(at.slider, "graphs.left.").set_value(7)
    at.select_slider(key="graphs.scale").set_value(300).run()
    assert_no_exception(at)
    assert r"\frac{300}{255}" in " ".join(e.value for e in at.latex)
    assert "rows 5–36 and columns 7–38" in " ".join(c.value for c in at.caption)
    _answer(at, "merge")
    feedback = " ".join(e.value for e in [*at.success, *at.warning])
    assert "the link weighs" in feedback
    # every test, one at a time
    step = _by_prefix(at.slider, "graphs.step.")
    step.set_value(1).run()
    assert_no_exception(at)
    assert "Test 1 links regions of 1 and 1 pixels" in " ".join(e.value for e in at.info)
    _by_prefix(at.slider, "graphs.step.").set_value(step.max).run()
    assert_no_exception(at)
    # the whole image, SLIC, the region graph and the spectral settings
    at.slider(key="graphs.min_size").set_value(20)
    at.slider(key="graphs.n_segments").set_value(150)
    at.select_slider(key="graphs.compactness").set_value(30)
    at.select_slider(key="graphs.sigma").set_value(0.4).run()
    assert_no_exception(at)
    assert "With m = 30: The pixel is" in " ".join(e.value for e in at.info)
    assert "The whole image at scale 300:" in " ".join(c.value for c in at.caption)
    assert "Commit to an answer and press Reveal to see the eigenvectors" in " ".join(
        c.value for c in at.caption)
    _answer(at, "split", pick=1)
    feedback = " ".join(e.value for e in [*at.success, *at.warning])
    assert "the part it cuts off holds" in feedback
    latex = " ".join(e.value for e in at.latex)
    assert r"\mathrm{Ncut} = \frac" in latex and r"\lambda_2" in latex
    assert "With σ = 0.4 the cut puts" in " ".join(e.value for e in at.info)
    at.slider(key="graphs.k").set_value(3).run()
    assert_no_exception(at)
    assert "λ4 = " in " ".join(c.value for c in at.caption)  # the eigenvalue after k = 3
    from seglab.lesson import ANSWERS
    assert set(at.session_state[ANSWERS]) == {"graphs.merge", "graphs.split"}
