"""The Compare page: several methods side by side, and every global threshold at once."""

import numpy as np
import streamlit as st

import segcore
from segcore.methods.threshold import GLOBAL

from pages.common import (
    CurrentImage,
    _keep,
    _restore,
    current,
    display_rgb,
    param_widgets,
    remember_result,
    run_method,
    score,
    seeds_of,
    truth_at,
    viz,
)

cur = current()
st.title("Compare")
st.caption(f"Working on **{cur.name}** (preview size). Each method keeps its own settings; "
           "open a method's box to change them.")

DEFAULT_METHODS = ["threshold", "kmeans", "felzenszwalb"]


@st.fragment
def compare(cur: CurrentImage) -> None:
    specs = {m.name: m for m in segcore.list_methods()}
    names = list(specs)
    _restore("compare.methods", [n for n in DEFAULT_METHODS if n in names],
             lambda v: isinstance(v, list) and all(n in names for n in v))
    chosen = st.multiselect("Methods to compare (2 to 6)", names, key="compare.methods",
                            max_selections=6, format_func=lambda n: specs[n].label)
    _keep("compare.methods")
    if len(chosen) < 2:
        st.info("Choose at least two methods to compare.")
        return

    settings = st.columns(min(len(chosen), 3))
    params = {}
    for i, name in enumerate(chosen):
        with settings[i % len(settings)]:
            with st.expander(f"{specs[name].label}: settings"):
                params[name], missing = param_widgets(specs[name], scope="compare")
                if missing:
                    params[name] = None
                    st.caption("Missing: " + "; ".join(missing))

    seeds = seeds_of(cur)
    truth = truth_at(cur, cur.preview.shape[:2])
    rows, cells = [], []
    with st.spinner("Running the methods…"):
        for name in chosen:
            spec = specs[name]
            note, seg, error = "", None, None
            if params[name] is None:
                error = "settings incomplete (see its box above)"
            elif spec.seeds == "required" and not seeds:
                error = "needs seeds: place them on the Segment page"
            else:
                use = seeds if spec.takes_seeds else None
                if use:
                    note = f" · with your {len(use)} seeds"
                seg, error = run_method(cur, name, params[name], seeds=use)
            cells.append((spec, seg, error, note))
            if seg is None:
                continue
            remember_result(cur, f"Compare page: {spec.label}", seg, full=False)
            row = {"method": spec.label, "regions": seg.n_regions, "run time (s)": seg.elapsed_s}
            if truth is not None:
                scores, _ = score(seg.labels, truth, ignore=cur.truth_ignore)
                if scores:
                    row.update({"IoU": scores["iou"], "Dice": scores["dice"],
                                "accuracy": scores["accuracy"]})
            rows.append(row)

    grid = st.columns(3)
    for i, (spec, seg, error, note) in enumerate(cells):
        with grid[i % 3]:
            st.markdown(f"**{spec.label}**")
            if seg is None:
                st.image(display_rgb(cur.preview, side=480), width="stretch")
                st.error(f"Could not run: {error}.")
                continue
            st.image(display_rgb(viz.overlay(cur.preview, seg.labels, alpha=0.55,
                                             show_boundaries=seg.n_regions > 12), side=480),
                     width="stretch")
            st.caption(f"{seg.n_regions} regions · {seg.elapsed_s:.2f} s{note}")

    if rows:
        st.subheader("Side by side")
        fmt = {"run time (s)": st.column_config.NumberColumn(format="%.3f")}
        for col in ("IoU", "Dice", "accuracy"):
            fmt[col] = st.column_config.NumberColumn(format="%.3f")
        st.dataframe(rows, hide_index=True, width="stretch", column_config=fmt)
        if truth is not None:
            st.caption("IoU and Dice are means over the ground-truth classes, after each label "
                       "was matched to the class it overlaps most (Hungarian matching), so "
                       "clustering methods whose label numbers mean nothing are scored fairly.")
        else:
            st.caption("No ground truth for this image, so no scores: pick a generated sample or "
                       "add a mask on the Image page.")

    st.divider()
    st.subheader("Try all thresholds")
    st.caption("Every global threshold algorithm on the same image: each looks at the histogram "
               "differently. Bright pixels (above the threshold) are white.")
    if not st.toggle("Show every global threshold", key="compare.all_thresholds"):
        return
    algorithms = list(GLOBAL) + ["multiotsu"]
    cols = st.columns(4)
    table = []
    for i, algorithm in enumerate(algorithms):
        seg, error = run_method(cur, "threshold", {"algorithm": algorithm})
        with cols[i % 4]:
            st.markdown(f"**{algorithm}**")
            if seg is None:
                st.warning(error)
                continue
            top = max(int(seg.labels.max()) - 1, 1)
            picture = ((seg.labels - 1) / top).astype("float32")
            # A gray frame keeps white areas from melting into the page.
            framed = np.pad(picture, 2, constant_values=0.6)
            st.image(display_rgb(framed, side=400), width="stretch")
            values = ", ".join(f"{t:.3f}" for t in seg.extras["thresholds"])
            line = f"threshold {values}"
            row = {"algorithm": algorithm, "threshold": values}
            if truth is not None:
                scores, _ = score(seg.labels, truth, ignore=cur.truth_ignore)
                if scores:
                    line += f" · IoU {scores['iou']:.3f}"
                    row.update({"IoU": scores["iou"], "Dice": scores["dice"]})
            st.caption(line)
            table.append(row)
    if truth is not None and table:
        best = max((r for r in table if "IoU" in r), key=lambda r: r["IoU"], default=None)
        if best:
            st.success(f"Best on this image: **{best['algorithm']}** (IoU {best['IoU']:.3f}).")


compare(cur)
