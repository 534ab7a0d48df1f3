"""SegLab: pick an image, segment it, compare methods, score a result.

Run with ``make run`` (or ``streamlit run app.py``). This entry point sets up
the page, the navigation over ``pages/`` and the sidebar summary of the chosen
image; each page is a thin script over :mod:`segcore`.
"""

import streamlit as st

st.set_page_config(page_title="SegLab", page_icon=":material/blur_on:", layout="wide")

from pages.common import current, display_rgb, image_facts  # noqa: E402  (after page config)

PAGES = [
    st.Page("pages/home.py", title="Image", icon=":material/image:", default=True),
    st.Page("pages/segment.py", title="Segment", icon=":material/auto_fix_high:"),
    st.Page("pages/compare.py", title="Compare", icon=":material/view_module:"),
    st.Page("pages/evaluate.py", title="Evaluate", icon=":material/fact_check:"),
]

page = st.navigation(PAGES)

with st.sidebar:
    cur = current()
    st.image(display_rgb(cur.preview, side=320), caption=f"Current image: {cur.name}",
             width="stretch")
    st.caption(image_facts(cur)[0])
    if cur.truth is not None:
        source = cur.truth_note.split(":")[0]
        st.caption(f":material/check_circle: Ground truth known ({source})")
    else:
        st.caption("No ground truth: add a mask on the Image page to get scores.")
    st.page_link(PAGES[0], label="Choose another image", icon=":material/swap_horiz:")

page.run()
