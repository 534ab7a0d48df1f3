"""What every lesson page shares: the image it works on (a real photo, a generated
image with exact truth, or the learner's own), the predict-then-reveal question,
and the "what to notice" line. The numbers come from :mod:`segcore.learn`."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import streamlit as st

from segcore import io as sio
from segcore import learn
from seglab import cache
from seglab.state import current, not_drawn_this_run, persistent

#: Where the answers to every lesson's questions are kept, for the progress panel.
ANSWERS = "learn.answers"
#: The shortest side a lesson works on: kernels, crops, flooding and sliders over rows
#: and columns need some room (a 3 x 3 or 1 x 500 picture has none).
MIN_SIDE = 16


@dataclass(frozen=True)
class LessonImage:
    """A lesson's working copy: ``image`` float32 ``(H, W, C)`` in ``[0, 1]``,
    ``truth`` class ids (``None`` when unknown), ``key`` for caches and questions."""

    name: str
    kind: str  # "photo", "generated", "yours"
    key: str
    image: np.ndarray
    truth: np.ndarray | None
    note: str


@st.cache_data(max_entries=16, show_spinner=False)
def sample_copy(origin: str, name: str, max_pixels: int = learn.LESSON_PIXELS):
    """The small copy of a bundled sample and of its truth (``None`` for photos)."""
    sample = cache.sample_image(origin, name)
    return learn.small_copy(sample.image, sample.truth, max_pixels=max_pixels)


@st.cache_data(max_entries=4, show_spinner=False)
def _own_copy(key: str, truth_key: str, _image: np.ndarray, _truth, max_pixels: int):
    return learn.small_copy(_image, _truth, max_pixels=max_pixels)


def lesson_image(lesson: str, *, photo: str, generated: str,
                 max_pixels: int = learn.LESSON_PIXELS) -> LessonImage:
    """A choice of three images and the small copy of the chosen one, with a caption
    that says what the lesson works on. ``photo`` names one of scikit-image's
    pictures and ``generated`` one of SegLab's generated samples."""
    cur = current()
    options = ["photo", "generated", "yours"]
    labels = {"photo": f"A real photo ({photo})",
              "generated": f"A generated image with exact truth ({generated})",
              "yours": f"Your image ({cur.label})"}
    kind = persistent(st.radio, "Work on", key=f"learn.{lesson}.image", default="photo",
                      options=options, format_func=labels.get, horizontal=True,
                      valid=lambda v: v in options,
                      help="Your image is the one chosen on the Image page (with its ground "
                           "truth, if you added one).")
    if kind == "yours":
        image, truth = _own_copy(cur.key, cur.truth_key, cur.image, cur.truth, max_pixels)
        name, key, full_shape = cur.name, cur.key + cur.truth_key, cur.image.shape
        truth_note = cur.truth_note
        if min(image.shape[:2]) < MIN_SIDE:
            # One check for every lesson; the learner's image stays the current one.
            st.warning(f"Your image is {image.shape[1]} × {image.shape[0]} pixels: the lessons "
                       f"need at least {MIN_SIDE} × {MIN_SIDE}, so this one works on the real "
                       "photo. Choose a larger image on the Image page to use your own.",
                       icon=":material/photo_size_select_small:")
            kind = "photo"
    if kind != "yours":
        origin, name = ("scikit-image", photo) if kind == "photo" else ("generated", generated)
        image, truth = sample_copy(origin, name, max_pixels)
        key = f"{origin}:{name}"
        sample = cache.sample_image(origin, name)
        full_shape, truth_note = sample.image.shape, sample.truth_note
    h, w = image.shape[:2]
    if image.shape[:2] != full_shape[:2]:
        note = (f"The lesson works on a {w} × {h} copy of {name} ({full_shape[1]} × "
                f"{full_shape[0]}), so that every step answers in about a second.")
    else:
        note = f"The lesson works on {name} at full size ({w} × {h})."
    if truth is None:
        note += " No ground truth: the scores need one (add a mask on the Image page)."
    elif truth_note:
        note += f" Ground truth: {truth_note}."
    st.caption(note)
    return LessonImage(name=name, kind=kind, key=sio.content_key(key.encode()), image=image,
                       truth=truth, note=note)


def stop() -> None:
    """End this run of the lesson here (``st.stop()``), without leaving stale state.

    A run ended by ``st.stop()`` keeps the state of the widgets it did not reach;
    when they are drawn again the browser shows their defaults while the script
    reads the old values. Dropping the state of the widgets drawn with
    :func:`seglab.state.persistent` that this run did not reach makes each take its
    kept value, through the session state, the next time it is drawn: the browser
    and the script agree.
    """
    for key in not_drawn_this_run():
        st.session_state.pop(key, None)
    st.stop()


def notice(text: str) -> None:
    """The lesson's "what to notice" line for the state it is in now."""
    st.info(f"**What to notice.** {text}", icon=":material/visibility:")


def _question(key: str, question: str, context: str, ask, is_right, explain: str,
              committed=lambda guess: guess is not None) -> bool:
    """Ask (``ask`` draws the widget keyed ``"{key}.{context}.guess"``), wait for
    "Reveal", then say whether the learner was right. A new context (another image,
    another setting) asks again. Returns whether it is revealed."""
    done_key = f"{key}.revealed"
    st.markdown(f"**Predict first.** {question}")
    if st.session_state.get(done_key, {}).get("context") != context:
        st.session_state.pop(done_key, None)
    revealed = st.session_state.get(done_key)
    guess = ask(disabled=revealed is not None)
    if revealed is None:
        def reveal() -> None:  # a callback, so the answer shows in the same rerun
            guess = st.session_state.get(f"{key}.{context}.guess")  # the latest, not this run's
            right = bool(is_right(guess))
            st.session_state[done_key] = {"context": context, "guess": guess, "right": right}
            st.session_state.setdefault(ANSWERS, {})[key] = right

        st.button("Reveal", key=f"{key}.reveal", disabled=not committed(guess), on_click=reveal,
                  help="Commit to an answer first; then the lesson shows what happens.")
        return False
    said = revealed["guess"]
    said = f"“{said}”" if isinstance(said, str) else f"{said:g}"
    if revealed["right"]:
        st.success(f"Right: you said {said}. {explain}", icon=":material/check_circle:")
    else:
        st.warning(f"Not quite: you said {said}. {explain}", icon=":material/lightbulb:")
    return True


def predict_choice(key: str, question: str, options: list[str], answer: str, *,
                   context: str, explain: str) -> bool:
    """A multiple-choice prediction; returns True once the learner has revealed it."""
    def ask(disabled: bool):
        return st.radio("Your answer", options, index=None, key=f"{key}.{context}.guess",
                        disabled=disabled, label_visibility="collapsed")
    return _question(key, question, context, ask, lambda g: g == answer, explain)


def predict_number(key: str, question: str, *, low: float, high: float, answer: float,
                   tolerance: float, context: str, explain: str, step: float | None = None,
                   label: str = "Your guess") -> bool:
    """A numeric prediction on a slider, right within ``tolerance`` of ``answer``;
    returns True once the learner has revealed it. Whole-number ``low``, ``high``
    (and ``step``) make a slider of whole numbers, for counts. The slider starts at
    ``low``; Reveal waits until the learner has moved it."""
    whole = all(isinstance(v, int) for v in (low, high)) and (step is None or
                                                             isinstance(step, int))
    if not whole:
        low, high = float(low), float(high)
    # The slider starts at the low end and Reveal waits until it has moved: a guess is
    # the learner's, never the slider's starting point.

    def ask(disabled: bool):
        return st.slider(label, low, high, value=low, step=step,
                         key=f"{key}.{context}.guess", disabled=disabled)
    return _question(key, question, context, ask,
                     lambda g: abs(float(g) - answer) <= tolerance, explain,
                     committed=lambda g: g is not None and g != low)


def answers() -> tuple[int, int]:
    """How many of the questions answered in this session were right, and how many
    were answered."""
    given = st.session_state.get(ANSWERS, {})
    return sum(given.values()), len(given)
