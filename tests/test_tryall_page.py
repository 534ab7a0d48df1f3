"""The Try all page, driven headless: a montage over one or two settings, the best
marked, the curve with the automatic choices, and a tile adopted on the Segment page."""

from __future__ import annotations

from segcore import sweep, synthetic

from test_app import no_trouble, start, texts


def test_threshold_levels_with_their_scores_the_best_and_the_curve():
    at = start(("generated", "blobs"), "pages/lab/tryall.py")
    assert at.selectbox(key="tryall.method").value == "threshold"
    assert at.multiselect(key="tryall.threshold.axes").value == ["level"]
    no_trouble(at)
    found, marks = at.session_state["tryall.last"][1:]
    assert len(found.outcomes) == len(sweep.default_grid("threshold").settings())
    best = found.best
    s = synthetic.make("blobs")
    expected = sweep.sweep(s.image, "threshold", sweep.default_grid("threshold"), truth=s.truth)
    assert [o.score for o in found.outcomes] == [o.score for o in expected.outcomes]
    assert f"Best: **level {best.params['level']}**" in texts(at.success)
    assert sum("★ best" in m.value for m in at.markdown) == 1
    assert {m.name for m in marks} >= {"default", "otsu", "li"}
    assert at.get("plotly_chart"), "the curve of IoU and Dice against the level"


def test_two_settings_and_a_tile_adopted_on_the_segment_page():
    at = start(("generated", "blobs"), "pages/lab/tryall.py")
    at.selectbox(key="tryall.method").set_value("kmeans").run()
    at.multiselect(key="tryall.kmeans.axes").set_value(["k", "space"]).run()
    at.slider(key="tryall.kmeans.points").set_value(3).run()
    no_trouble(at)
    found = at.session_state["tryall.last"][1]
    assert list(found.axes) == ["k", "space"] and len(found.axes["space"]) == 4
    assert len(found.outcomes) == len(found.axes["k"]) * 4 and 3 in found.axes["k"]
    failed = [o for o in found.outcomes if not o.ok]
    assert all("Could not run" in c.value for c in at.caption if "Could not run" in c.value)
    assert len([c for c in at.caption if "Could not run" in c.value]) == len(failed)
    pick = next(i for i, o in enumerate(found.outcomes) if o.ok and o.params["k"] == 3)
    at.button(key=f"tryall.use.{pick}").click().run()
    no_trouble(at)
    assert at.session_state["segment.method"] == "kmeans"
    assert at.slider(key="segment.kmeans.k").value == 3
    assert at.selectbox(key="segment.kmeans.space").value == found.outcomes[pick].params["space"]
