"""SegLab: pick an image, segment it, compare methods, score a result, learn how
methods work.

Run with ``make run`` (or ``streamlit run app.py``). This entry point sets up the
page, the navigation and the sidebar summary of the chosen image; each page is a
thin script over :mod:`segcore`, with the Streamlit glue it shares in :mod:`seglab`.

Adding a page is one file in ``pages/lab/`` or ``pages/learn/`` and one line in
``LAB`` or ``LEARN`` below. ``pages/`` itself holds no script: Streamlit would
otherwise take its top-level ``*.py`` files for an old-style multipage app until
``st.navigation`` has run once, and a class opening a fresh server at the same
moment would see those files as pages (``tests/test_app.py`` checks it stays so).
"""

import streamlit as st

st.set_page_config(page_title="SegLab", page_icon=":material/blur_on:", layout="wide")

import streamlit.delta_generator  # noqa: E402

# Before its first element, Streamlit calls inspect.stack() once per server, reading
# the source of every frame, to warn a REPL user; under `streamlit run` the answer is
# known. 50-80 ms of the first page on a fresh server (issue #12). A test checks that
# Streamlit still has the flag.
streamlit.delta_generator._use_warning_has_been_displayed = True

from seglab import cache, challenge, lesson  # noqa: E402  (after page config)
from seglab.state import current, new_run  # noqa: E402

new_run()

LAB = [
    st.Page("pages/lab/image.py", title="Image", icon=":material/image:", default=True),
    st.Page("pages/lab/segment.py", title="Segment", icon=":material/auto_fix_high:"),
    st.Page("pages/lab/compare.py", title="Compare", icon=":material/view_module:"),
    st.Page("pages/lab/tryall.py", title="Try all", icon=":material/grid_view:"),
    st.Page("pages/lab/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
    st.Page("pages/lab/datasets.py", title="Datasets", icon=":material/dataset:"),
]
#: Lessons: one page each, in the order a course would take them.
LEARN = [
    st.Page("pages/learn/segmentation.py", title="What segmentation is", icon=":material/school:"),
    st.Page("pages/learn/thresholds.py", title="Histograms and thresholds", icon=":material/school:"),
    st.Page("pages/learn/kmeans.py", title="K-means", icon=":material/school:"),
    st.Page("pages/learn/mixtures.py", title="Gaussian mixtures", icon=":material/school:"),
    st.Page("pages/learn/edges.py", title="Edges", icon=":material/school:"),
    st.Page("pages/learn/watershed.py", title="Watershed", icon=":material/school:"),
    st.Page("pages/learn/regions.py", title="Region growing, walkers", icon=":material/school:"),
    st.Page("pages/learn/graphs.py", title="Graphs", icon=":material/school:"),
    st.Page("pages/learn/cnn.py", title="CNNs for segmentation", icon=":material/school:"),
    st.Page("pages/learn/unet.py", title="The U-Net, opened", icon=":material/school:"),
    st.Page("pages/learn/metrics.py", title="Metrics", icon=":material/school:"),
    st.Page("pages/learn/augmentation.py", title="Data augmentation", icon=":material/school:"),
    st.Page("pages/learn/challenge.py", title="Class challenge", icon=":material/sports_score:"),
]

# expanded: every lesson listed, not the first few and "View more"
page = st.navigation({"Lab": LAB, "Learn": LEARN} if LEARN else {"Lab": LAB}, expanded=True)

# A challenge link (on the Class challenge page) opens before the sidebar shows the image.
challenge.open_link()

with st.sidebar:
    cur = current()
    st.image(cache.display_picture(cur, side=320), caption=f"Current image: {cur.name}",
             width="stretch")
    st.caption(cur.facts()[0])
    if cur.truth is not None:
        source = cur.truth_note.split(":")[0]
        st.caption(f":material/check_circle: Ground truth known ({source})")
    elif cur.origin == "challenge":
        st.caption("A class challenge's image: its truth stays hidden; submit on the Class "
                   "challenge page for a score.")
    else:
        st.caption("No ground truth: add a mask on the Image page to get scores.")
    st.page_link(LAB[0], label="Choose another image", icon=":material/swap_horiz:")
    right, answered = lesson.answers()  # this session's only: no accounts, nothing stored
    st.caption(f":material/school: Lessons: {right} of {answered} questions right" if answered
               else ":material/school: Lessons: no question answered yet")

page.run()
