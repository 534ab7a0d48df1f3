"""The contract every registered method keeps, run over list_methods()."""

import numpy as np
import pytest

import segcore
from segcore import list_methods, segment

METHODS = [m.name for m in list_methods()]

# Parameters under which each method must find the two flat halves exactly.
# A new method must say here how it finds them (or why it cannot, in NO_KNOWN_ANSWER).
KNOWN_ANSWER = {
    "threshold": dict(algorithm="otsu"),
    "kmeans": dict(k=2),
    "gmm": dict(k=2),
    "watershed": dict(),
    "region_growing": dict(tolerance=0.1),
    "random_walker": dict(),
    "chan_vese": dict(),
    "felzenszwalb": dict(min_size=50),
    "slic": dict(n_segments=2),
    "spectral": dict(k=2, n_segments=50),
    "merge": dict(),
    "edges": dict(close_gaps=0, sigma=1.0),  # a thin dividing line on this small image
}
NO_KNOWN_ANSWER = {
    # A learned model has no known answer on a drawn image; it is checked on
    # held-out real data against its card in tests/test_unet.py.
    "unet": "learned model",
}


def _seeds_for(spec, shape):
    h, w = shape
    return [(h // 2, 2, 1), (h // 2, w - 3, 2)] if spec.seeds == "required" else None


def _check_valid(seg, shape):
    assert seg.labels.shape == shape
    assert seg.labels.dtype == np.int32
    assert seg.labels.min() >= 0
    assert seg.elapsed_s >= 0
    if seg.probabilities is not None:
        p = seg.probabilities
        assert p.dtype == np.float32 and p.shape[:2] == shape
        assert np.all(p >= -1e-6) and np.all(p <= 1 + 1e-6)
        np.testing.assert_allclose(p.sum(-1), 1, atol=1e-4)


def test_every_method_has_a_known_answer_or_a_reason():
    assert set(METHODS) <= set(KNOWN_ANSWER) | set(NO_KNOWN_ANSWER)


@pytest.mark.parametrize("name", [m for m in METHODS if m in KNOWN_ANSWER])
def test_two_flat_regions_give_two_labels(name, two_regions):
    image, truth = two_regions
    spec = segcore.get_method(name)
    seg = segment(image, name, seeds=_seeds_for(spec, truth.shape), **KNOWN_ANSWER[name])
    _check_valid(seg, truth.shape)
    labelled = seg.labels > 0
    # Edge-based methods leave the dividing line unlabelled; nothing else may be.
    assert labelled.mean() > 0.9
    left = np.unique(seg.labels[(truth == 1) & labelled])
    right = np.unique(seg.labels[(truth == 2) & labelled])
    assert len(left) == 1 and len(right) == 1 and left[0] != right[0], (left, right)
    assert seg.n_regions == 2
    assert seg.method == name
    assert set(seg.params) == {p.name for p in spec.params}


def _extreme_cases():
    for spec in list_methods():
        if spec.name in NO_KNOWN_ANSWER:
            continue
        for p in spec.params:
            if p.kind in ("int", "float"):
                values = [p.low, p.high]
            elif p.kind == "choice":
                values = list(p.choices)
            else:
                values = [False, True]
            for v in values:
                yield pytest.param(spec.name, p.name, v, id=f"{spec.name}-{p.name}={v}")


@pytest.mark.parametrize("name,param,value", list(_extreme_cases()))
def test_runs_at_parameter_ends(name, param, value, blobs_image):
    spec = segcore.get_method(name)
    seg = segment(blobs_image, name, seeds=_seeds_for(spec, blobs_image.shape[:2]), **{param: value})
    _check_valid(seg, blobs_image.shape[:2])
    assert seg.params[param] == value


@pytest.mark.parametrize("name", [m.name for m in list_methods() if m.takes_seeds])
def test_seeds_are_respected(name, two_regions):
    image, truth = two_regions
    h, w = truth.shape
    seeds = [(5, 3, 1), (h - 5, 10, 1), (5, w - 4, 3), (h - 6, w - 10, 3)]
    seg = segment(image, name, seeds=seeds)
    for r, c, lab in seeds:
        assert seg.labels[r, c] == lab
    # The same seeds as a marker image give the same result.
    markers = segcore.as_markers(seeds, (h, w))
    np.testing.assert_array_equal(segment(image, name, seeds=markers).labels, seg.labels)


@pytest.mark.parametrize("name", METHODS)
def test_read_only_images_are_accepted_and_left_alone(name, blobs_image):
    # The app shares decoded images and previews between sessions as read-only
    # arrays (seglab/cache.py); every method must take them as they are.
    spec = segcore.get_method(name)
    seeds = _seeds_for(spec, blobs_image.shape[:2])
    params = {"rng": 0} if any(p.name == "rng" for p in spec.params) else {}
    frozen = blobs_image.copy()
    frozen.flags.writeable = False
    seg = segment(frozen, name, seeds=seeds, **params)
    np.testing.assert_array_equal(frozen, blobs_image)
    np.testing.assert_array_equal(seg.labels,
                                  segment(blobs_image, name, seeds=seeds, **params).labels)


@pytest.mark.parametrize("name", [m.name for m in list_methods()
                                  if any(p.name == "rng" for p in m.params)])
def test_same_rng_same_labels(name, blobs_image):
    a = segment(blobs_image, name, rng=3)
    b = segment(blobs_image, name, rng=3)
    np.testing.assert_array_equal(a.labels, b.labels)


@pytest.mark.parametrize("name", ["kmeans", "gmm", "spectral"])
def test_cluster_labels_follow_intensity(name):
    s = segcore.synthetic.shapes((64, 80))
    seg = segment(s.image, name, k=4, space="gray")
    gray = s.image[:, :, 0]
    means = [gray[seg.labels == lab].mean() for lab in range(1, seg.n_regions + 1)]
    assert means == sorted(means)


def test_methods_without_seeds_refuse_them(two_regions):
    image, _ = two_regions
    with pytest.raises(ValueError, match="does not take seeds"):
        segment(image, "kmeans", seeds=[(1, 1, 1)])


def test_required_seeds(two_regions):
    image, _ = two_regions
    with pytest.raises(ValueError, match="needs at least one seed"):
        segment(image, "region_growing")


@pytest.mark.parametrize("seeds,match", [
    ([(100, 1, 1)], "outside"),
    ([(1, 1, 0)], ">= 1"),
    ([(1, 1)], r"\(row, col, label\)"),
    (np.zeros((3, 3), np.int32), "shape"),
])
def test_bad_seeds(seeds, match, two_regions):
    image, _ = two_regions
    with pytest.raises(ValueError, match=match):
        segment(image, "watershed", seeds=seeds)


def test_unknown_method_names_the_valid_ones(two_regions):
    with pytest.raises(ValueError, match="valid methods: .*kmeans"):
        segment(two_regions[0], "otsu")


def test_unknown_parameter_names_the_valid_ones(two_regions):
    with pytest.raises(ValueError, match="valid parameters: .*xy_weight"):
        segment(two_regions[0], "kmeans", clusters=3)


@pytest.mark.parametrize("params,match", [
    (dict(k=1), "between 2 and 12"),
    (dict(k=2.5), "whole number"),
    (dict(k="many"), "must be a number"),
    (dict(space="cmyk"), "must be one of rgb, lab, hsv, gray"),
    (dict(xy_weight=float("nan")), "finite"),
])
def test_out_of_range_values(params, match, two_regions):
    with pytest.raises(ValueError, match=match):
        segment(two_regions[0], "kmeans", **params)


@pytest.mark.parametrize("image,match", [
    (np.zeros((8, 8, 2), np.float32), "shape"),
    (np.full((8, 8), 2.0, np.float32), r"\[0, 1\]"),
    (np.full((8, 8), np.nan, np.float32), "NaN"),
    (np.zeros((8, 8), np.uint8), "float"),
    (np.zeros((1, 8), np.float32), "at least 2x2"),
])
def test_bad_images(image, match):
    with pytest.raises(ValueError, match=match):
        segment(image, "threshold")


def test_minimum_without_two_peaks_is_a_clear_error():
    ramp = np.linspace(0, 1, 64 * 64, dtype=np.float32).reshape(64, 64)
    with pytest.raises(ValueError, match="two peaks"):
        segment(ramp, "threshold", algorithm="minimum")


@pytest.mark.parametrize("algorithm", ["otsu", "li", "yen", "triangle", "isodata", "mean",
                                       "minimum", "multiotsu"])
def test_flat_image_threshold_is_a_clear_error(algorithm):
    with pytest.raises(ValueError, match="flat|fewer than"):
        segment(np.full((8, 8), 0.5, np.float32), "threshold", algorithm=algorithm)


def test_kmeans_history_and_gmm_history():
    s = segcore.synthetic.shapes((48, 64))
    km = segment(s.image, "kmeans", k=3)
    hist = km.extras["history"]
    assert len(hist) == km.extras["n_iter"] >= 1
    inertias = [h["inertia"] for h in hist]
    assert all(b <= a + 1e-9 for a, b in zip(inertias, inertias[1:]))  # Lloyd never increases it
    g = segment(s.image, "gmm", k=3, space="gray")
    lls = [h["log_likelihood"] for h in g.extras["history"]]
    assert all(b >= a - 1e-6 for a, b in zip(lls, lls[1:]))  # EM never decreases it
    assert g.extras["means"].shape == (3, 1)


def test_colour_only_difference_needs_colour():
    """Two halves of equal brightness but different hue: colour k-means splits them."""
    img = np.zeros((20, 20, 3), np.float32)
    img[:, :10] = (0.6, 0.2, 0.2)
    img[:, 10:] = (0.2, 0.43, 0.2)
    seg = segment(img, "kmeans", k=2, space="lab")
    assert len(np.unique(seg.labels[:, :10])) == 1 and len(np.unique(seg.labels[:, 10:])) == 1
    assert seg.labels[0, 0] != seg.labels[0, -1]


def test_params_are_the_full_resolved_set(two_regions):
    seg = segment(two_regions[0], "slic", n_segments="50")
    assert seg.params == {"n_segments": 50, "compactness": 10.0, "sigma": 1.0, "space": "lab"}


@pytest.mark.parametrize("name", METHODS)
def test_conditional_params_point_at_real_choices(name):
    spec = segcore.get_method(name)
    for p in spec.params:
        if p.when is not None:
            other, values = p.when
            choice = spec.param(other)
            assert choice.kind == "choice" and set(values) <= set(choice.choices), p.name


# --------------------------------------------------------------------------- one name per idea


@pytest.mark.parametrize("name", METHODS)
def test_params_are_the_functions_keywords_with_human_labels(name):
    import inspect

    spec = segcore.get_method(name)
    keywords = {k for k, v in inspect.signature(spec.func).parameters.items()
                if v.kind == v.KEYWORD_ONLY} - {"seeds", "progress"}
    assert [p.name for p in spec.params] and keywords == {p.name for p in spec.params}
    for p in spec.params:
        # A label a person reads: not the code name, no underscores, short.
        assert p.label and "_" not in p.label and p.label != p.name, (name, p.name)
        assert len(p.label) <= 40 and p.help, (name, p.name)
    assert ("seeds" in inspect.signature(spec.func).parameters) == spec.takes_seeds


def test_one_name_one_meaning_across_methods():
    """A parameter name shared by methods is one idea: the same kind and label (the
    range may differ where a method needs it to, e.g. spectral's graph needs 50 nodes)."""
    seen = {}
    for spec in list_methods():
        for p in spec.params:
            if p.name in seen:
                first = seen[p.name]
                assert (p.kind, p.label) == (first.kind, first.label), p.name
            seen.setdefault(p.name, p)
    # The names that used to mean two things, or two names for one thing.
    for gone in ("seed", "smoothing", "max_num_iter", "markers", "paths"):
        assert gone not in seen, gone


@pytest.mark.parametrize("name", METHODS)
def test_results_hold_what_the_spec_offers(name, two_regions):
    image, truth = two_regions
    spec = segcore.get_method(name)
    seg = segment(image, name, seeds=_seeds_for(spec, truth.shape),
                  **KNOWN_ANSWER.get(name, {}))
    assert set(spec.offers) <= set(segcore.registry.OFFERS)
    where = {"thresholds": ["thresholds"], "centres": ["centres", "features"],
             "mixture": ["weights", "means", "covariances", "features"], "history": ["history"],
             "classes": ["classes"], "model_card": ["card_metrics"]}
    for offer in spec.offers:
        if offer == "probabilities":
            assert seg.probabilities is not None, name
        else:
            assert all(key in seg.extras for key in where[offer]), (name, offer)
    if "probabilities" not in spec.offers:
        assert seg.probabilities is None, f"{name} gives probabilities but does not offer them"
    assert all(isinstance(n, str) and n for n in seg.notes)


def test_readme_method_table_lists_every_method():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    table = re.findall(r"^\| `([a-z_]+)`(?:, `([a-z_]+)`)? \|", readme, re.M)
    documented = {n for row in table for n in row if n}
    assert documented == set(METHODS), "the README's method table and list_methods() differ"


def test_benchmark_grids_name_real_parameters():
    from benchmarks.bsds import GRIDS

    for name, grid in GRIDS.items():
        spec = segcore.get_method(name)
        for param, values in grid.items():
            assert [spec.param(param).validate(v) for v in values] == list(values), (name, param)


def test_multiotsu_with_too_few_gray_values_says_so():
    flat_halves = segcore.synthetic.two_regions((16, 16)).image
    with pytest.raises(ValueError, match="fewer than 4 gray values"):
        segment(flat_halves, "threshold", algorithm="multiotsu", classes=4)


@pytest.mark.parametrize("name", ["kmeans", "gmm", "unet", "chan_vese", "random_walker"])
def test_progress_is_reported_and_an_exception_in_it_stops_the_run(name, blobs_image):
    assert segcore.get_method(name).reports_progress
    seen = []
    segment(blobs_image, name, progress=seen.append)
    assert seen and all(0 <= f <= 1 for f in seen) and seen == sorted(seen)

    class Stop(Exception):
        pass

    def stop(fraction):
        raise Stop

    with pytest.raises(Stop):  # how the app cancels a long run: at the next report
        segment(blobs_image, name, progress=stop)


def test_watershed_with_kept_relief_equals_a_fresh_run(blobs_image):
    # Moving the prominence slider reuses the blurred image and distance maps kept
    # from the last call (segcore._memo); the result is the fresh computation's.
    from segcore import _memo

    for markers in ("distance", "h-minima"):
        _memo.clear()
        segment(blobs_image, "watershed", auto_markers=markers, h=0.05)
        kept = segment(blobs_image, "watershed", auto_markers=markers, h=0.2)
        _memo.clear()
        fresh = segment(blobs_image, "watershed", auto_markers=markers, h=0.2)
        np.testing.assert_array_equal(kept.labels, fresh.labels)
