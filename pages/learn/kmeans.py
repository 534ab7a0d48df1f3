"""Lesson: k-means step by step (assign and move as two half-steps, the centres
moving through colour space, inertia, bad starts, and what k, the colour space and
position change)."""

import streamlit as st

import segcore
from segcore import metrics, viz
from segcore.learn import kmeans as km
from seglab import lesson, widgets
from seglab.state import persistent

STEP = "kmeans.step"
ROW, COL = "kmeans.row", "kmeans.col"


@st.cache_data(max_entries=24, show_spinner="Running k-means…")
def lesson_run(key: str, k: int, space: str, xy_weight: float, start: str, rng: int,
               _image) -> km.Run:
    return km.run(_image, k=k, space=space, xy_weight=xy_weight, start=start, rng=rng)


def go(step: int) -> None:
    st.session_state[STEP] = step


def pick(pixel) -> None:
    st.session_state[ROW], st.session_state[COL] = pixel


def went(before: float, after: float) -> str:
    """How the inertia changed, in words that show even a tiny change."""
    if after == before:
        return f"stayed at {after:.2f}"
    return f"went from {before:.2f} to {after:.2f} ({after - before:+.3g})"


def within(key: str, high: int, default: int) -> None:
    """Keep a pixel slider's value inside a (new) image before it is drawn."""
    value = st.session_state.get(key, default)
    st.session_state[key] = min(max(int(value), 0), high)


st.title("K-means step by step")
st.markdown(
    "Every pixel is a point in **colour space**: three numbers, such as red, green and blue. "
    "K-means puts **k centres** in that space and gives each pixel the cluster of its nearest "
    "centre.\n\n"
    "Lloyd's algorithm finds the centres by repeating two steps: **assign** every pixel to its "
    "nearest centre, then **move** every centre to the mean of its pixels. Neither step can "
    "raise the **inertia**, the sum of the squared distances from each pixel to its centre, so "
    "the run goes downhill until nothing changes. Where it ends depends on where it starts.")
img = lesson.lesson_image("kmeans", photo="chelsea", generated="colour shapes",
                          max_pixels=km.LESSON_PIXELS)
h, w = img.image.shape[:2]
gray = img.image.shape[2] == 1

params = {p.name: p for p in segcore.get_method("kmeans").params}
with st.container(border=True):
    cols = st.columns(5)
    # At most 8 clusters: more colours than that no longer tell apart in the figures.
    k = persistent(cols[0].slider, params["k"].label, key="kmeans.k", default=4,
                   min_value=int(params["k"].low), max_value=8, help=params["k"].help)
    space = persistent(cols[1].selectbox, params["space"].label, key="kmeans.space",
                       default="lab", options=list(params["space"].choices), disabled=gray,
                       help=params["space"].help)
    xy_weight = persistent(cols[2].slider, params["xy_weight"].label, key="kmeans.xy_weight",
                           default=0.0, min_value=float(params["xy_weight"].low),
                           max_value=float(params["xy_weight"].high),
                           step=float(params["xy_weight"].step),
                           help=params["xy_weight"].help)
    start = persistent(cols[3].selectbox, "Start", key="kmeans.start", default="k-means++",
                       options=list(km.STARTS),
                       help="Where the centres are before the first step. k-means++ spreads "
                            "them over the pixels; random pixels takes k pixels at random; "
                            "evenly spaced puts them at equal steps from 0 to 1 in every "
                            "feature, wherever the pixels are.")
    rng = persistent(cols[4].number_input, params["rng"].label, key="kmeans.rng", default=0,
                     min_value=0, max_value=int(params["rng"].high), step=1,
                     disabled=start == "evenly spaced", help=params["rng"].help)
    if gray:
        st.caption("This image is gray: in every colour space its pixels have one number, "
                   "their gray value.")

settings = (img.key, k, space, xy_weight, start, rng)
chosen = lesson_run(*settings, img.image)
if st.session_state.get("kmeans.settings") != settings:  # new settings: back to the start
    st.session_state["kmeans.settings"] = settings
    st.session_state[STEP] = 0
last = len(chosen.steps) - 1
step = min(int(st.session_state.get(STEP, 0)), last)
st.session_state[STEP] = step

# --------------------------------------------------------------------------- 1
st.header("1. Assign, then move", divider="gray")
upcoming = chosen.steps[step + 1].kind if step < last else None
with st.container(horizontal=True):
    st.button("Assign pixels", key="kmeans.assign", on_click=go, args=(step + 1,),
              disabled=upcoming != "assign", icon=":material/scatter_plot:",
              type="primary" if upcoming == "assign" else "secondary",
              help="Give every pixel the cluster of its nearest centre.")
    st.button("Move centres", key="kmeans.move", on_click=go, args=(step + 1,),
              disabled=upcoming != "move", icon=":material/open_with:",
              type="primary" if upcoming == "move" else "secondary",
              help="Move every centre to the mean of its pixels.")
    st.button("Back one step", key="kmeans.back", on_click=go, args=(step - 1,),
              disabled=step == 0, icon=":material/undo:")
    st.button("Run to the end", key="kmeans.end", on_click=go, args=(last,),
              disabled=step == last, icon=":material/fast_forward:")
    st.button("Start again", key="kmeans.reset", on_click=go, args=(0,), disabled=step == 0,
              icon=":material/restart_alt:")
st.slider("Step through the recorded run (each round is an assign, then a move)",
          min_value=0, max_value=last, key=STEP)

here = chosen.steps[step]
s = km.summary(chosen, step)
labels = km.step_labels(chosen, step)
what = {"start": "the start: no pixel has a cluster yet",
        "assign": f"round {here.round}, assign: every pixel joins its nearest centre",
        "move": f"round {here.round}, move: every centre goes to the mean of its pixels"}
if step == last:
    what["assign"] = "the final assign: every pixel joins its nearest final centre"
st.caption(f"Step {step} of {last}: {what[here.kind]}.")

words = []
if s.kind == "start":
    words.append(f"The {k} centres (large diamonds) sit where the {start} start put them. "
                 "Press **Assign pixels**.")
elif s.kind == "assign" and s.round == 1:
    words.append(f"All {h * w:,} pixels joined their nearest centre; the inertia is "
                 f"{s.inertia:.2f}.")
elif s.kind == "assign" and s.changed == 0:
    words.append(f"Assigning again changed no pixel's cluster, so the inertia "
                 f"{went(s.previous, s.inertia)} and no centre can move any more.")
elif s.kind == "assign":
    words.append(f"Assigning again moved {s.changed:,} pixels to a nearer centre; the inertia "
                 f"{went(s.previous, s.inertia)}.")
else:
    words.append(f"Every centre moved to the mean of its pixels (the farthest by "
                 f"{s.moved:.3g}); no pixel changed cluster, and the inertia "
                 f"{went(s.previous, s.inertia)}.")
if s.empty:
    names = ", ".join(str(j) for j in s.empty)
    words.append(f"Cluster{'s' if len(s.empty) > 1 else ''} {names} "
                 f"{'have' if len(s.empty) > 1 else 'has'} no pixels: a centre with no pixels "
                 f"has no mean to move to, so it stays put and the run uses only "
                 f"{k - len(s.empty)} of its {k} clusters.")
if s.last:
    words.append("The run has stopped: its last move shifted the centres by less than the "
                 "tolerance." if chosen.settled else
                 f"The run stopped after {km.MAX_ITER} rounds, still moving a little.")
lesson.notice(" ".join(words))

default = (h // 2, w // 2)
within(ROW, h - 1, default[0])
within(COL, w - 1, default[1])
pixel = (int(st.session_state[ROW]), int(st.session_state[COL]))
figure_col, picture_col = st.columns([3, 2], gap="large")
with picture_col:
    st.image(viz.display_rgb(km.step_picture(chosen, step, img.image, pixel=pixel), side=560),
             caption="The image at the start" if step == 0 else
                     "Every pixel in its cluster's colour, at this step", width="stretch")
    st.slider("Picked pixel: row (from the top)", 0, h - 1, key=ROW)
    st.slider("Picked pixel: column (from the left)", 0, w - 1, key=COL)
    switch = km.nearest_pixel(km.switching(chosen, step), pixel) if step > 0 else None
    st.button("Pick a pixel that changes cluster next", key="kmeans.pick", on_click=pick,
              args=(switch,), disabled=switch is None, icon=":material/ads_click:",
              help="The nearest pixel to the picked one that the next assign step gives "
                   "another cluster.")
with figure_col:
    sample = km.sample_pixels(h * w)
    turnable = len(chosen.names) == 1 or persistent(
        st.toggle, "Turn the view with the mouse", key="learn.kmeans.turnable", default=False,
        help="A 3-D view you can drag to turn. It is redrawn at every step, which can take "
             "a second or two in a browser without graphics acceleration; the picture is quick.")
    if turnable:
        st.plotly_chart(km.feature_figure(chosen, step, img.image, sample=sample, pixel=pixel),
                        key="kmeans.features")
    else:
        st.image(km.feature_picture(chosen, step, img.image, sample=sample, pixel=pixel),
                 width="stretch")
    drawn = chosen.names[:3] if len(chosen.names) > 1 else chosen.names
    hidden = len(chosen.names) - len(drawn)
    st.caption(f"{len(sample):,} of the {h * w:,} pixels, drawn at their "
               f"{', '.join(drawn)}" + (f" (the {hidden} position features are not drawn)"
                                        if hidden else "")
               + ". The ✕ is the picked pixel; thin lines join it to the centres that "
                 "decided its cluster; black lines show the path each centre has taken. "
               + (("Drag to turn the view." if turnable else "The feature cube seen from "
                   "one side; switch on turning to look from any side.") if len(drawn) == 3 else
                  "The pixels are spread up and down only so that they do not hide each "
                  "other."))

target = km.next_assign(chosen, step)
answer = km.next_cluster(chosen, step, pixel)
now = int(labels[pixel])
after = km.distances(chosen, target if target is not None else last, pixel)
listed = ", ".join(f"{d:.4g} to c{j}" for j, d in enumerate(after, start=1))
if now == 0:
    change = ""
elif now == answer:
    change = f" It stays in cluster {now}."
else:
    change = f" It leaves cluster {now} for cluster {answer}."
lesson.predict_choice(
    "kmeans.pixel",
    ("Which cluster will the picked pixel (✕) be in after the next **Assign pixels** step?"
     if target is not None else
     "The run has stopped. If the pixels were assigned once more, which cluster would the "
     "picked pixel (✕) join?"),
    [f"cluster {j}" for j in range(1, k + 1)], f"cluster {answer}",
    context=f"{settings}|{step}|{pixel}",
    explain=f"Its squared distances to the centres then are {listed}: the nearest is "
            f"c{answer}.{change}")

# --------------------------------------------------------------------------- 2
st.header("2. The two steps in numbers", divider="gray")
left, right = st.columns(2, gap="large")
with left:
    st.markdown(f"**Assign.** The picked pixel (row {pixel[0]}, column {pixel[1]}) is the "
                "point $x$; it joins the centre $c_j$ at the smallest squared distance.")
    if step == 0:
        st.latex(r"a(x) = \arg\min_j \lVert x - c_j \rVert^2")
        st.caption("Its distances show from the first assign on: predict first.")
    else:
        st.latex(km.assign_latex(chosen, step, pixel))
        st.caption("The distances to the centres of the last assign, which gave the pixel "
                   "its cluster.")
with right:
    cluster = now if now else answer
    centre = f"centre $c_{{{cluster}}}$ (the picked pixel's cluster)"
    if here.kind == "start":
        lead = (f"After the first assign every centre moves to the mean of its pixels; "
                f"{centre} starts at")
    elif s.last:
        lead = f"The run has stopped: {centre} sits at the mean of its $n$ pixels"
    elif here.kind == "assign":
        lead = f"The next move puts {centre} at the mean of its $n$ pixels"
    else:
        lead = f"This move put {centre} at the mean of its $n$ pixels"
    st.markdown(f"**Move.** {lead}:")
    st.latex(km.move_latex(chosen, step, cluster))
    st.markdown("**Inertia**, what both steps lower: the squared distance of every pixel to "
                "its centre, summed.")
    st.latex(km.inertia_latex(chosen, step))

st.plotly_chart(km.inertia_figure(chosen, step), key="kmeans.inertia")

# --------------------------------------------------------------------------- 3
st.header("3. Does the start matter?", divider="gray")
st.markdown(
    "Each step only goes downhill from where the run is, so a run can settle in a valley "
    "that is not the deepest, or leave a centre with no pixels at all. **k-means++** picks "
    "each starting centre at random among the pixels, favouring those far from the centres "
    "already picked.")
if start == "k-means++":
    st.info("Choose the start **random pixels** or **evenly spaced** in the settings above to "
            "compare a worse start with k-means++.", icon=":material/tune:")
else:
    plusplus = lesson_run(img.key, k, space, xy_weight, "k-means++", rng, img.image)
    verdict = km.compare_inertia(chosen.final_inertia, plusplus.final_inertia)
    options = {"higher": "Higher: a worse fit", "about the same": "About the same (within 1%)",
               "lower": "Lower: a better fit"}
    revealed = lesson.predict_choice(
        "kmeans.start",
        f"Will the **{start}** start end with a higher inertia than a k-means++ start "
        "(same k, features and random start number)?",
        list(options.values()), options[verdict], context=str(settings),
        explain=f"The {start} start ends at {chosen.final_inertia:.2f} after {chosen.rounds} "
                f"rounds, k-means++ at {plusplus.final_inertia:.2f} after {plusplus.rounds}.")
    if revealed:
        empty = km.summary(chosen, last).empty
        items = [(f"{start}: final inertia", f"{chosen.final_inertia:.2f}",
                  f"after {chosen.rounds} rounds"),
                 ("k-means++: final inertia", f"{plusplus.final_inertia:.2f}",
                  f"after {plusplus.rounds} rounds"),
                 (f"{start}: empty clusters at the end", str(len(empty)), "")]
        widgets.metric_row(items)
        st.plotly_chart(km.inertia_figure(chosen, last, other=plusplus, log=True),
                        key="kmeans.compare")
        gap = chosen.final_inertia - plusplus.final_inertia
        if empty:
            lesson.notice(f"The {start} start left {len(empty)} of its {k} clusters empty: "
                          "those centres never won a pixel, so they never moved. Its final "
                          f"inertia is {gap:+.2f} against k-means++.")
        elif verdict == "higher":
            lesson.notice(f"The {start} start settled in a worse valley: {gap:+.2f} inertia "
                          "against k-means++, with every step still going downhill.")
        else:
            lesson.notice(f"Here the {start} start ends {verdict} ({gap:+.2f}) than "
                          "k-means++: on this image and seed both find a valley as deep. "
                          "Try another random start number, more clusters, or the other start.")

# --------------------------------------------------------------------------- 4
st.header("4. What k, the colour space and position change", divider="gray")
st.markdown(
    "More clusters always lower the final inertia, so inertia alone cannot choose k. The "
    "colour space changes what *near* means (Lab is closest to what the eye sees; hue in HSV "
    "wraps around, so red lies at both ends), and inertias in different spaces are not "
    "comparable. A **weight of position** adds each pixel's row and column to its colour: "
    "clusters then gather into fewer, more compact pieces.")
final = km.step_labels(chosen, last)
n_pieces = km.pieces(final)
items = [("Final inertia", f"{chosen.final_inertia:.2f}", "in the chosen features"),
         ("Rounds", str(chosen.rounds), "assign and move, until the centres settled"),
         ("Connected pieces", f"{n_pieces:,}",
          "pieces of the image (pixels touching by a side) that share a cluster")]
if img.truth is not None:
    ari = metrics.adjusted_rand_index(final, img.truth)
    items.append(("Agreement with the truth", f"{ari:.2f}",
                  "adjusted Rand index: 1 is the same grouping as the truth, 0 is chance"))
widgets.metric_row(items)
st.image(viz.display_rgb(viz.overlay(img.image, final, alpha=0.6, show_boundaries=False), side=560),
         caption=f"The result: {k} clusters over the image (the last step)", width=560)
if img.truth is None:
    tail = (" This image has no ground truth, so only inertia and the picture judge the "
            "clusters (add a mask on the Image page for a score).")
else:
    tail = (f" Against the exact truth the clusters score {ari:.2f}; a perfect grouping "
            "scores 1.")
if xy_weight:
    colour_only = lesson_run(img.key, k, space, 0.0, start, rng, img.image)
    alone = km.pieces(km.step_labels(colour_only, len(colour_only.steps) - 1))
    pieces = f"{n_pieces:,} connected pieces ({alone:,} by colour alone)"
else:
    pieces = f"{n_pieces:,} connected pieces"
lesson.notice(f"With k = {k} in {'gray' if gray else space}"
              + (f" and position weighted {xy_weight:g}" if xy_weight else "")
              + f", the result falls into {pieces}." + tail
              + (" Raise the weight of position and watch the pieces merge." if not xy_weight
                 else " Set the weight back to 0 to see colour alone."))
