"""The Try all page: one method over a grid of one or two of its settings, as a
montage with each tile's score and time, the best marked, and a curve of the scores."""

import streamlit as st

from segcore import sweep, viz
from seglab import cache, tryall, widgets
from seglab.seeds import seeds_of
from seglab.state import current, persistent

if st.session_state.pop("tryall.go", False):  # a tile's "Use these settings"
    st.switch_page("pages/lab/segment.py")

cur = current()
st.title("Try all")
st.caption(f"Working on **{cur.label}** (preview size). Instead of moving a slider one step "
           "at a time, see every value at once" + (", each scored against the ground truth."
                                                  if cur.truth is not None else
                                                  ". Add a ground truth on the Image page to "
                                                  "score them."))

left, right = st.columns([1, 2], gap="large")
with left:
    spec = widgets.method_picker(key="tryall.method")
    sweepable = [p.name for p in spec.params if p.name not in sweep.FIXED and p.file is None]
    default = list(sweep.default_grid(spec.name).axes)
    axes = persistent(st.multiselect, "Settings to sweep (one or two)", key=f"tryall.{spec.name}.axes",
                      default=default, options=sweepable, max_selections=2,
                      valid=lambda v: isinstance(v, list) and all(n in sweepable for n in v),
                      format_func=lambda n: spec.param(n).label)
    points = st.slider("Values per setting", 3, 12, 9 if len(axes) < 2 else 5,
                       key=f"tryall.{spec.name}.points",
                       help="Across each setting's range (geometric where the range spans "
                            "orders of magnitude), always with its default.")
    st.caption("The other settings are as on the Segment page.")
seeds = seeds_of(cur) if spec.takes_seeds else []
if not axes:
    right.info("Choose a setting to sweep.")
    st.stop()
if spec.seeds == "required" and not seeds:
    right.info(f"{spec.label} needs seeds: place them on the Segment page first.")
    st.stop()
grid = sweep.default_grid(spec.name, axes, points=points)
params = tryall.segment_settings(spec)
with right:
    st.markdown(f"**{len(grid.settings())} settings** of {spec.label}: "
                + "; ".join(f"{spec.param(n).label}, {len(v)} values" for n, v in grid.axes.items())
                + "".join(f"; {n} = {v}" for n, v in grid.fixed.items()) + ".")
    found, marks = tryall.run(cur, spec, grid, params, seeds)
    if found.metric is not None:
        st.plotly_chart(viz.sweep_figure(found, marks, log=spec.param(axes[0]).log),
                        key="tryall.curve")
        landed = [m for m in marks if m.value is not None and m.scores]
        if landed:
            st.caption("Automatic choices (diamonds): " + "; ".join(
                f"{m.name} at {m.value:.3g}, IoU {m.scores['iou']:.3f}" for m in landed) + ".")
        best = found.best
        if best is not None:
            chosen = ", ".join(f"{n} {best.params[n]}" for n in found.axes)
            st.success(f"Best: **{chosen}**, IoU {best.scores['iou']:.3f}, "
                       f"Dice {best.scores['dice']:.3f}.")
    if not found.complete:
        st.warning(f"Stopped after {len(found.outcomes)} settings (two minutes): fewer values "
                   "per setting would finish.")

columns = st.columns(4)
best = found.best
for i, outcome in enumerate(found.outcomes):
    with columns[i % 4].container(border=True):
        setting = ", ".join(f"{n} {outcome.params[n]}" for n in found.axes)
        star = " ★ best" if best is not None and outcome is best else ""
        st.markdown(f"**{setting}**{star}")
        if not outcome.ok:
            st.caption(f"Could not run: {outcome.error}")
            continue
        st.image(cache.overlay_picture(cur, outcome.labels, side=280, alpha=0.55,
                                       show_boundaries=outcome.n_regions > 12),
                 width="stretch")
        score = f" · IoU {outcome.score:.3f}" if outcome.score is not None else ""
        regions = f"{outcome.n_regions} region{'s' if outcome.n_regions != 1 else ''}"
        st.caption(f"{regions} · {outcome.seconds:.2f} s{score}")
        st.button("Use these settings", key=f"tryall.use.{i}", on_click=tryall.adopt,
                  args=(spec.name, outcome.params))
