"""The Compare page: several methods side by side, and every global threshold at once."""

import numpy as np
import streamlit as st

import segcore
from segcore import metrics, viz
from seglab import cache, widgets
from seglab.seeds import seeds_of
from seglab.state import CurrentImage, current, persistent, remember_result

cur = current()
st.title("Compare")
st.caption(f"Working on **{cur.label}** (preview size). Each method keeps its own settings; "
           "open a method's box to change them.")

DEFAULT_METHODS = ["threshold", "kmeans", "felzenszwalb"]


def scored(seg, truth) -> dict:
    """IoU, Dice and accuracy of a result, or nothing without truth."""
    if truth is None:
        return {}
    scores, _ = cache.evaluate(seg.labels, truth, ignore=cur.truth_ignore)
    return {k: scores[k] for k in ("iou", "dice", "accuracy")} if scores else {}


@st.fragment
def compare(cur: CurrentImage) -> None:
    specs = {m.name: m for m in segcore.list_methods()}
    seeds = seeds_of(cur)
    # Without seeds, the methods that need them come last (so "Select all" takes the
    # ones that can run) and say so in their name.
    waiting = [] if seeds else [n for n, m in specs.items() if m.seeds == "required"]
    names = [n for n in specs if n not in waiting] + waiting
    chosen = persistent(st.multiselect, "Methods to compare (2 to 6)", key="compare.methods",
                        default=[n for n in DEFAULT_METHODS if n in names],
                        valid=lambda v: isinstance(v, list) and all(n in names for n in v),
                        options=names, max_selections=6,
                        format_func=lambda n: specs[n].label + (" (needs seeds)" if n in waiting
                                                                else ""))
    seeded = [specs[n].label for n in chosen if specs[n].takes_seeds]
    if seeds and seeded:
        st.caption(f"{', '.join(seeded)} use{'s' if len(seeded) == 1 else ''} your "
                   f"{len(seeds)} seeds from the Segment page.")
    elif waiting:
        st.caption(f"{', '.join(specs[n].label for n in waiting)} need seeds: place them on "
                   "the Segment page and they can run here too.")
    if len(chosen) < 2:
        st.info("Choose at least two methods to compare.")
        return

    settings = st.columns(min(len(chosen), 3))
    params = {}
    for i, name in enumerate(chosen):
        with settings[i % len(settings)]:
            with st.expander(f"{specs[name].label}: settings"):
                params[name], missing = widgets.method_settings(specs[name], cur, scope="compare")
                if missing:
                    params[name] = None
                    st.caption("Missing: " + "; ".join(missing))

    truth = cache.truth_at(cur, cur.preview.shape[:2])
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
                seg, error = cache.run_method(cur, name, params[name], seeds=use)
            cells.append((spec, seg, error, note))
            if seg is None:
                continue
            remember_result(cur, f"Compare page: {spec.label}", seg, full=False)
            row = {"method": spec.label, "regions": seg.n_regions, "run time (s)": seg.elapsed_s}
            row.update({{"iou": "IoU", "dice": "Dice"}.get(k, k): v
                        for k, v in scored(seg, truth).items()})
            rows.append(row)

    best = max((r for r in rows if "IoU" in r), key=lambda r: r["IoU"], default=None)
    for row in rows:
        row["best"] = "★" if row is best else ""
    # One object, one colour in every tile: labels renumbered to match the truth's
    # classes, or without truth the first result's regions.
    first = next((c for c in cells if c[1] is not None), None)
    reference = truth if truth is not None or first is None else first[1].labels
    grid = st.columns(3)
    for i, (spec, seg, error, note) in enumerate(cells):
        with grid[i % 3]:
            mark = " ★ best IoU" if best is not None and best["method"] == spec.label else ""
            st.markdown(f"**{spec.label}**{mark}")
            if seg is None:
                st.image(cache.display_picture(cur, side=480), width="stretch")
                (st.info if "needs seeds" in error else st.error)(f"Could not run: {error}.")
                continue
            shown = metrics.match_labels(seg.labels, reference)
            st.image(cache.overlay_picture(cur, shown, side=480, alpha=0.55,
                                           show_boundaries=seg.n_regions > 12),
                     width="stretch")
            st.caption(f"{seg.n_regions} regions · {seg.elapsed_s:.2f} s{note}")
    if first is not None:
        st.caption("Colours: " + ("each region takes the colour of the ground-truth class it is "
                                  "matched to" if truth is not None else
                                  f"each region takes the colour of the {first[0].label} region "
                                  "it overlaps most (one to one)") + "; unmatched regions get "
                   "other colours.")

    if rows:
        st.subheader("Side by side")
        fmt = {col: st.column_config.NumberColumn(format="%.3f")
               for col in ("run time (s)", "IoU", "Dice", "accuracy")}
        st.dataframe(rows, hide_index=True, width="stretch", column_config=fmt)
        if best is not None:
            st.success(f"Best on this image: **{best['method']}**, IoU {best['IoU']:.3f}.")
        if truth is not None:
            st.caption("IoU and Dice are means over the ground-truth classes, after each label "
                       "was matched to the class it overlaps most (Hungarian matching), so "
                       "clustering methods whose label numbers mean nothing are scored fairly.")
        else:
            st.caption("No ground truth for this image, so no scores: pick a generated sample or "
                       "add a mask on the Image page.")

    st.divider()
    try_all_thresholds(cur, truth)


def try_all_thresholds(cur: CurrentImage, truth) -> None:
    st.subheader("Try all thresholds")
    st.caption("Every global threshold algorithm on the same image: each looks at the histogram "
               "differently. Bright pixels (above the threshold) are white.")
    if not st.toggle("Show every global threshold", key="compare.all_thresholds"):
        return
    algorithms = segcore.get_method("threshold").param("algorithm").group("global")
    cols = st.columns(4)
    table = []
    for i, algorithm in enumerate(algorithms):
        seg, error = cache.run_method(cur, "threshold", {"algorithm": algorithm})
        with cols[i % 4]:
            st.markdown(f"**{algorithm}**")
            if seg is None:
                st.warning(error)
                continue
            top = max(int(seg.labels.max()) - 1, 1)
            picture = ((seg.labels - 1) / top).astype("float32")
            # A gray frame keeps white areas from melting into the page.
            framed = np.pad(picture, 2, constant_values=0.6)
            st.image(viz.display_rgb(framed, side=400), width="stretch")
            values = ", ".join(f"{t:.3f}" for t in seg.extras["thresholds"])
            row = {"algorithm": algorithm, "threshold": values, **scored(seg, truth)}
            st.caption(f"threshold {values}" + (f" · IoU {row['iou']:.3f}" if "iou" in row
                                                 else ""))
            table.append(row)
    best = max((r for r in table if "iou" in r), key=lambda r: r["iou"], default=None)
    if best:
        st.success(f"Best on this image: **{best['algorithm']}** (IoU {best['iou']:.3f}).")


compare(cur)
