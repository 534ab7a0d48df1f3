"""segcore.sweep: a method over a grid of one or two parameters on one image, the
values chosen from the spec, and where the automatic choices land on the axis."""

import math

import numpy as np
import pytest
from skimage import filters

import segcore
from segcore import metrics, synthetic
from segcore import sweep as sw
from segcore.color import to_gray


@pytest.fixture(scope="module")
def colour():
    """A colour image of four shapes with its truth (gray-only methods see its gray)."""
    s = synthetic.colour_shapes((48, 56))
    rng = np.random.default_rng(1)
    image = np.clip(s.image + rng.normal(0, 0.05, s.image.shape), 0, 1).astype(np.float32)
    return image, s.truth


@pytest.fixture(scope="module")
def blobs():
    s = synthetic.noisy((48, 48), sigma=0.08)
    return s.image, s.truth


def test_a_sweep_equals_one_segment_call_per_setting(colour):
    image, truth = colour
    for method, grid in [("threshold", sw.default_grid("threshold", points=5)),
                         ("kmeans", {"k": [2, 4], "space": ["lab", "gray"]}),
                         ("watershed", sw.default_grid("watershed", ["h", "sigma"], points=3))]:
        found = sw.sweep(image, method, grid, truth=truth)
        assert len(found.outcomes) == math.prod(len(v) for v in found.axes.values())
        for o in found.outcomes:
            seg = segcore.segment(image, method, **o.params)
            assert np.array_equal(o.labels, seg.labels), (method, o.params)
            assert o.n_regions == seg.n_regions
            expected = metrics.score(seg.labels, truth, match="hungarian")
            assert o.scores["iou"] == expected["iou"] and o.scores["dice"] == expected["dice"]
            assert o.seconds > 0 and not o.error


def test_gray_only_methods_see_the_same_gray_image(colour):
    # The sweep makes the gray image once for a method that works on gray values:
    # every such method must give what it gives on the colour image itself.
    image, _ = colour
    for spec in segcore.list_methods():
        if not spec.gray_only:
            continue
        seeds = [(5, 5, 1), (30, 30, 2)] if spec.takes_seeds else None
        grid = {"sigma": [1.0]} if "sigma" in {p.name for p in spec.params} else \
            {spec.params[0].name: [spec.params[0].default]}
        found = sw.sweep(image, spec.name, grid, seeds=seeds)
        direct = segcore.segment(image, spec.name, seeds=seeds, **found.outcomes[0].params)
        assert np.array_equal(found.outcomes[0].labels, direct.labels), spec.name


def test_the_best_is_the_highest_score_and_the_grid_lays_scores_out(blobs):
    image, truth = blobs
    found = sw.sweep(image, "threshold", sw.default_grid("threshold", points=11), truth=truth,
                     metric="dice")
    scores = [o.scores["dice"] for o in found.outcomes]
    assert found.best.score == max(scores) and found.best is found.outcomes[scores.index(max(scores))]
    assert found.score_grid().tolist() == scores
    assert found.score_grid("iou").tolist() == [o.scores["iou"] for o in found.outcomes]
    assert sw.sweep(image, "threshold", {"level": [0.2, 0.4]}).best is None  # no truth


def test_a_setting_that_cannot_run_is_a_result_not_a_crash():
    s = synthetic.two_regions((24, 24))  # two gray values: k = 3 has no answer
    found = sw.sweep(s.image, "kmeans", {"k": [2, 3, 4], "space": ["lab", "gray"]},
                     truth=s.truth)
    errors = {(o.params["k"], o.params["space"]): o.error for o in found.outcomes}
    assert errors[(2, "lab")] == errors[(2, "gray")] == ""
    assert errors[(3, "gray")] == "the image has fewer than 3 distinct colours; lower k"
    assert all(o.labels is None and o.score is None for o in found.outcomes if o.error)
    grid = found.score_grid()
    assert grid.shape == (3, 2) and np.isnan(grid[1:]).all() and (grid[0] == 1).all()
    assert found.best.params["k"] == 2


def test_settings_that_differ_only_where_nothing_matters_run_once():
    s = synthetic.two_regions((24, 24))
    found = sw.sweep(s.image, "threshold", {"algorithm": ["otsu", "manual"],
                                           "level": [0.3, 0.6]})
    otsu, manual = found.outcomes[:2], found.outcomes[2:]
    assert otsu[0].labels is otsu[1].labels  # the level does not matter to otsu
    assert manual[0].labels is not manual[1].labels
    assert [o.params["level"] for o in found.outcomes] == [0.3, 0.6, 0.3, 0.6]
    # A level alone is a manual threshold's: the sweep sets the algorithm it needs.
    alone = sw.sweep(s.image, "threshold", {"level": [0.3, 0.6]}, params={"algorithm": "li"})
    assert {o.params["algorithm"] for o in alone.outcomes} == {"manual"}


def test_the_blur_changes_slowest_so_a_kept_blur_is_made_once(monkeypatch, blobs):
    image, _ = blobs
    order = []
    real = sw.run
    monkeypatch.setattr(sw, "run", lambda *a, **k: order.append(a[2]) or real(*a, **k))
    found = sw.sweep(image, "watershed", {"h": [0.01, 0.1], "sigma": [0.5, 1.0, 2.0]},
                     keep_labels=False)
    assert [p["sigma"] for p in order] == [0.5, 0.5, 1.0, 1.0, 2.0, 2.0]
    # ... while the outcomes keep the grid's order (h first) and no labels.
    assert [(o.params["h"], o.params["sigma"]) for o in found.outcomes][:2] == [(0.01, 0.5),
                                                                              (0.01, 1.0)]
    assert all(o.labels is None for o in found.outcomes)


def test_grid_values_are_checked_before_anything_runs(blobs):
    image, truth = blobs
    with pytest.raises(ValueError, match="between 2 and 12, got 40"):
        sw.sweep(image, "kmeans", {"k": [2, 40]})
    with pytest.raises(ValueError, match="no parameter 'colour'"):
        sw.sweep(image, "kmeans", {"colour": [1]})
    with pytest.raises(ValueError, match="one or two parameters, got 3"):
        sw.sweep(image, "kmeans", {"k": [2], "space": ["lab"], "xy_weight": [0.0]})
    with pytest.raises(ValueError, match="the truth is"):
        sw.sweep(image, "kmeans", {"k": [2]}, truth=truth[:10])
    with pytest.raises(ValueError, match="metric must be one of"):
        sw.sweep(image, "kmeans", {"k": [2]}, truth=truth, metric="f1")
    found = sw.sweep(image, "kmeans", {"k": ["2", 3.0]})  # strings from a command line
    assert found.axes == {"k": (2, 3)} and found.outcomes[0].params["k"] == 2


def test_default_grids_stay_in_range_and_make_their_parameter_matter():
    for spec in segcore.list_methods():
        for p in spec.params:
            if p.name in sw.FIXED:
                continue
            grid = sw.default_grid(spec.name, p.name, points=5)
            vals = grid.axes[p.name]
            setting = {**spec.defaults(), **grid.fixed}
            assert spec.is_active(p.name, setting), (spec.name, p.name)
            for v in vals:
                assert spec.resolve({**grid.fixed, p.name: v})[p.name] == v
            assert p.default in vals
            if p.kind == "choice":
                assert vals == tuple(p.choices)
            elif p.kind == "bool":
                assert vals == (False, True)
            else:
                assert vals[0] == p.low and vals[-1] == p.high and list(vals) == sorted(vals)
                if p.log:  # geometric: no gap much wider than an even step of the logarithm
                    even = math.log(p.high / p.low) / 4  # (whole numbers round: 5% more)
                    # A point within a quarter step of the default gives way to it.
                    slack = 1.25 * (1.05 if p.kind == "int" else 1.02)
                    assert np.diff(np.log(vals)).max() <= even * slack, (spec.name, p.name, vals)
    assert sw.default_grid("threshold").fixed == {"algorithm": "manual"}
    assert sw.default_grid("threshold", "window_size").fixed == {"algorithm": "sauvola"}
    # Sauvola and Niblack use both: the first value both need is fixed.
    assert sw.default_grid("threshold", ["window_size", "std_weight"]).fixed == {
        "algorithm": "sauvola"}
    assert sw.default_grid("threshold", ["algorithm", "level"]).fixed == {}
    assert sw.default_grid("unet").axes == {"model": ("auto", "membrane", "horse")}


def test_default_grid_refuses_what_cannot_be_swept_together():
    with pytest.raises(ValueError, match="'level' and 'classes' matter for different values"):
        sw.default_grid("threshold", ["level", "classes"])
    with pytest.raises(ValueError, match="one or two different parameters"):
        sw.default_grid("kmeans", ["k", "space", "xy_weight"])
    with pytest.raises(ValueError, match="no parameter 'colour'; valid parameters: k, space"):
        sw.default_grid("kmeans", "colour")
    with pytest.raises(ValueError, match="at least 2 points"):
        sw.default_grid("kmeans", points=1)


def test_candidates_vary_one_parameter_at_a_time_with_odd_windows():
    settings = sw.candidates("threshold", points=5)
    defaults = segcore.get_method("threshold").defaults()
    assert settings[0] == defaults
    for s in settings[1:]:
        changed = {k for k in s if s[k] != defaults[k]}
        assert len(changed - {"algorithm"}) <= 1
    assert all(s["window_size"] % 2 == 1 for s in settings)


def test_the_automatic_thresholds_land_where_scikit_image_puts_them(blobs):
    image, truth = blobs
    gray = to_gray(image)
    found = {m.name: m for m in sw.marks(image, "threshold", "level", truth=truth)}
    for name in ("otsu", "li", "yen", "triangle", "isodata", "mean"):
        expected = getattr(filters, f"threshold_{name}")(gray)
        assert found[name].value == pytest.approx(expected), name
        labels = segcore.segment(image, "threshold", algorithm="manual",
                                 level=found[name].value).labels
        assert found[name].scores["iou"] == pytest.approx(
            metrics.score(labels, truth)["iou"])
    assert found["default"].value == found["otsu"].value  # the default is Otsu
    assert found["default"].params == segcore.get_method("threshold").defaults()
    # Several levels, or one per pixel, have no single place on the axis.
    assert not {"multiotsu", "sauvola", "manual"} & set(found)
    # Every global algorithm of the method is marked: a new one is added to CHOSEN_BY.
    from segcore.methods.threshold import GLOBAL
    assert sw.CHOSEN_BY[("threshold", "level")] == ("algorithm", tuple(GLOBAL))


def test_a_choice_with_no_answer_says_why():
    flat = np.zeros((16, 16, 1), np.float32)
    flat[:, 8:] = 1
    found = {m.name: m for m in sw.marks(flat, "threshold", "level")}
    assert found["minimum"].value is None and "two peaks" in found["minimum"].error
    [k3] = sw.marks(flat, "kmeans", "k")
    assert (k3.name, k3.value, k3.scores) == ("default", 3, None) and "lower k" in k3.error
    assert sw.marks(flat, "threshold", "classes") == []  # 3 classes, not the default otsu


def test_progress_and_budget(blobs):
    image, _ = blobs
    seen = []
    sw.sweep(image, "threshold", {"level": [0.2, 0.4, 0.6, 0.8]}, progress=seen.append)
    assert seen == [0.25, 0.5, 0.75, 1.0]

    def stop(fraction):
        raise RuntimeError("stopped")

    with pytest.raises(RuntimeError, match="stopped"):
        sw.sweep(image, "threshold", {"level": [0.2, 0.4]}, progress=stop)
    cut = sw.sweep(image, "threshold", {"level": [0.2, 0.4, 0.6]}, budget_s=0)
    assert not cut.complete and len(cut.outcomes) == 1  # the first always runs
    assert sw.sweep(image, "threshold", {"level": [0.2]}).complete
