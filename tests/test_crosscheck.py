"""Each method against the library it wraps, on the same inputs."""

import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import color, exposure, feature, filters, segmentation
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.mixture import GaussianMixture

from segcore import _parallel, samples, segment, synthetic
from segcore.color import to_gray, to_hsv
from segcore.methods import clustering
from segcore.methods import graph as engine_graph
from segcore.methods.clustering import colour_table, lloyd, pixel_features
from segcore.methods.threshold import GLOBAL, global_threshold
from segcore.methods.threshold import histogram as threshold_histogram


@pytest.fixture
def gray_image():
    return synthetic.noisy((48, 56), sigma=0.05, rng=4).image


@pytest.mark.parametrize("algorithm", [a for a in GLOBAL if a != "minimum"])
def test_global_thresholds_match_skimage(algorithm, gray_image):
    seg = segment(gray_image, "threshold", algorithm=algorithm)
    expected = GLOBAL[algorithm](gray_image[:, :, 0])
    assert seg.extras["thresholds"] == [pytest.approx(expected, abs=1e-7)]
    np.testing.assert_array_equal(seg.labels == 2, gray_image[:, :, 0] > expected)


@pytest.mark.parametrize("channels", [1, 3])
def test_labels_written_over_the_gray_image_leave_the_image_as_it_was(channels, monkeypatch):
    # A colour image's gray copy becomes the labels (threshold._split in place); a
    # one-channel image's gray is the image itself and must not be written over.
    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)  # blocks of rows, as on large images
    image = np.random.default_rng(3).random((67, 301, channels), dtype=np.float32)
    before = image.copy()
    for algorithm in ("otsu", "mean", "manual"):
        seg = segment(image, "threshold", algorithm=algorithm)
        t = seg.extras["thresholds"][0]
        np.testing.assert_array_equal(image, before)
        np.testing.assert_array_equal(seg.labels, (to_gray(image) > t) + 1)
        assert seg.labels.dtype == np.int32


@pytest.mark.parametrize("algorithm", list(GLOBAL))
def test_global_thresholds_from_the_parallel_histogram_are_skimages(algorithm, monkeypatch):
    # The histogram is counted in blocks of rows on every core (threshold.histogram);
    # blocks as small as 300 pixels make a small image take that path.
    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)
    rng = np.random.default_rng(7)
    for i in range(12):
        g = rng.beta(rng.uniform(0.3, 4), rng.uniform(0.3, 4), (37, 61)).astype(np.float32)
        if i % 2:  # 8-bit values, as photos have: many ties at bin edges
            g = (np.round(g * 255) / 255).astype(np.float32)
        try:
            expected = GLOBAL[algorithm](g)
        except RuntimeError:  # 'minimum' on a histogram without two peaks
            with pytest.raises(ValueError, match="two peaks"):
                global_threshold(g, algorithm)
            continue
        assert global_threshold(g, algorithm) == float(expected), (algorithm, i)
    counts, centres = threshold_histogram(g)
    reference = exposure.histogram(g.reshape(-1), 256, source_range="image")
    np.testing.assert_array_equal(counts, reference[0])
    np.testing.assert_array_equal(centres, reference[1])


def test_hsv_is_scikit_images_value_for_value():
    # Every 7th 8-bit colour (grays, ties of two or three channels, black included)
    # and random float colours: the same float32 numbers as skimage's rgb2hsv.
    codes = np.arange(0, 256 ** 3, 7)
    eight_bit = np.stack([codes >> 16, (codes >> 8) & 255, codes & 255], 1)
    colours = (eight_bit.astype(np.float32) / 255)[:, None, :]
    np.testing.assert_array_equal(to_hsv(colours), color.rgb2hsv(colours))
    random = np.random.default_rng(3).random((40, 50, 3)).astype(np.float32)
    random[:10] = np.round(random[:10] * 3) / 3  # ties and grays
    np.testing.assert_array_equal(to_hsv(random), color.rgb2hsv(random))


@pytest.mark.parametrize("sigma", [0.5, 1.0, 2.7])
@pytest.mark.parametrize("operator", ["sobel", "prewitt", "scharr"])
def test_blur_and_gradient_by_blocks_of_rows_are_skimages(sigma, operator, monkeypatch):
    # segcore.filters works a block of rows per core; blocks of a few rows (and a
    # block smaller than the blur's reach) make a small image take that path.
    from segcore.filters import blur, gradient_magnitude

    monkeypatch.setattr(_parallel, "MIN_ROWS", 50)
    monkeypatch.setattr(_parallel, "workers", lambda: 7)
    g = np.random.default_rng(3).random((23, 31)).astype(np.float32)
    smooth = blur(g, sigma)
    np.testing.assert_array_equal(smooth, filters.gaussian(g, sigma=sigma))
    np.testing.assert_array_equal(gradient_magnitude(smooth, getattr(filters, operator)),
                                  getattr(filters, operator)(smooth))


def test_multiotsu_matches_skimage(gray_image):
    seg = segment(gray_image, "threshold", algorithm="multiotsu", classes=3)
    np.testing.assert_allclose(seg.extras["thresholds"],
                               filters.threshold_multiotsu(gray_image[:, :, 0], classes=3))


def test_sauvola_matches_skimage(gray_image):
    seg = segment(gray_image, "threshold", algorithm="sauvola", window_size=15, std_weight=0.3)
    tmap = filters.threshold_sauvola(gray_image[:, :, 0], window_size=15, k=0.3)
    np.testing.assert_array_equal(seg.labels == 2, gray_image[:, :, 0] > tmap)


def test_kmeans_plusplus_is_sklearns_draw_for_draw():
    # The same centres from the same RandomState, call after call (best_lloyd draws
    # several starts from one), weighted and not, with ties and with k = 1.
    rng = np.random.default_rng(0)
    for trial in range(60):
        n, d = int(rng.integers(5, 2000)), int(rng.integers(1, 4))
        k = int(rng.integers(1, min(n, 12) + 1))
        x = rng.random((n, d))
        if trial % 3 == 0:
            x = np.round(x * 4) / 4
        weights = rng.integers(1, 100, n).astype(np.float64) if trial % 2 else None
        ours, theirs = np.random.RandomState(trial), np.random.RandomState(trial)
        for _ in range(3):
            expected, _ = kmeans_plusplus(x, k, sample_weight=weights, random_state=theirs)
            got = clustering.kmeans_plusplus(x, k, weights=weights, random_state=ours)
            np.testing.assert_array_equal(got, expected)


def test_lloyd_matches_sklearn_from_the_same_start():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(m, 0.1, (100, 3)) for m in (0.1, 0.5, 0.9)])
    init, _ = kmeans_plusplus(x, 3, random_state=0)
    centres, assign, inertia, _ = lloyd(x, init, max_iter=300, tol=0)
    ref = KMeans(3, init=init, n_init=1, algorithm="lloyd", max_iter=300, tol=0).fit(x)
    np.testing.assert_allclose(centres, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(assign, ref.labels_)
    assert inertia == pytest.approx(ref.inertia_, rel=1e-9)


def eight_bit(image):
    """An image as an 8-bit file gives it: values in steps of 1/255."""
    return (np.round(image * 255) / 255).astype(np.float32)


@pytest.mark.parametrize("space", ["lab", "rgb", "hsv", "gray"])
def test_distinct_colours_stand_for_every_pixel(space):
    img = eight_bit(synthetic.colour_shapes((40, 48)).image)
    features, counts, index = colour_table(img, space)
    np.testing.assert_allclose(features[index], pixel_features(img, space), atol=1e-6)
    assert counts.sum() == 40 * 48 and len(features) == len(np.unique(features, axis=0))


@pytest.mark.parametrize("space", ["lab", "gray"])
def test_kmeans_on_distinct_colours_is_sklearn_on_every_pixel(space):
    # The fast path (weighted Lloyd on distinct colours) against the plain one
    # (scikit-learn's Lloyd on all pixels) from the same start.
    img = eight_bit(synthetic.colour_shapes((40, 48)).image)
    features, counts, index = colour_table(img, space)
    init, _ = kmeans_plusplus(features, 4, sample_weight=counts, random_state=0)
    centres, assign, inertia, _ = lloyd(features, init, max_iter=300, tol=0, weights=counts)
    ref = KMeans(4, init=init, n_init=1, algorithm="lloyd", max_iter=300, tol=0).fit(
        pixel_features(img, space))
    np.testing.assert_allclose(centres, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(assign[index], ref.labels_)
    assert inertia == pytest.approx(ref.inertia_, rel=1e-6)
    # The method keeps the best of several starts: never worse than this one.
    seg = segment(img, "kmeans", k=4, space=space, rng=0, max_iter=300)
    assert seg.extras["inertia"] <= ref.inertia_ * (1 + 1e-6)


def test_gaussian_log_densities_are_scipys():
    # The expanded quadratic form (monomials times coefficients) against scipy's
    # multivariate normal, with narrow components far from some rows.
    from scipy.stats import multivariate_normal

    rng = np.random.default_rng(0)
    for d in (1, 2, 3):
        x = rng.random((3000, d))
        means = rng.random((5, d))
        spread = rng.normal(size=(5, d, d)) * rng.uniform(0.001, 0.2, (5, 1, 1))
        covs = spread @ spread.transpose(0, 2, 1) + clustering.REG_COVAR * np.eye(d)
        got = clustering._log_densities(x, means, covs, "full")
        for j in range(5):
            expected = multivariate_normal(means[j], covs[j]).logpdf(x).reshape(-1)
            np.testing.assert_allclose(got[:, j], expected, rtol=1e-9, atol=1e-7)


def test_em_covariances_are_the_weighted_centred_sums():
    # scikit-learn's M-step, component by component, with a bin's own scatter added.
    rng = np.random.default_rng(1)
    x, w = rng.random((500, 3)), rng.integers(1, 50, 500).astype(np.float64)
    resp = rng.dirichlet(np.ones(4), 500)
    spread = rng.normal(size=(500, 3, 3)) * 0.01
    scatter = w[:, None, None] * spread @ spread.transpose(0, 2, 1)
    weights, means, covs = clustering._estimate(x, w, resp, "full", scatter)
    r = resp * w[:, None]
    for j in range(4):
        nk = r[:, j].sum() + 10 * np.finfo(np.float64).eps
        diff = x - means[j]
        expected = ((r[:, j] * diff.T) @ diff + np.tensordot(resp[:, j], scatter, 1)) / nk
        np.testing.assert_allclose(covs[j], expected + clustering.REG_COVAR * np.eye(3),
                                   rtol=1e-10, atol=1e-15)
        np.testing.assert_allclose(means[j], r[:, j] @ x / nk, rtol=1e-12)


def test_kept_fit_rows_give_the_fresh_result():
    # The distinct colours and their cells are kept between k moves (segcore._memo
    # and ColourTable.fit_rows); a second run must equal a run from nothing.
    from segcore import _memo

    img = _photo((120, 160))
    _memo.clear()
    first = [segment(img, m, k=4).labels for m in ("kmeans", "gmm")]
    table = clustering.table(img, "lab")
    assert table.fit_rows() is table.fit_rows()
    assert not table.fit_rows()[0].flags.writeable
    again = [segment(img, m, k=4).labels for m in ("kmeans", "gmm")]
    _memo.clear()
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)


def test_posteriors_in_blocks_equal_one_pass(monkeypatch):
    rng = np.random.default_rng(2)
    x, w = rng.random((4000, 3)), rng.integers(1, 9, 4000).astype(np.float64)
    spread = rng.normal(size=(6, 3, 3)) * 0.1
    params = (rng.dirichlet(np.ones(6)), rng.random((6, 3)),
              spread @ spread.transpose(0, 2, 1) + 1e-4 * np.eye(3))
    ll, resp = clustering.posteriors(x, w, params, "full")
    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)
    ll_blocks, resp_blocks = clustering.posteriors(x, w, params, "full")
    np.testing.assert_array_equal(resp_blocks, resp)
    assert ll_blocks == ll
    np.testing.assert_allclose(resp.sum(1), 1, rtol=1e-12)


@pytest.mark.parametrize("covariance_type", ["full", "tied", "diag", "spherical"])
def test_gmm_on_distinct_colours_is_sklearn_on_every_pixel(covariance_type):
    img = eight_bit(synthetic.colour_shapes((40, 48)).image)
    seg = segment(img, "gmm", k=3, space="lab", covariance_type=covariance_type, rng=0,
                  max_iter=5)
    start, steps = seg.extras["history"][0], seg.extras["n_iter"]
    covs = start["covariances"]
    precisions = np.linalg.inv(covs) if covariance_type in ("full", "tied") else 1 / covs
    x = pixel_features(img, "lab")
    ref = GaussianMixture(3, covariance_type=covariance_type, max_iter=steps, tol=0,
                          reg_covar=1e-6, weights_init=start["weights"],
                          means_init=start["means"], precisions_init=precisions)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stopping at n iterations on purpose
        ref.fit(x)
    np.testing.assert_allclose(seg.extras["means"], ref.means_, atol=1e-7)
    np.testing.assert_allclose(seg.extras["covariances"], ref.covariances_, rtol=1e-5, atol=1e-9)
    np.testing.assert_allclose(seg.probabilities.reshape(-1, 3), ref.predict_proba(x), atol=1e-5)
    assert seg.extras["log_likelihood"] == pytest.approx(ref.score(x), abs=1e-6)


@pytest.mark.parametrize("name", ["photo", "shapes"])
@pytest.mark.parametrize("space", ["rgb", "lab", "gray"])
def test_felzenszwalb_matches_skimage(name, space):
    """Our merge loop (path halving, compiled, graph kept between calls) gives
    scikit-image's labels exactly, on photos and in every colour space, while the
    scale and smallest-region sliders move over the same kept graph."""
    from segcore.color import to_space

    img = synthetic.colour_shapes((48, 64)).image if name == "shapes" else _photo((90, 120))
    feats = to_space(img, space)
    for scale, sigma, min_size in [(300, 0.8, 200), (50, 0.8, 200), (50, 0.8, 5),
                                   (10, 0.0, 1), (2000, 0.5, 20)]:
        seg = segment(img, "felzenszwalb", space=space, scale=scale, sigma=sigma,
                      min_size=min_size)
        ref = segmentation.felzenszwalb(feats, scale=scale, sigma=sigma, min_size=min_size,
                                        channel_axis=-1)
        np.testing.assert_array_equal(seg.labels, ref + 1)


@pytest.mark.parametrize("name", ["photo", "shapes"])
@pytest.mark.parametrize("space", ["rgb", "lab", "gray"])
def test_slic_matches_skimage(name, space):
    """Our SLIC (rows on every core, blur kept between calls) gives scikit-image's
    labels exactly, on a photo and shapes, in every colour space, as the sliders move."""
    from segcore.color import to_space

    img = synthetic.colour_shapes((48, 64)).image if name == "shapes" else _photo((90, 120))
    feats = to_space(img, space)
    feats = feats[:, :, 0] if space == "gray" else feats
    for n_segments, compactness, sigma in [(30, 10.0, 1.0), (200, 10.0, 1.0), (7, 30.0, 0.0),
                                           (500, 1.0, 2.0)]:
        seg = segment(img, "slic", space=space, n_segments=n_segments, compactness=compactness,
                      sigma=sigma)
        ref = segmentation.slic(feats, n_segments=n_segments, compactness=compactness / 100,
                                sigma=sigma, convert2lab=False, start_label=1,
                                channel_axis=None if space == "gray" else -1)
        np.testing.assert_array_equal(seg.labels, ref)


def test_slic_centres_in_blocks_equal_one_pass():
    """SLIC's centre update runs a block of centres per core on large images; on any
    split into blocks the centres are those of one pass, bit for bit."""
    from segcore.methods._loops import slic_centres, slic_windows

    rng = np.random.default_rng(0)
    h, w, n = 40, 60, 24
    image = rng.random((h, w, 3), dtype=np.float32)
    start = np.zeros((n, 6), np.float32)
    start[:, 1] = np.repeat(np.linspace(4, h - 5, 4), 6)  # a grid, row by row
    start[:, 2] = np.tile(np.linspace(4, w - 5, 6), 4)
    windows = slic_windows(start, 10, 10, h, w)
    # each pixel to the nearest centre whose window holds it
    ys, xs = np.mgrid[:h, :w]
    inside = ((ys[..., None] >= windows[:, 0]) & (ys[..., None] < windows[:, 1])
              & (xs[..., None] >= windows[:, 2]) & (xs[..., None] < windows[:, 3]))
    dist = np.where(inside, (ys[..., None] - start[:, 1]) ** 2 + (xs[..., None] - start[:, 2]) ** 2,
                    np.inf)
    nearest = (dist.argmin(-1) + 1).astype(np.int64)
    whole = start.copy()
    slic_centres(image, nearest, whole, windows, 0, n)
    for cuts in ([0, 12, 24], [0, 5, 17, 24], [0, 1, 23, 24]):
        parts = start.copy()
        for a, b in zip(cuts[:-1], cuts[1:]):
            slic_centres(image, nearest, parts, windows, a, b)
        np.testing.assert_array_equal(parts, whole)


def test_watershed_with_seeds_matches_skimage(gray_image):
    seeds = [(5, 5, 1), (30, 30, 2), (40, 50, 3)]
    seg = segment(gray_image, "watershed", seeds=seeds, sigma=1.5, regularity=0.0)
    markers = np.zeros(gray_image.shape[:2], np.int32)
    for r, c, lab in seeds:
        markers[r, c] = lab
    ref = segmentation.watershed(filters.sobel(filters.gaussian(gray_image[:, :, 0], sigma=1.5)), markers)
    np.testing.assert_array_equal(seg.labels, ref)


@pytest.mark.parametrize("auto_markers", ["low-gradient", "h-minima", "distance"])
@pytest.mark.parametrize("h", [0.02, 0.1, 0.3])
def test_watershed_automatic_markers_match_skimage_on_a_photo(auto_markers, h):
    """The compiled flood gives scikit-image's labels on a photo's relief, from the
    same markers, whatever the markers."""
    from segcore.methods.watershed import _distance_relief, _relief

    img = _photo((90, 120))
    seg = segment(img, "watershed", auto_markers=auto_markers, h=h)
    gray = to_gray(img)
    elevation = (_distance_relief(gray, 1.0)[3] if auto_markers == "distance"
                 else _relief(gray, 1.0)[1])
    ref = segmentation.watershed(elevation, seg.extras["markers"])
    np.testing.assert_array_equal(seg.labels, ref)


@pytest.mark.parametrize("seed", range(8))
def test_flood_matches_skimage_on_random_reliefs(seed):
    """Random reliefs and markers: equal labels where marker levels are distinct; on
    reliefs of four levels (ties everywhere) only the order of marker pixels at the
    same level differs from scikit-image's heap, on a few pixels at most."""
    from segcore.methods.watershed import flood

    rng = np.random.default_rng(seed)
    h, w = rng.integers(5, 70, 2)
    markers = np.zeros((h, w), np.int32)
    for label in range(1, 7):
        markers[rng.integers(0, h), rng.integers(0, w)] = label
    relief = rng.random((h, w))
    np.testing.assert_array_equal(flood(relief, markers), segmentation.watershed(relief, markers))
    stepped = rng.integers(0, 4, (h, w)).astype(np.float64)
    block = np.zeros((h, w), np.int32)
    block[: h // 3, : w // 3] = 1
    block[-(h // 3):, -(w // 3):] = 2
    agree = (flood(stepped, block) == segmentation.watershed(stepped, block)).mean()
    assert agree >= 0.99


def _flood_by_heapq(relief, markers):
    """The flood's definition, plainly: pixels leave one priority queue in order of
    (cost, arrival, pixel), 4-connected, up, left, right, down."""
    import heapq

    h, w = relief.shape
    out = markers.astype(np.int32).ravel().copy()
    flat = relief.ravel()
    queue = [(flat[i], 0, i) for i in np.flatnonzero(out)]
    heapq.heapify(queue)
    age = 0
    while queue:
        level, _, i = heapq.heappop(queue)
        r, c = divmod(int(i), w)
        for nr, nc in ((r - 1, c), (r, c - 1), (r, c + 1), (r + 1, c)):
            if 0 <= nr < h and 0 <= nc < w and out[nr * w + nc] == 0:
                age += 1
                out[nr * w + nc] = out[i]
                heapq.heappush(queue, (max(flat[nr * w + nc], level), age, nr * w + nc))
    return out.reshape(h, w)


@pytest.mark.parametrize("seed", range(6))
def test_flood_pops_pixels_in_the_queues_order_on_plateaus(seed):
    # The compiled flood keeps pixels reached at the current level in a first-in-first-
    # out line beside its heap; on plateaus and many markers (ties everywhere) the order
    # must still be exactly that of one queue of (cost, arrival, pixel).
    from segcore.methods.watershed import flood

    rng = np.random.default_rng(seed)
    for kind in range(4):
        h, w = rng.integers(2, 40, 2)
        relief = [rng.random((h, w)), np.round(rng.random((h, w)) * 3) / 3,
                  np.zeros((h, w)), rng.integers(0, 5, (h, w)) / 4.0][kind]
        markers = np.zeros((h, w), np.int32)
        picked = rng.choice(h * w, size=int(rng.integers(1, max(2, h * w // 15))), replace=False)
        markers.ravel()[picked] = rng.integers(1, 6, len(picked))
        np.testing.assert_array_equal(flood(relief, markers), _flood_by_heapq(relief, markers))


@pytest.mark.parametrize("seed", range(4))
def test_h_maxima_and_the_reconstruction_are_scikit_images(seed):
    from skimage import morphology

    from segcore.methods._loops import reconstruct_by_dilation
    from segcore.methods.watershed import h_maxima

    rng = np.random.default_rng(seed)
    for kind in range(6):
        h, w = rng.integers(1, 60, 2)
        image = [rng.random((h, w)), np.round(rng.random((h, w)) * 4) / 4,
                 ndi.distance_transform_edt(rng.random((h, w)) > 0.3),
                 ndi.distance_transform_edt(ndi.binary_opening(rng.random((h, w)) > 0.2)),
                 np.zeros((h, w)), ndi.gaussian_filter(rng.random((h, w)), 2) * 1e6][kind]
        for depth in (0.05, 0.5, 2.0):
            step = depth * max(float(image.max()), 1e-9)
            np.testing.assert_array_equal(h_maxima(image, step),
                                          morphology.h_maxima(image, step).astype(bool))
            # the h-minima markers take h_maxima of the negated image
            np.testing.assert_array_equal(h_maxima(-image, step),
                                          morphology.h_minima(image, step).astype(bool))
        marker = image - rng.random((h, w))
        np.testing.assert_array_equal(reconstruct_by_dilation(marker, image),
                                      morphology.reconstruction(marker, image))


def test_region_growing_one_seed_matches_flood(gray_image):
    seg = segment(gray_image, "region_growing", seeds=[(20, 20, 1)], tolerance=0.15, connectivity=4)
    ref = segmentation.flood(gray_image[:, :, 0], (20, 20), tolerance=0.15, connectivity=1)
    np.testing.assert_array_equal(seg.labels == 1, ref)


def test_random_walker_matches_skimage(gray_image):
    markers = np.zeros(gray_image.shape[:2], np.int32)
    markers[2, 2], markers[45, 50] = 1, 2
    seg = segment(gray_image, "random_walker", seeds=markers, beta=130.0)
    exact = segmentation.random_walker(gray_image[:, :, 0].astype(np.float64), markers,
                                       beta=130.0, mode="bf", return_full_prob=True)
    # The multigrid solve (the fast path) agrees with the direct solve (the plain one).
    np.testing.assert_array_equal(seg.labels, exact.argmax(0) + 1)
    np.testing.assert_allclose(np.moveaxis(seg.probabilities, 2, 0), exact, atol=1e-3)


def test_chan_vese_matches_skimage(gray_image):
    seg = segment(gray_image, "chan_vese", mu=0.2, max_iter=40)
    ref = segmentation.chan_vese(gray_image[:, :, 0].astype(np.float64), mu=0.2, max_num_iter=40)
    # Ours numbers the darker side 1; skimage gives True for the inside.
    same = (seg.labels == 2) == ref
    assert same.all() or (~same).all()


@pytest.mark.parametrize("mu", [0.1, 0.5])
def test_chan_vese_step_by_step_is_scikit_images_one_call(mu):
    # The loop that reports progress takes the steps of skimage's own loop: the same
    # contour, level set and energies to rounding, and the same stopping iteration
    # (mu=0.5 stops early on its tolerance, mu=0.1 runs to max_iter). Far from the
    # contour the level set keeps growing and rounding differences with it (after
    # 120 steps at mu=0.1 by up to 0.1 where it is 2.5); near it they stay at 1e-12.
    from skimage import data

    from segcore.methods.regions import chan_vese_steps

    g = data.camera()[::6, ::6] / 255.0
    ref = segmentation.chan_vese(g, mu=mu, max_num_iter=120, extended_output=True)
    got = chan_vese_steps(g, mu=mu, lambda1=1.0, lambda2=1.0, max_iter=120)
    near = np.abs(ref[1]) < 1
    np.testing.assert_allclose(got[1][near], ref[1][near], rtol=1e-9, atol=1e-9)
    assert np.abs(got[1] - ref[1]).mean() < 1e-3
    np.testing.assert_allclose(got[2], ref[2], rtol=1e-4)
    assert len(got[2]) == len(ref[2]) and (got[0] == ref[0]).all()
    assert (len(ref[2]) == 120) == (mu == 0.1)  # both ways of stopping are covered


@pytest.mark.parametrize("seed", [0, 1])
def test_one_chan_vese_step_is_scikit_images_step_and_energy(seed):
    from skimage.segmentation._chan_vese import _cv_calculate_variation, _cv_energy

    from segcore.methods.regions import chan_vese_step

    rng = np.random.default_rng(seed)
    image = rng.random((30, 41))
    phi = rng.normal(0, 3, (30, 41))
    new, energy = chan_vese_step(image, phi, mu=0.3, lambda1=1.5, lambda2=0.7, dt=0.5)
    np.testing.assert_allclose(new, _cv_calculate_variation(image, phi, 0.3, 1.5, 0.7, 0.5),
                               rtol=1e-12, atol=1e-12)
    assert energy == pytest.approx(_cv_energy(image, phi, 0.3, 1.5, 0.7), rel=1e-10)


def test_chan_vese_from_a_coarse_start_finds_the_plain_runs_contour():
    # The coarse start (large images) against the plain checkerboard start, on a photo
    # made large enough to take it: labels agree on most pixels, and the energy it
    # settles at is no higher.
    from skimage import data, transform

    from segcore.methods import regions

    g = transform.resize(data.coins() / 255.0, (606, 768), order=1)  # 465,000 pixels
    kw = dict(mu=0.25, lambda1=1.0, lambda2=1.0, max_iter=200)
    plain = regions.chan_vese_steps(g, **kw)
    coarse = regions.chan_vese_coarse_to_fine(g, **kw)
    agree = np.mean(plain[0] == coarse[0])
    assert max(agree, 1 - agree) >= 0.97
    assert coarse[2][-1] <= plain[2][-1] * 1.01


def test_canny_edges_match_skimage(gray_image):
    seg = segment(gray_image, "edges", operator="canny", sigma=1.0, close_gaps=0, min_size=1)
    edges = seg.extras["edges"]
    assert edges.any()
    g = gray_image[:, :, 0]
    # Documented thresholds: level (0.2) and half of it, times the strongest Sobel gradient.
    smooth = filters.gaussian(g, sigma=1.0)
    top = float(np.hypot(ndi.sobel(smooth, 0), ndi.sobel(smooth, 1)).max())
    ref = feature.canny(g, sigma=1.0, low_threshold=0.1 * top, high_threshold=0.2 * top)
    np.testing.assert_array_equal(edges, ref)


def _photo(shape=(60, 80)):
    """A small 8-bit colour photo (a crop of scikit-image's coffee, with noise)."""
    from skimage import data, transform

    rng = np.random.default_rng(0)
    img = transform.resize(data.coffee()[100:280, 150:390], shape, anti_aliasing=True)
    return eight_bit(np.clip(img + rng.normal(0, 0.02, img.shape), 0, 1))


@pytest.mark.parametrize("space", ["rgb", "lab", "hsv", "gray"])
def test_colour_bins_label_every_pixel_from_its_bin(space):
    img = _photo()
    t = clustering.colour_bins(img, space)
    codes = t.codes
    assert t.counts.sum() == img.shape[0] * img.shape[1]
    # every pixel's row holds its bin, and the bin holds the pixel's colour
    rows = t.per_pixel(np.arange(len(t.counts)))
    np.testing.assert_array_equal(t.present[rows], codes)
    if space == "gray":  # 256 gray levels: the nearest one to each pixel's gray value
        gray = to_gray(img).ravel()
        assert np.abs(t.features[rows, 0] - gray).max() <= 0.5 / 255 + 1e-6
    else:  # the bin's centre is within half a bin of the pixel, in every channel
        levels = clustering.FINE_BIN_LEVELS if space == "hsv" else clustering.BIN_LEVELS
        centres = (np.stack([codes // levels ** 2, codes // levels % levels, codes % levels], 1)
                   + 0.5) / levels
        assert np.abs(centres - img.reshape(-1, 3)).max() <= 0.5 / levels + 1e-6


@pytest.mark.parametrize("space", ["rgb", "hsv", "gray"])
def test_colour_bins_in_pieces_and_blocks_equal_one_pass(space, monkeypatch):
    # Large images are binned a block of rows per core, each in pieces of CHUNK
    # pixels, and labelled the same way; small blocks and pieces (a ragged last
    # one) must give the codes, counts and labels of one pass.
    img = _photo()
    whole = clustering.colour_bins(img, space)
    monkeypatch.setattr(_parallel, "MIN_ROWS", 300)
    monkeypatch.setattr(clustering, "CHUNK", 999)
    pieces = clustering.colour_bins(img, space)
    np.testing.assert_array_equal(pieces.codes, whole.codes)
    np.testing.assert_array_equal(pieces.counts, whole.counts)
    rows = np.arange(len(whole.counts), dtype=np.int32)
    np.testing.assert_array_equal(pieces.per_pixel(rows), whole.per_pixel(rows))


@pytest.mark.parametrize("space", ["rgb", "lab", "hsv", "gray"])
def test_kmeans_on_colour_bins_ends_where_sklearn_on_every_pixel_ends(space, monkeypatch):
    # The way large images take, forced on a small one: the inertia over every pixel
    # of the labels and centres found is within 0.5% of scikit-learn's.
    img = _photo()
    monkeypatch.setattr(clustering, "BIN_PIXELS", 0)
    seg = segment(img, "kmeans", k=3, space=space, rng=0)
    x = pixel_features(img, space)
    centres = np.asarray(seg.extras["centres"])
    ours = ((x - centres[seg.labels.ravel() - 1]) ** 2).sum()
    ref = KMeans(3, n_init=1, random_state=0).fit(x)
    assert ours <= ref.inertia_ * 1.005


def _log_likelihood(seg, x) -> float:
    """Mean log-likelihood per pixel of a ``gmm`` result's mixture (scikit-learn's score)."""
    model = GaussianMixture(len(seg.extras["weights"]), covariance_type="full")
    model.weights_, model.means_ = seg.extras["weights"], seg.extras["means"]
    model.covariances_ = seg.extras["covariances"]
    model.precisions_cholesky_ = np.linalg.cholesky(np.linalg.inv(model.covariances_))
    return model.score(x)


def test_gmm_on_colour_bins_is_as_likely_as_on_the_distinct_colours(monkeypatch):
    img = _photo()
    x = pixel_features(img, "lab")
    exact = segment(img, "gmm", k=3, space="lab", rng=0)
    monkeypatch.setattr(clustering, "BIN_PIXELS", 0)
    seg = segment(img, "gmm", k=3, space="lab", rng=0)
    assert _log_likelihood(seg, x) >= _log_likelihood(exact, x) - 0.01
    # labels are the most likely component of every pixel's bin
    np.testing.assert_array_equal(seg.labels, seg.probabilities.argmax(2) + 1)
    np.testing.assert_allclose(seg.probabilities.sum(2), 1, atol=1e-5)


def test_random_walker_at_high_beta_is_solved_exactly_on_a_small_image():
    # At beta 10000 with one-pixel seeds, CG with multigrid stops short of its tolerance
    # (scikit-image warns); a small image is then solved exactly, without a warning.
    s = synthetic.blobs((96, 96))
    seeds = [(48, 48, 1), (3, 3, 2)]
    seg = segment(s.image, "random_walker", seeds=seeds, beta=10000.0)
    markers = np.zeros((96, 96), int)
    markers[48, 48], markers[3, 3] = 1, 2
    exact = segmentation.random_walker(s.image[:, :, 0].astype(np.float64), markers,
                                       beta=10000.0, mode="bf", return_full_prob=True)
    np.testing.assert_array_equal(seg.labels, exact.argmax(0) + 1)
    assert seg.notes == ()


def test_random_walker_on_a_noisy_image_agrees_with_the_exact_solve():
    # Noise everywhere: the links span many orders of magnitude at random, the hardest
    # case for the multigrid's pairing (single precision once made PyAMG's coarsest
    # level singular here).
    from segcore.methods import regions

    s = synthetic.noisy((128, 128), sigma=0.3, rng=0)
    gray = s.image[:, :, 0].astype(np.float64)
    markers = np.zeros(gray.shape, int)
    markers[64, 20], markers[64, 108] = 1, 2
    probs, solved = regions.walker_probabilities(gray, markers, 130.0)
    assert solved
    exact = segmentation.random_walker(gray, markers, beta=130.0, mode="bf",
                                       return_full_prob=True)
    assert np.mean(probs.argmax(0) == exact.argmax(0)) >= 0.995


def test_region_edges_are_scikit_images_region_adjacency_graph():
    from skimage import graph

    img = _photo((90, 120))
    regions = segmentation.slic(img, n_segments=150, start_label=1)
    ours = {tuple(e) for e in engine_graph.region_edges(regions).tolist()}
    rag = graph.RAG(regions)
    assert ours == {(min(a, b) - 1, max(a, b) - 1) for a, b in rag.edges}
    means = engine_graph.region_means(img, regions)
    ref = graph.rag_mean_color(img, regions, connectivity=1)
    for node in ref.nodes:
        np.testing.assert_allclose(means[node - 1], ref.nodes[node]["mean color"], atol=1e-6)


def test_the_walkers_system_is_scikit_images():
    # segcore builds the random walker's blocks of the Laplacian directly; scikit-image
    # builds the whole Laplacian and cuts them out. Same matrix, same right-hand side.
    from skimage.segmentation import random_walker_segmentation as rw

    from segcore.methods.regions import walker_system

    rng = np.random.default_rng(3)
    gray = rng.random((12, 15))
    seeds = np.zeros((12, 15), np.int32)
    seeds[0, 0], seeds[11, 14], seeds[5, 7], seeds[5, 8] = 1, 2, 2, 1
    A, B, unseeded, seeded = walker_system(gray, seeds, 90.0)
    data = np.atleast_3d(gray)[..., np.newaxis]
    lap, rhs = rw._build_linear_system(data, np.ones(3), seeds.copy(), 2, None, 90.0, False)
    np.testing.assert_allclose(A.toarray(), lap.toarray(), rtol=1e-12, atol=1e-15)
    onehot = np.stack([seeds.ravel()[seeded] == lab for lab in (1, 2)], 1).astype(float)
    np.testing.assert_allclose(B @ onehot, rhs.toarray(), rtol=1e-12, atol=1e-15)



def test_the_multigrids_links_are_the_walkers_system_rounded_to_single_precision():
    # The multigrid builds the walker's system straight into its own form; the same
    # matrix and right-hand side as walker_system's, within single precision.
    from scipy import sparse

    from segcore.methods import _amg, regions

    rng = np.random.default_rng(4)
    gray = rng.random((12, 15))
    seeds = np.zeros((12, 15), np.int32)
    seeds[0, 0], seeds[11, 14], seeds[5, 7], seeds[5, 8] = 1, 2, 2, 1
    A, B, unseeded, seeded = regions.walker_system(gray, seeds, 90.0)
    right, down = regions._walker_links(gray, 90.0)
    mine, ptr, idx, w, d = _amg.grid_links(right, down, seeds)
    np.testing.assert_array_equal(mine, unseeded)
    links = sparse.csr_array((w, idx, ptr), shape=A.shape).toarray()
    np.testing.assert_allclose(np.diag(np.diag(A.toarray())) - A.toarray(), links, rtol=1e-7)
    np.testing.assert_allclose(np.diag(A.toarray()), links.sum(1) + d, rtol=1e-7)
    for label in (1, 2):
        np.testing.assert_allclose(_amg.seed_links(right, down, seeds, unseeded, label),
                                   B @ (seeds.ravel()[seeded] == label), rtol=1e-7)

def _grid_laplacian(h, w, rng, spread):
    """A 4-neighbour grid's links (CSR, both directions) with weights spanning
    ``10**-spread`` to 1, and its links to seeds (a few pixels, one of them strongly)."""
    from scipy import sparse

    right = 10.0 ** (-spread * rng.random((h, w - 1)))
    down = 10.0 ** (-spread * rng.random((h - 1, w)))
    idx = np.arange(h * w).reshape(h, w)
    rows = np.concatenate([idx[:, :-1].ravel(), idx[:-1].ravel()])
    cols = np.concatenate([idx[:, 1:].ravel(), idx[1:].ravel()])
    vals = np.concatenate([right.ravel(), down.ravel()])
    links = sparse.csr_array((np.concatenate([vals, vals]), (np.concatenate([rows, cols]),
                                                            np.concatenate([cols, rows]))))
    links.sort_indices()
    links.data = links.data.astype(np.float32).astype(np.float64)  # as the solver keeps them
    d = np.zeros(h * w)
    d[rng.choice(h * w, 5, replace=False)] = rng.random(5)
    d[0] = 1e3  # far more to a seed than to its neighbours: left out of the coarse levels
    return links, d


@pytest.mark.parametrize("spread", [0, 4])
def test_aggregation_multigrid_solves_a_grid_laplacian_as_a_direct_solve(spread):
    # The random walker's solver against scipy's sparse LU on the same matrix, weights
    # from uniform to four orders of magnitude apart at random.
    from scipy import sparse
    from scipy.sparse.linalg import spsolve

    from segcore.methods import _amg

    rng = np.random.default_rng(spread)
    links, d = _grid_laplacian(60, 70, rng, spread)
    ml = _amg.hierarchy(links.indptr, links.indices, links.data, d)
    assert len(ml) > 2 and len(ml.levels[-1]) <= _amg.COARSEST
    assert all(len(a) > 2 * len(b) for a, b in zip(ml.levels, ml.levels[1:]))
    A = sparse.diags_array(links.sum(1) + d) - links
    b = d * rng.random(d.size)
    x, residuals = ml.solve(b, tol=1e-12, maxiter=150)
    assert residuals[-1] <= 1e-12 * residuals[0]
    np.testing.assert_allclose(np.linalg.norm(b - A @ x), residuals[-1], rtol=1e-3)
    exact = spsolve(A.tocsc(), b)
    np.testing.assert_allclose(x, exact, rtol=1e-6, atol=1e-9 * np.abs(exact).max())


def test_aggregation_multigrid_reaches_the_sharp_walkers_tolerance_on_random_weights():
    # Weights ten orders of magnitude apart at random, the worst a sharp random walker
    # meets: the residual still falls to its tolerance within its steps.
    from segcore.methods import _amg, regions

    links, d = _grid_laplacian(60, 70, np.random.default_rng(10), 10)
    ml = _amg.hierarchy(links.indptr, links.indices, links.data, d)
    x, residuals = ml.solve(d, tol=regions.WALKER_SHARP_TOL, maxiter=regions.WALKER_MAXITER)
    assert residuals[-1] <= regions.WALKER_SHARP_TOL * residuals[0]


def test_aggregation_multigrid_takes_few_steps_however_large_the_grid():
    # The K-cycle's point: the outer steps do not grow with the size of the image.
    from segcore.methods import _amg

    steps = []
    for side in (40, 160):
        links, d = _grid_laplacian(side, side, np.random.default_rng(side), 4)
        ml = _amg.hierarchy(links.indptr, links.indices, links.data, d)
        steps.append(len(ml.solve(d, tol=1e-6, maxiter=100)[1]) - 1)
    assert steps[1] <= steps[0] + 3, steps


@pytest.mark.parametrize("name", list(samples.SKIMAGE_SAMPLES))
def test_bundled_pictures_are_the_pixels_scikit_images_loaders_give(name):
    # segcore reads the files with Pillow, without importing skimage.data (0.4 s).
    import skimage.data

    theirs = getattr(skimage.data, name)()
    if theirs.dtype == bool:
        theirs = theirs.astype(np.uint8) * 255
    mine = samples.skimage_picture(name)
    assert mine.dtype == theirs.dtype and mine.shape == theirs.shape
    np.testing.assert_array_equal(mine, theirs)
