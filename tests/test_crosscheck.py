"""Each method against the library it wraps, on the same inputs."""

import warnings

import numpy as np
import pytest
from scipy import ndimage as ndi
from skimage import feature, filters, segmentation
from sklearn.cluster import KMeans, kmeans_plusplus
from sklearn.mixture import GaussianMixture

from segcore import segment, synthetic
from segcore.methods.clustering import lloyd, pixel_features
from segcore.methods.threshold import GLOBAL


@pytest.fixture
def gray_image():
    return synthetic.noisy((48, 56), sigma=0.05, rng=4).image


@pytest.mark.parametrize("algorithm", [a for a in GLOBAL if a != "minimum"])
def test_global_thresholds_match_skimage(algorithm, gray_image):
    seg = segment(gray_image, "threshold", algorithm=algorithm)
    expected = GLOBAL[algorithm](gray_image[:, :, 0])
    assert seg.extras["thresholds"] == [pytest.approx(expected, abs=1e-7)]
    np.testing.assert_array_equal(seg.labels == 2, gray_image[:, :, 0] > expected)


def test_multiotsu_matches_skimage(gray_image):
    seg = segment(gray_image, "threshold", algorithm="multiotsu", classes=3)
    np.testing.assert_allclose(seg.extras["thresholds"],
                               filters.threshold_multiotsu(gray_image[:, :, 0], classes=3))


def test_sauvola_matches_skimage(gray_image):
    seg = segment(gray_image, "threshold", algorithm="sauvola", window_size=15, std_weight=0.3)
    tmap = filters.threshold_sauvola(gray_image[:, :, 0], window_size=15, k=0.3)
    np.testing.assert_array_equal(seg.labels == 2, gray_image[:, :, 0] > tmap)


def test_lloyd_matches_sklearn_from_the_same_start():
    rng = np.random.default_rng(1)
    x = np.vstack([rng.normal(m, 0.1, (100, 3)) for m in (0.1, 0.5, 0.9)])
    init, _ = kmeans_plusplus(x, 3, random_state=0)
    centres, assign, inertia, _ = lloyd(x, init, max_iter=300, tol=0)
    ref = KMeans(3, init=init, n_init=1, algorithm="lloyd", max_iter=300, tol=0).fit(x)
    np.testing.assert_allclose(centres, ref.cluster_centers_, atol=1e-9)
    np.testing.assert_array_equal(assign, ref.labels_)
    assert inertia == pytest.approx(ref.inertia_, rel=1e-9)


def test_kmeans_partition_matches_sklearn():
    img = synthetic.colour_shapes((40, 48)).image
    seg = segment(img, "kmeans", k=4, space="lab", rng=0)
    x = pixel_features(img, "lab")
    init, _ = kmeans_plusplus(x, 4, random_state=0)
    ref = KMeans(4, init=init, n_init=1, algorithm="lloyd").fit(x).labels_.reshape(40, 48)
    # Same partition, up to numbering.
    pairs = set(zip(seg.labels.ravel().tolist(), ref.ravel().tolist()))
    assert len(pairs) == 4


def test_gmm_matches_one_sklearn_fit(gray_image):
    seg = segment(gray_image, "gmm", k=2, space="gray", covariance_type="full", rng=0, max_iter=7)
    n = seg.extras["n_iter"]
    x = pixel_features(gray_image, "gray")
    ref = GaussianMixture(2, covariance_type="full", max_iter=n, random_state=0, reg_covar=1e-5,
                          tol=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # stopping at n iterations on purpose
        ref.fit(x)
    order = np.argsort(ref.means_[:, 0])
    np.testing.assert_allclose(seg.extras["means"], ref.means_[order], atol=1e-8)
    np.testing.assert_allclose(seg.probabilities.reshape(-1, 2), ref.predict_proba(x)[:, order], atol=1e-6)


def test_felzenszwalb_matches_skimage():
    img = synthetic.colour_shapes((48, 64)).image
    seg = segment(img, "felzenszwalb", space="rgb", scale=50, sigma=0.5, min_size=20)
    ref = segmentation.felzenszwalb(img, scale=50, sigma=0.5, min_size=20, channel_axis=-1)
    np.testing.assert_array_equal(seg.labels, ref + 1)


def test_slic_matches_skimage():
    img = synthetic.colour_shapes((48, 64)).image
    seg = segment(img, "slic", space="rgb", n_segments=30, compactness=10.0, sigma=1.0)
    ref = segmentation.slic(img, n_segments=30, compactness=0.1, sigma=1.0, convert2lab=False,
                            start_label=1, channel_axis=-1)
    np.testing.assert_array_equal(seg.labels, ref)


def test_watershed_with_seeds_matches_skimage(gray_image):
    seeds = [(5, 5, 1), (30, 30, 2), (40, 50, 3)]
    seg = segment(gray_image, "watershed", seeds=seeds, sigma=1.5, regularity=0.0)
    markers = np.zeros(gray_image.shape[:2], np.int32)
    for r, c, lab in seeds:
        markers[r, c] = lab
    ref = segmentation.watershed(filters.sobel(filters.gaussian(gray_image[:, :, 0], sigma=1.5)), markers)
    np.testing.assert_array_equal(seg.labels, ref)


def test_region_growing_one_seed_matches_flood(gray_image):
    seg = segment(gray_image, "region_growing", seeds=[(20, 20, 1)], tolerance=0.15, connectivity=4)
    ref = segmentation.flood(gray_image[:, :, 0], (20, 20), tolerance=0.15, connectivity=1)
    np.testing.assert_array_equal(seg.labels == 1, ref)


def test_random_walker_matches_skimage(gray_image):
    markers = np.zeros(gray_image.shape[:2], np.int32)
    markers[2, 2], markers[45, 50] = 1, 2
    seg = segment(gray_image, "random_walker", seeds=markers, beta=130.0)
    ref = segmentation.random_walker(gray_image[:, :, 0].astype(np.float64), markers, beta=130.0,
                                     mode="cg_j", tol=1e-5)
    np.testing.assert_array_equal(seg.labels, ref)


def test_chan_vese_matches_skimage(gray_image):
    seg = segment(gray_image, "chan_vese", mu=0.2, max_iter=40)
    ref = segmentation.chan_vese(gray_image[:, :, 0].astype(np.float64), mu=0.2, max_num_iter=40)
    # Ours numbers the darker side 1; skimage gives True for the inside.
    same = (seg.labels == 2) == ref
    assert same.all() or (~same).all()


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
