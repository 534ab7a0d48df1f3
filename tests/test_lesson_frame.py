"""The frame every lesson shares (seglab.lesson): stopping a run without stale widget
state, and predict-then-reveal."""

from pathlib import Path

from streamlit.testing.v1 import AppTest

from conftest import assert_no_exception

ROOT = Path(__file__).resolve().parents[1]

STOPPING_PAGE = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from seglab import lesson
from seglab.state import new_run, persistent
new_run()  # as app.py does
go = st.checkbox("go on", key="go")
persistent(st.slider, "A", key="a", default=3, min_value=0, max_value=10)
if not go:
    lesson.stop()
b = persistent(st.slider, "B", key="b", default=5, min_value=0, max_value=10)
st.write(f"b is {{b}}")
"""


def test_a_stopped_run_leaves_no_stale_state_and_the_value_comes_back():
    at = AppTest.from_string(STOPPING_PAGE.format(root=str(ROOT)), default_timeout=30).run()
    at.checkbox(key="go").check().run()
    at.slider(key="b").set_value(8).run()
    at.checkbox(key="go").uncheck().run()  # stops before B is drawn
    assert_no_exception(at)
    # With st.stop() alone, B's state would stay behind while its widget is gone.
    assert "b" not in at.session_state
    at.checkbox(key="go").check().run()
    assert at.slider(key="b").value == 8
    assert "b is 8" in at.markdown[-1].value


def test_lesson_pages_stop_only_through_the_lesson_frame():
    for path in sorted((ROOT / "pages" / "learn").glob("*.py")):
        code = [line.split("#")[0] for line in path.read_text().splitlines()]
        assert not any("st.stop()" in line for line in code), \
            f"{path.name}: use lesson.stop() (st.stop() leaves stale widget state)"


PREDICT_PAGE = """
import sys
sys.path.insert(0, {root!r})
import streamlit as st
from seglab import lesson
if lesson.predict_number("q", "How many?", low=0, high=20, answer=7, tolerance=1,
                         context="c", explain="Seven."):
    st.write("revealed")
st.write(f"answers {{lesson.answers()}}")
"""


def test_a_number_question_waits_for_a_guess_then_says_right_or_not():
    at = AppTest.from_string(PREDICT_PAGE.format(root=str(ROOT)), default_timeout=30).run()
    assert at.button(key="q.reveal").disabled  # the untouched slider is not a guess
    at.slider(key="q.c.guess").set_value(8).run()
    at.button(key="q.reveal").click().run()
    assert_no_exception(at)
    assert "Right: you said 8" in at.success[0].value
    assert "answers (1, 1)" in at.markdown[-1].value
    assert at.slider(key="q.c.guess").disabled


LESSONS = sorted(p.stem for p in (ROOT / "pages" / "learn").glob("*.py"))


def _own(at, name: str, image) -> None:
    from seglab.state import CurrentImage

    at.session_state["current"] = CurrentImage(name=name, origin="upload", key=name,
                                               image=image, preview=image)


def test_every_lesson_takes_a_thin_or_flat_image_of_your_own_without_a_crash(open_lesson):
    import numpy as np

    thin = np.random.default_rng(0).random((1, 500, 3)).astype(np.float32)
    flat = np.full((40, 50, 1), 0.4, np.float32)
    for page in LESSONS:
        at = open_lesson(f"pages/learn/{page}.py")
        _own(at, "thin.png", thin)
        at.radio(key=f"learn.{page}.image").set_value("yours").run()
        assert_no_exception(at)
        assert any("need at least" in w.value for w in at.warning), page
        assert at.session_state["current"].name == "thin.png"  # the learner's image stays
        _own(at, "flat.png", flat)
        at.run()
        assert_no_exception(at)
