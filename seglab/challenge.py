"""Class mode's glue: opening a challenge from a link or a file (a failure keeps the
student's image and says why), the opened challenge and its tries in the session,
the link to hand out, and the cached sweep. The work is :mod:`segcore.challenge`'s."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import numpy as np
import streamlit as st

from segcore import challenge as sc
from segcore import io as sio
from seglab import cache
from seglab.state import CurrentImage, clean_name, set_current, shown

#: Session keys: the opened challenge, where it came from, the last link read, tries.
OPENED, FROM, LINK, TRIES = "challenge.opened", "challenge.from", "challenge.link", "challenge.tries"
#: The challenge page's address, relative to the app's.
PAGE = "pages/learn/challenge.py"
#: What a student sees before opening their teacher's challenge.
EXAMPLE = dict(sample="shapes", settings={"rng": 0}, methods=["threshold", "kmeans"],
               metric="iou", target=0.9,
               question="Find every shape, each as a class of its own.")
#: The sweep's time budget in seconds (a run that has started is always finished).
SWEEP_BUDGET_S = 10.0


def as_image(ch: sc.Challenge) -> CurrentImage:
    """The challenge's image as an image the pages work on, without its truth: the
    score comes only when the student submits on the challenge page."""
    return CurrentImage(name=f"{ch.name} (challenge)", origin="challenge",
                        key="challenge:" + ch.check, image=ch.image, preview=ch.image,
                        description=ch.task)


def open_challenge(ch: sc.Challenge, *, source: str, make_current: bool = True) -> None:
    """Make ``ch`` the challenge of this session (and its image the current one)."""
    st.session_state[OPENED] = ch
    st.session_state[FROM] = source
    if make_current:
        set_current(as_image(ch))


def opened() -> sc.Challenge | None:
    """The challenge opened in this session, or ``None``."""
    return st.session_state.get(OPENED)


def opened_from() -> str:
    return st.session_state.get(FROM, "")


@st.cache_data(show_spinner=False)
def example() -> sc.Challenge:
    """The example challenge shown until one is opened."""
    return sc.generated(**EXAMPLE)


def open_link() -> None:
    """Open the challenge in the address's query string, once per link (app.py calls
    it before drawing the sidebar, so the sidebar shows the challenge's image). A link
    that cannot be opened leaves everything as it was; :func:`link_error` says why."""
    query = st.query_params.to_dict()
    if "challenge" not in query:
        return
    signature = tuple(sorted(query.items()))
    if st.session_state.get(LINK, {}).get("signature") == signature:
        return
    try:
        ch = sc.from_query(query)
    except ValueError as err:
        st.session_state[LINK] = {"signature": signature, "error": str(err)}
    else:
        st.session_state[LINK] = {"signature": signature, "error": None}
        open_challenge(ch, source="your teacher's link")
    # Links point at the app's main address, not at the challenge page: Streamlit shows
    # a spurious "Page not found" over a page opened by its own address as a session's
    # first (streamlit#9992), which every student of a class would see. Once opened,
    # the link goes on to the challenge page, where it is taken or its error shown.
    st.switch_page(PAGE, query_params=query)


def link_error() -> str | None:
    """Why the challenge link in the address could not be opened, or ``None``."""
    if "challenge" not in st.query_params:
        return None
    return st.session_state.get(LINK, {}).get("error")


def link(ch: sc.Challenge) -> tuple[str, bool]:
    """The challenge's link, and whether this app's address was known (else the
    link starts with a stand-in address)."""
    base = st.context.url or ""
    known = base.startswith("http")
    if not known:
        base = "http://localhost:8501/"
    else:  # the app's main address (see open_link): this page's, less its own path
        parts = urlsplit(base)
        path = parts.path.rstrip("/")
        path = path[: -len("/challenge")] if path.endswith("/challenge") else path
        base = f"{parts.scheme}://{parts.netloc}{path}/"
    return f"{base}?{urlencode(sc.to_query(ch), quote_via=quote)}", known


def file_name(ch: sc.Challenge) -> str:
    stem = "".join(c if c.isalnum() or c in "-_" else "-" for c in Path(ch.name).stem)
    return f"challenge-{stem or 'image'}.json"


def _apply_file(key: str) -> None:
    """Widget callback: open the uploaded challenge file before the script runs (so
    the sidebar shows its image); a failure keeps everything as it was."""
    upload = st.session_state.get(key)
    st.session_state.pop(key + ".error", None)
    if upload is None:
        return
    name = shown(clean_name(upload.name))
    try:
        ch = sc.from_bytes(upload.getvalue())
    except ValueError as err:
        st.session_state[key + ".error"] = (
            f"{name} could not be opened as a challenge: {err}. Your image and "
            "settings are kept; ask your teacher for the file again.")
        return
    open_challenge(ch, source=f"the file {name}")


def file_uploader(*, key: str, label: str = "Challenge file (.json) from your teacher") -> None:
    """The upload of a challenge file, with the reason when one is refused."""
    st.file_uploader(label, type=["json"], key=key, on_change=_apply_file, args=(key,),
                     max_upload_size=sc.MAX_FILE_BYTES // 2**20,
                     help="The file a teacher made on the Class challenge page. It holds the "
                          "image and its truth: a classroom exercise, not an exam.")
    message = st.session_state.get(key + ".error")
    if message:
        st.error(message, icon=":material/error:")


def submit(ch: sc.Challenge, method: str, params: dict, labels: np.ndarray) -> sc.Trial:
    """Score a student's result against the truth and keep it with their tries."""
    trial = sc.Trial(method, dict(params), sc.score(ch, labels))
    st.session_state.setdefault(TRIES, {}).setdefault(ch.check, []).append(trial)
    return trial


def tries(ch: sc.Challenge) -> list[sc.Trial]:
    """This session's submitted tries at ``ch``, oldest first."""
    return st.session_state.get(TRIES, {}).get(ch.check, [])


def _scoring_key(ch: sc.Challenge) -> str:
    # What scores depend on: the pixels, the truth, the methods and the metric (not the
    # question or the target, which a teacher may still be typing).
    return sio.content_key(ch.image.tobytes() + ch.truth.tobytes() +
                           repr((ch.methods, ch.metric, ch.ignore)).encode())


@st.cache_data(max_entries=8, show_spinner=False)
def _sweep(key: str, _ch: sc.Challenge) -> sc.Sweep:
    return sc.sweep(_ch, budget_s=SWEEP_BUDGET_S)


def sweep(ch: sc.Challenge) -> sc.Sweep:
    """The best settings a sweep finds for ``ch`` (cached: once per challenge on a
    server, so a class shares one sweep, and a teacher's check makes it ready)."""
    return _sweep(_scoring_key(ch), ch)


@st.cache_data(max_entries=16, show_spinner=False)
def _attempt(key: str, method: str, _ch: sc.Challenge) -> sc.Trial:
    return sc.attempt(_ch, method)


def at_defaults(ch: sc.Challenge, method: str) -> sc.Trial:
    """``method`` at its default settings on ``ch``, scored (cached)."""
    return _attempt(_scoring_key(ch), method, ch)


@st.cache_data(max_entries=8, show_spinner=False)
def generated(sample: str, settings: tuple, task: tuple) -> sc.Challenge:
    """:func:`segcore.challenge.generated`, cached (``ValueError`` in words)."""
    return sc.generated(sample, dict(settings), **dict(task))


@st.cache_data(max_entries=4, show_spinner=False)
def _own(key: str, task: tuple, _cur: CurrentImage) -> sc.Challenge:
    # From the preview (at most a megapixel): the challenge's copy is smaller still.
    truth = cache.truth_at(_cur, _cur.preview.shape[:2])
    return sc.from_image(_cur.preview, truth, name=_cur.name, ignore=_cur.truth_ignore,
                         **dict(task))


def own(cur: CurrentImage, task: dict) -> sc.Challenge:
    """A challenge on the current image and its truth, cached (``ValueError`` in words)."""
    return _own(f"{cur.key}{cur.truth_key}{cur.name}", tuple(task.items()), cur)


@st.cache_data(max_entries=8, show_spinner=False)
def _file(check: str, _ch: sc.Challenge) -> bytes:
    return sc.to_bytes(_ch)


def file_bytes(ch: sc.Challenge) -> bytes:
    """The challenge file to hand out (cached)."""
    return _file(ch.check, ch)
