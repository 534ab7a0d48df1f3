"""Class mode: challenges made, handed out as links and files, opened again bit for bit,
refused in plain words when edited, cut short or not a challenge at all; scores and the
sweep against segcore.metrics and scikit-learn; the page driven headless with AppTest."""

import base64
import inspect
import io
import json
import sys
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit

import numpy as np
import pytest
from PIL import Image
from sklearn.metrics import f1_score, jaccard_score
from streamlit.testing.v1 import AppTest

import segcore
from segcore import challenge as sc
from segcore import metrics, synthetic

from conftest import assert_no_exception, open_tab

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # the pages import their glue (seglab) from the root
    sys.path.insert(0, str(ROOT))

PAGE = "pages/learn/challenge.py"
TASK = dict(methods=["threshold", "kmeans"], metric="iou", target=0.9, question="Find them all?")


@pytest.fixture(scope="module")
def own():
    """A teacher's own colour image (larger than a challenge holds) and a mask with
    three classes, one of them ignored."""
    photo = segcore.load_image(segcore.samples.skimage_png("astronaut"))
    truth = np.ones(photo.shape[:2], np.int32)
    truth[100:300, 150:350] = 2
    truth[:20] = 0
    return photo, truth


def own_challenge(own, **task) -> sc.Challenge:
    photo, truth = own
    return sc.from_image(photo, truth, name="astronaut.png", ignore=0, **{**TASK, **task})


# --------------------------------------------------------------------------- making


def test_every_generator_setting_is_a_keyword_of_its_sample_with_the_same_default():
    for sample, params in sc.GENERATORS.items():
        keywords = inspect.signature(synthetic.SAMPLES[sample]).parameters
        for p in params:
            assert keywords[p.name].kind == inspect.Parameter.KEYWORD_ONLY, (sample, p.name)
            assert keywords[p.name].default == p.default, (sample, p.name)


@pytest.mark.parametrize("sample", list(synthetic.SAMPLES))
def test_a_link_gives_back_the_same_image_and_truth_bit_for_bit(sample):
    settings = {p.name: (p.high if p.kind == "int" and p.name != "rng" else
                         7 if p.name == "rng" else round((p.low + p.high) / 3, 2))
                for p in sc.generator_params(sample)}
    ch = sc.generated(sample, settings, **TASK)
    made = synthetic.SAMPLES[sample](**settings)
    # Through a real address: encoded, then parsed as a browser's query string is.
    query = dict(parse_qsl(urlsplit("http://x/challenge?" + urlencode(sc.to_query(ch))).query,
                           keep_blank_values=True))
    again = sc.from_query(query)
    assert again.image.tobytes() == made.image.tobytes() and again.image.dtype == np.float32
    assert again.truth.tobytes() == made.truth.astype(np.int32).tobytes()
    assert (again.check, again.methods, again.target, again.question, again.settings) == \
           (ch.check, ch.methods, ch.target, ch.question, ch.settings)
    assert all(isinstance(v, str) for v in sc.to_query(ch).values())


def test_a_file_gives_back_the_same_image_and_truth_bit_for_bit(own):
    ch = own_challenge(own)
    assert ch.image.shape[0] * ch.image.shape[1] <= sc.MAX_PIXELS and ch.image.shape[2] == 3
    data = sc.to_bytes(ch)
    assert len(data) < 400_000, "one small file"
    again = sc.from_bytes(data)
    assert again.image.tobytes() == ch.image.tobytes() and again.image.dtype == np.float32
    assert again.truth.tobytes() == ch.truth.tobytes()
    assert (again.check, again.ignore, again.name, again.sample) == (ch.check, 0, ch.name, None)
    # A generated challenge travels in a file as its settings.
    gen = sc.generated("noisy blobs", {"sigma": 0.3, "rng": 4}, **TASK)
    assert sc.from_bytes(sc.to_bytes(gen)).image.tobytes() == gen.image.tobytes()


def test_a_gray_image_and_a_truth_with_more_than_255_classes_travel_exactly():
    rng = np.random.default_rng(0)
    image = rng.random((40, 60, 1)).astype(np.float32)
    truth = np.arange(40 * 60, dtype=np.int32).reshape(40, 60) % 700
    ch = sc.from_image(image, truth, name="many.png", methods=["slic"], metric="dice",
                       target=0.5)
    again = sc.from_bytes(sc.to_bytes(ch))
    assert again.image.shape == (40, 60, 1) and again.truth.max() == 699
    assert again.image.tobytes() == ch.image.tobytes() and again.truth.tobytes() == ch.truth.tobytes()
    # the 8-bit levels are the image's, to half a level
    assert np.abs(ch.image - image).max() <= 0.5 / 255 + 1e-7


@pytest.mark.parametrize("change, message", [
    (dict(methods=["region_growing"]), "not a method a challenge can allow"),
    (dict(methods=[]), "at least one method"),
    (dict(methods=["kmeans", "kmeans"]), "listed twice"),
    (dict(metric="rand"), "the score must be one of"),
    (dict(target=1.5), "between 0 and 1"),
    (dict(target=True), "must be a number"),
    (dict(question="?" * 301), "at most 300"),
])
def test_a_bad_task_is_refused_in_words(change, message):
    with pytest.raises(ValueError, match=message):
        sc.generated("blobs", **{**TASK, **change})


def test_an_unusable_image_or_truth_is_refused_in_words():
    flat = np.zeros((40, 40, 1), np.float32)
    with pytest.raises(ValueError, match="need at least 16"):
        sc.from_image(np.zeros((10, 500, 1), np.float32), np.eye(10, 500, dtype=int), name="t",
                      **TASK)
    with pytest.raises(ValueError, match="at least two classes"):
        sc.from_image(flat, np.ones((40, 40), int), name="one", **TASK)
    with pytest.raises(ValueError, match="the image is 40 × 40"):
        sc.from_image(flat, np.ones((30, 40), int) + np.eye(30, 40, dtype=int), name="s", **TASK)
    with pytest.raises(ValueError, match="no setting 'n'"):
        sc.generated("shapes", {"n": 3}, **TASK)
    with pytest.raises(ValueError, match="between 0 and 0.5"):
        sc.generated("noisy blobs", {"sigma": 2}, **TASK)
    with pytest.raises(ValueError, match="no generated sample"):
        sc.generated("cats", **TASK)


# --------------------------------------------------------------------------- tampering


@pytest.fixture(scope="module")
def link():
    return sc.to_query(sc.generated("blobs", {"n": 6, "rng": 3}, **TASK))


@pytest.mark.parametrize("edit, message", [
    (dict(target="0.5"), "does not match its check"),
    (dict(rng="4"), "does not match its check"),
    (dict(methods="threshold"), "does not match its check"),
    (dict(question="Easy?"), "does not match its check"),
    (dict(check="0" * 16), "does not match its check"),
    (dict(challenge="2"), "format '2'; this SegLab reads format 1"),
    (dict(sample="cats"), "no generated sample 'cats'"),
    (dict(n="lots"), "must be a number"),
    (dict(n="400"), "between 1 and 40"),
    (dict(target="nan"), "between 0 and 1"),
    (dict(target="high"), "must be a number"),
    (dict(metric="rand"), "the score must be one of"),
    (dict(methods="threshold,region_growing"), "not a method a challenge can allow"),
    (dict(question="x" * 500), "at most 400"),
])
def test_an_edited_link_is_refused_in_words(link, edit, message):
    with pytest.raises(ValueError, match=message):
        sc.from_query({**link, **edit})


def test_a_link_cut_short_anywhere_is_refused_and_tracking_tags_are_ignored(link):
    address = urlencode(link)
    for end in range(len(address)):  # every place a mail program could cut it
        query = dict(parse_qsl(address[:end], keep_blank_values=True))
        if "challenge" not in query:
            continue
        with pytest.raises(ValueError):
            sc.from_query(query)
    with pytest.raises(ValueError, match="cut short"):
        sc.from_query({k: v for k, v in link.items() if k != "check"})
    assert sc.from_query({**link, "utm_source": "mail"}).check == link["check"]


@pytest.fixture(scope="module")
def own_file(own):
    return sc.to_bytes(own_challenge(own, methods=["kmeans"]))


def _edit(data: bytes, **fields) -> bytes:
    content = json.loads(data)
    content.update(fields)
    return json.dumps(content).encode()


def _png(array) -> str:
    buf = io.BytesIO()
    Image.fromarray(array).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize("make, message", [
    (lambda d: _edit(d, target=0.5), "does not match its check"),
    (lambda d: _edit(d, name="other.png"), "does not match its check"),
    (lambda d: _edit(d, ignore=None), "does not match its check"),
    (lambda d: _edit(d, truth=_png(np.full((10, 10), 2, np.uint8))), "at least 16 on a side"),
    (lambda d: _edit(d, image=_png(np.zeros((400, 400), np.uint8))), "at most 90,000 pixels"),
    (lambda d: _edit(d, image=_png(np.zeros((300, 300, 4), np.uint8))), "RGBA PNG"),
    (lambda d: _edit(d, image="not base64!"), "not base64"),
    (lambda d: _edit(d, image=base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 50).decode()),
     "image is damaged"),
    (lambda d: _edit(d, version=2), "format '2'; this SegLab reads format 1"),
    (lambda d: _edit(d, format="something-else"), "not a SegLab challenge file"),
    (lambda d: _edit(d, extra=1), "fields it should not: extra"),
    (lambda d: json.dumps({k: v for k, v in json.loads(d).items() if k != "truth"}).encode(),
     "lacks truth"),
    (lambda d: _edit(d, methods="kmeans"), "must be a list"),
    (lambda d: _edit(d, target="0.9"), "must be a number"),
    (lambda d: _edit(d, ignore=-1), "the ignored class"),
    (lambda d: d[: len(d) // 2], "damaged or cut short"),
    (lambda d: d.replace(b'"metric": "iou"', b'"metric": "io\xff"'), "damaged or cut short"),
    (lambda d: b" " * (sc.MAX_FILE_BYTES + 1), "at most 2 MB"),
    (lambda d: np.random.default_rng(0).bytes(5000), "not a challenge file"),
    (lambda d: base64.b64decode(_png(np.zeros((20, 20), np.uint8))), "not a challenge file"),
    (lambda d: b"[1, 2, 3]", "not a SegLab challenge file"),
    (lambda d: b"", "not a challenge file"),
])
def test_an_edited_damaged_or_foreign_file_is_refused_in_words(own_file, make, message):
    with pytest.raises(ValueError, match=message):
        sc.from_bytes(make(own_file))


@pytest.mark.parametrize("fields", [
    {"sample": "x" * 100_000}, {"settings": {f"s{i}": i for i in range(10_000)}},
    {"settings": {"n": list(range(10_000))}}, {"settings": {"n": "9" * 5000}},
    {"methods": ["kmeans"] * 10_000}, {"methods": ["y" * 100_000]}, {"metric": "z" * 100_000},
    {"target": 10**400}, {"target": [0.5] * 1000}, {"name": "n" * 100_000},
])
def test_huge_or_odd_values_in_a_file_get_a_short_plain_message(fields):
    base = json.loads(sc.to_bytes(sc.generated("blobs", **TASK)))
    with pytest.raises(ValueError) as refused:
        sc.from_bytes(json.dumps({**base, **fields}).encode())
    assert len(str(refused.value)) < 300, str(refused.value)[:300]
    with pytest.raises(ValueError, match="not a challenge file"):
        sc.from_bytes(b"1" + b"0" * 5000)  # a number too long for Python to read


def test_a_changed_byte_anywhere_never_gives_another_challenge(own_file):
    # A byte changed where it changes nothing (a space in the JSON, a padding bit of
    # base64) may open the same challenge; anything else is refused, never misread.
    original = sc.from_bytes(own_file)
    rng = np.random.default_rng(1)
    letters = b"abcXYZ0129+/= ,:"  # changes that keep the file readable text
    refused = 0
    for i, at in enumerate(rng.choice(len(own_file), 300, replace=False)):
        data = bytearray(own_file)
        data[at] = (letters[i % len(letters)] if i % 2 else
                    (data[at] + int(rng.integers(1, 256))) % 256)
        try:
            opened = sc.from_bytes(bytes(data))
        except ValueError:
            refused += 1
            continue
        assert opened.check == original.check
        assert opened.image.tobytes() == original.image.tobytes()
        assert opened.truth.tobytes() == original.truth.tobytes()
    assert refused > 250
    for end in range(0, len(own_file), 997):
        with pytest.raises(ValueError):
            sc.from_bytes(own_file[:end])


# --------------------------------------------------------------------------- scores


def test_scores_equal_segcore_metrics_and_scikit_learn():
    ch = sc.generated("shapes", **TASK)
    pred = ch.truth.copy()
    pred[::7, ::5] = 1  # some object pixels called background
    labels = ch.truth.ravel(), pred.ravel()
    assert sc.score(ch, pred) == pytest.approx(jaccard_score(*labels, average="macro"))
    dice = sc.generated("shapes", **{**TASK, "metric": "dice"})
    assert sc.score(dice, pred) == pytest.approx(f1_score(*labels, average="macro"))
    boundary = sc.generated("shapes", **{**TASK, "metric": "boundary_f1"})
    assert sc.score(boundary, pred) == metrics.boundary_f1(pred, ch.truth)["f1"]
    with pytest.raises(ValueError, match="the result is"):
        sc.score(ch, pred[:10])


def test_every_candidate_is_a_valid_setting_and_the_defaults_come_first():
    for method in sc.allowed_methods():
        spec = segcore.get_method(method)
        settings = sc.candidates(method, points=5)
        assert settings[0] == spec.defaults()
        assert len({repr(sorted(s.items())) for s in settings}) == len(settings)
        for s in settings:
            assert spec.resolve(s) == s
            assert all(s[name] == spec.defaults()[name] for name in sc.SWEEP_FIXED if name in s)


def test_the_sweeps_best_beats_every_try_and_is_its_real_score():
    ch = sc.generated("shapes", **TASK)
    found = sc.sweep(ch, budget_s=None)
    assert found.complete and len(found.trials) == sum(len(sc.candidates(m)) for m in ch.methods)
    top = found.best
    assert all(t.score <= top.score for t in found.trials if t.score is not None)
    labels = segcore.segment(ch.image, top.method, **top.params).labels
    assert top.score == metrics.score(labels, ch.truth, match="hungarian")["iou"]
    assert top.score >= 0.99  # four classes: multi-Otsu or k-means with k = 4
    for method, params in [("threshold", {"algorithm": "li"}), ("kmeans", {"k": 5})]:
        assert sc.attempt(ch, method, params).score <= top.score
    with pytest.raises(ValueError, match="allows threshold, kmeans, not 'slic'"):
        sc.attempt(ch, "slic")


def test_a_sweep_out_of_time_still_tries_every_method_once():
    ch = sc.generated("two regions", methods=["kmeans", "threshold"], metric="iou", target=0.9)
    found = sc.sweep(ch, budget_s=0)
    assert [t.method for t in found.trials] == ["kmeans", "threshold"] and not found.complete
    assert found.trials[0].error == "the image has fewer than 3 distinct colours; lower k"
    assert found.best.method == "threshold"


# --------------------------------------------------------------------------- the app


def fresh(query: dict | None = None) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.query_params.update(query or {})
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    return at


def texts(elements) -> str:
    return " ".join(str(e.value) for e in elements)


def test_a_link_opened_in_a_fresh_session_restores_the_challenge(link):
    at = fresh(link)
    ch = at.session_state["challenge.opened"]
    assert ch.check == link["check"] and ch.settings == (("n", 6), ("rng", 3))
    assert at.subheader[0].value == "Find them all?"
    cur = at.session_state["current"]
    assert cur.image.tobytes() == ch.image.tobytes() and cur.truth is None, \
        "the challenge's image is the current one, its truth hidden"
    assert cur.name == "blobs (challenge)"
    assert not at.error


def test_a_tampered_link_says_so_and_keeps_the_image(link):
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.button(key="sample.generated.shapes").click().run()
    at.query_params.update({**link, "target": "0.1"})
    at.switch_page(PAGE).run()
    assert_no_exception(at)
    assert "could not be opened as a challenge: the link does not match its check" in \
        texts(at.error)
    assert at.session_state["current"].name == "shapes"
    assert "challenge.opened" not in at.session_state


def test_the_teacher_makes_a_link_that_a_fresh_session_opens():
    at = fresh()
    at.selectbox(key="challenge.make.sample").set_value("noisy blobs").run()
    at.slider(key="challenge.make.noisy blobs.sigma").set_value(0.1).run()
    at.number_input(key="challenge.make.noisy blobs.rng").set_value(5).run()
    at.multiselect(key="challenge.make.methods").set_value(["threshold", "gmm"]).run()
    at.slider(key="challenge.make.target").set_value(0.8).run()
    at.text_area(key="challenge.make.question").set_value("How far can you go?").run()
    assert_no_exception(at)
    url = at.code[0].value
    query = dict(parse_qsl(urlsplit(url).query, keep_blank_values=True))
    # The link opens the app's main address (no "Page not found" over a first page
    # opened by its own address, streamlit#9992), which goes on to the challenge.
    assert urlsplit(url).path == "/"
    student = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    student.query_params.update(query)
    student.run()
    assert_no_exception(student)
    assert student.title[0].value == "Class challenge"
    ch = student.session_state["challenge.opened"]
    assert (ch.sample, ch.settings, ch.methods, ch.target, ch.question) == (
        "noisy blobs", (("rng", 5), ("sigma", 0.1)), ("threshold", "gmm"), 0.8,
        "How far can you go?")
    assert student.selectbox(key=[s.key for s in student.selectbox
                                  if s.key.startswith("challenge.method")][0]).options == \
        ["Threshold", "Gaussian mixture (EM)"]


def test_the_teacher_makes_a_file_of_their_image_that_students_open_on_the_image_page():
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    at.button(key="sample.generated.blobs").click().run()
    at.switch_page(PAGE).run()
    at.radio(key="learn.challenge.image").set_value("yours").run()
    at.multiselect(key="challenge.make.methods").set_value(["gmm"]).run()
    assert_no_exception(at)
    assert not at.warning
    assert "Download the challenge file" in [b.label for b in at.main.get("download_button")]
    at.toggle(key="challenge.make.sweep").set_value(True).run()  # is the target in reach?
    assert_no_exception(at)
    assert "Within reach: the sweep gets 1.000 with Gaussian mixture" in texts(at.success)
    cur = at.session_state["current"]
    at.button(key="challenge.make.try").click().run()
    made = at.session_state["challenge.opened"]
    assert at.session_state["current"].name == "blobs", "trying it keeps the teacher's image"
    assert made.sample is None and made.truth.tobytes() == cur.truth.tobytes()

    student = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60).run()
    student.button(key="sample.generated.shapes").click().run()
    open_tab(student, "Upload")
    tampered = _edit(sc.to_bytes(made), target=0.1)
    student.file_uploader(key="upload_challenge").set_value(
        ("challenge-blobs.json", tampered, "application/json")).run()
    assert_no_exception(student)
    assert "challenge-blobs.json could not be opened as a challenge: the file does not " \
           "match its check" in texts(student.error)
    assert student.session_state["current"].name == "shapes", "the previous image is kept"
    student.file_uploader(key="upload_challenge").set_value(
        ("challenge-blobs.json", sc.to_bytes(made), "application/json")).run()
    assert_no_exception(student)
    assert not student.error
    assert student.session_state["challenge.opened"].check == made.check
    assert student.session_state["current"].image.tobytes() == made.image.tobytes()
    assert student.session_state["current"].truth is None
    assert "Take the challenge" in [link.proto.label for link in student.main.get("page_link")]
    assert "its truth stays hidden" in texts(student.sidebar.caption)
    student.switch_page(PAGE).run()
    assert student.subheader[0].value == made.task


def test_a_student_predicts_submits_sees_the_score_then_the_sweep_and_the_progress_counts():
    s = synthetic.blobs((48, 48), n=4)
    ch = sc.from_image(s.image, s.truth, name="cells.png", methods=["kmeans"], metric="iou",
                       target=0.95, question="Cells?")
    at = fresh()
    assert "Lessons: no question answered yet" in texts(at.sidebar.caption)
    at.file_uploader(key="challenge.file").set_value(
        ("challenge.json", sc.to_bytes(ch), "application/json")).run()
    assert_no_exception(at)
    assert at.subheader[0].value == "Cells?"
    # Before tuning: k-means at k = 3 splits two gray levels in three and misses the goal.
    guess = next(r for r in at.radio if r.key.endswith(".guess"))
    guess.set_value("No, it needs tuning").run()
    at.button(key="challenge.defaults.reveal").click().run()
    assert "Right: you said “No, it needs tuning”" in texts(at.success)
    assert "Lessons: 1 of 1 questions right" in texts(at.sidebar.caption)

    assert not at.metric, "no score before a submit"
    at.slider(key="challenge.kmeans.k").set_value(2).run()
    at.button(key="challenge.submit").click().run()
    assert_no_exception(at)
    score = {m.label: m.value for m in at.metric}
    expected = sc.score(ch, segcore.segment(ch.image, "kmeans", k=2).labels)
    assert score["Your score"] == f"{expected:.3f}" and score["Tries"] == "1"
    assert "A sweep tried" in texts(at.markdown)
    top = sc.sweep(ch, budget_s=None).best
    assert f"Its best: **{top.score:.3f}**" in texts(at.markdown)
    assert float(score["Your score"]) <= top.score + 5e-4
