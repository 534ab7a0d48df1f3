"""Lesson: the watershed. The image as a terrain, flooded level by level from markers;
over-segmentation without markers, and why to blur first."""

import streamlit as st

import segcore
from segcore import viz
from segcore.learn import watershed as lw
from segcore.registry import format_value
from seglab import lesson
from seglab.state import current, persistent

SPEC = segcore.get_method("watershed")
MARKER_NAMES = {
    "minima": "None: every local minimum is a spring",
    "distance": "Peaks of the distance to the background",
    "h-minima": "Deep minima of the terrain (h-minima)",
    "low-gradient": "Flat, low areas of the terrain",
}


def tex(n: int) -> str:
    """A count for LaTeX, with thousands separated."""
    return f"{n:,}".replace(",", "{,}")


st.title("Watershed")
st.markdown(
    "Read the image as a landscape. A pixel's **height** is how fast the brightness changes "
    "there: low inside even regions (valleys), high on edges (ridges).")
st.markdown(
    "Now let water rise from a few **markers**, one level at a time. Each lake keeps the label "
    "of the marker it rose from. Where two lakes would merge, a **dam** is built. When the water "
    "covers the highest ridge, the lakes are the regions and the dams are the watershed lines.")

img = lesson.lesson_image("watershed", photo="coins", generated="blobs")


@st.cache_data(max_entries=16, show_spinner=False)
def terrain(key: str, sigma: float, how: str, h: float, _image):
    elevation = lw.relief(_image, sigma=sigma)
    markers = lw.flood_markers(_image, how=how, sigma=sigma, h=h)
    return elevation, markers, lw.flood_levels(elevation)


@st.cache_data(max_entries=64, show_spinner=False)
def flooding(key: str, sigma: float, how: str, h: float, step: int, _image):
    elevation, markers, levels = terrain(key, sigma, how, h, _image)
    return lw.flood(elevation, markers, level=float(levels[step]))


@st.cache_data(max_entries=8, show_spinner=False)
def comparison(key: str, sigma: float, how: str, h: float, ignore, _image, _truth):
    return lw.compare_markers(_image, _truth, sigma=sigma, how=how, h=h, ignore=ignore)


with st.container(horizontal=True):
    p = SPEC.param("sigma")
    sigma = persistent(st.slider, p.label, key="learn.watershed.sigma", default=p.default,
                       min_value=p.low, max_value=p.high, step=p.step, help=p.help)
    how = persistent(st.selectbox, "Markers (where the water starts)",
                     key="learn.watershed.markers", default=SPEC.param("auto_markers").default,
                     options=list(lw.MARKER_CHOICES),
                     format_func=MARKER_NAMES.get, valid=lambda v: v in lw.MARKER_CHOICES,
                     help="The engine's automatic markers, or none at all. Here every choice "
                          "floods the same gradient terrain (the Segment page's watershed "
                          "floods a distance map when it uses distance markers).")
    p = SPEC.param("h")
    grid = p.grid()
    h = persistent(st.select_slider, p.label, key="learn.watershed.h", default=p.default,
                   options=grid, valid=lambda v: v in grid, format_func=format_value,
                   disabled=how == "minima", help=p.help)

try:
    elevation, markers, levels = terrain(img.key, sigma, how, h, img.image)
except ValueError as err:
    st.warning(f"The flooding cannot start: {err}. Try other markers or a lower marker "
               "prominence; a flat image has no terrain to flood.")
    lesson.stop()
n_markers = int(markers.max())
height, width = elevation.shape

st.header("1. The terrain, flooded level by level")
st.latex(rf"g(p) = \lVert \nabla (G_\sigma * I)(p) \rVert \qquad \sigma = {sigma:g},\quad "
         rf"g \in [{elevation.min():.3f},\ {elevation.max():.3f}]")
step = persistent(st.slider, "Water level (flooding step)", key="learn.watershed.step",
                  default=lw.FLOOD_STEPS // 10, min_value=0, max_value=lw.FLOOD_STEPS,
                  help=f"Step k raises the water to k/{lw.FLOOD_STEPS} of the way from the "
                       "lowest point of the terrain to its highest ridge.")
state = flooding(img.key, sigma, how, h, step, img.image)
# One row per image: a slider whose range changes would start again from 0.
row = persistent(st.slider, "Row for the profile (yellow line)",
                 key=f"learn.watershed.row.{img.key}", default=lw.profile_row(elevation),
                 min_value=0, max_value=height - 1, valid=lambda v: 0 <= v < height,
                 help="The row drawn below as a 1-D landscape.")

left, right = st.columns(2)
with left:
    heights, wet, factor = lw.pooled_terrain(elevation, state.flooded)
    # A 3-D plot is redrawn by the browser's graphics whenever its figure changes, which
    # takes seconds without graphics acceleration: a picture drawn here is the default.
    turnable = persistent(st.toggle, "Turn the view with the mouse",
                          key="learn.watershed.turnable", default=False,
                          help="A 3-D view you can drag to turn. It is redrawn at every "
                               "change, which can take a few seconds in a browser without "
                               "graphics acceleration; the picture is quick.")
    if turnable:
        st.plotly_chart(lw.terrain_figure(heights, wet, level=state.level, factor=factor),
                        key="learn.watershed.terrain")
    else:
        st.image(lw.terrain_picture(heights, wet, level=state.level), width="stretch")
    st.caption(f"The terrain in 3-D ({'drag to turn it' if turnable else 'seen from one side'}),"
               f" on a {heights.shape[1]} × {heights.shape[0]} copy: each block of {factor} × "
               f"{factor} pixels is as high as its highest pixel. Blue: the water at this level.")
with right:
    st.image(viz.display_rgb(lw.flood_picture(img.image, state, markers=markers, row=row),
                             side=640), width="stretch")
    st.caption(f"Basins coloured as they fill, dams in white, the {n_markers:,} markers in a dark "
               "shade of their basin's colour.")

share = state.n_flooded / elevation.size
st.latex(r"F_L = \{\, p : g(p) \le L \text{ and } p \text{ reaches a marker through pixels with } "
         r"g \le L \,\}")
st.latex(rf"L = {state.level:.4f}:\quad |F_L| = {tex(state.n_flooded)} \text{{ of }} "
         rf"{tex(elevation.size)} \text{{ pixels }} ({share * 100:.0f}\%),\quad "
         rf"{tex(state.n_basins)} \text{{ of }} {tex(n_markers)} \text{{ basins hold water}},"
         rf"\quad {tex(state.n_dams)} \text{{ dam pixels}}")

wet = f"{share:.0%} of the pixels are under water, in {state.n_basins:,} of {n_markers:,} basins"
if step == 0:
    text = (f"The water stands at the lowest point of the terrain: {state.n_basins:,} of the "
            f"{n_markers:,} basins hold water so far. Raise the level: new lakes appear as the "
            "water reaches their marker, then lakes meet.")
elif step == lw.FLOOD_STEPS:
    text = (f"The water covers the highest ridge: every pixel belongs to one of "
            f"{state.n_basins:,} basins or to a dam, and the {state.n_dams:,} dam pixels are the "
            "watershed lines: the segmentation.")
elif state.n_dams == 0:
    text = f"{wet}. No two lakes have met yet, so no dam is needed: the ridges flood last."
elif how == "minima":
    text = (f"{wet}. With every local minimum a spring, lakes meet everywhere, on ripples of "
            f"noise as much as on edges: {state.n_dams:,} dam pixels already.")
else:
    text = (f"{wet}. Where lakes met, {state.n_dams:,} dam pixels keep them apart: they stand on "
            "the ridges, the edges of the image.")
lesson.notice(text)

st.subheader("One row as a 1-D landscape")
profile = elevation[row]
profile_state = lw.flood(profile, lw.minima_markers(profile), level=state.level)
st.plotly_chart(lw.profile_figure(profile, profile_state), key="learn.watershed.profile")
st.caption(f"Row {row} of the terrain, flooded on its own at the same level: each of its "
           f"{int(lw.minima_markers(profile).max())} valleys is a spring. Lakes fill; where two "
           f"meet, a dam (white) is built. So far: {profile_state.n_basins} lakes, "
           f"{profile_state.n_dams} dams.")

st.header("2. Why markers, and why blur first")
st.markdown("With no markers, every local minimum of the terrain starts its own flood, however "
            "shallow. A blur removes the shallow ones; markers choose a few on purpose.")
cur = current()
ignore = cur.truth_ignore if img.kind == "yours" else None
# Without markers chosen above, the third watershed takes the engine's default markers.
compared = how if how != "minima" else SPEC.param("auto_markers").default
rows = comparison(img.key, sigma, compared, h, ignore, img.image, img.truth)
raw, blurred, marked = rows
most = (height * width // 2) // 100 * 100
revealed = lesson.predict_number(
    "learn.watershed.basins",
    "Without any blur and without markers, how many basins will the watershed make on this "
    f"{width} × {height} image?",
    low=0, high=most, step=max(1, most // 500), answer=raw["basins"],
    tolerance=max(2.0, 0.25 * raw["basins"]), context=img.key, label="Your guess (basins)",
    explain=f"Without blur this terrain has {raw['basins']:,} local minima, so the watershed makes "
            f"{raw['basins']:,} basins, about one for every {elevation.size / raw['basins']:.0f} "
            "pixels" + (": nearly all are ripples of noise or texture, not objects"
                        if raw["basins"] > 10 * marked["basins"] else "") +
            f". A blur of σ = {sigma:g} leaves {blurred['basins']:,}; the markers leave "
            f"{marked['basins']:,}.")
if not revealed:
    st.caption("Commit to a guess and reveal it: then the three watersheds appear side by side.")
else:
    st.caption(f"Markers in the third: {MARKER_NAMES[compared].lower()}. Each basin has its own "
               "colour.")
    titles = ["No blur, no markers", f"Blur σ = {sigma:g}, no markers",
              f"Blur σ = {sigma:g}, with markers"]
    for column, title, result in zip(st.columns(3), titles, rows):
        with column:
            st.markdown(f"**{title}**")
            st.image(viz.display_rgb(viz.overlay(img.image, result["labels"], alpha=0.55,
                                                 show_boundaries=False), side=480),
                     width="stretch")
            line = f"{result['basins']:,} basins"
            if "iou" in result:
                line += (f" · IoU {result['iou']:.3f} · boundary precision "
                         f"{result['boundary']['precision']:.2f}, recall "
                         f"{result['boundary']['recall']:.2f}")
            st.caption(line)
    if img.truth is None:
        st.caption("No ground truth for this image, so no scores: the counts alone tell the story "
                   "(add a mask on the Image page to score the basins).")
    else:
        raw_p, marked_p = raw["boundary"]["precision"], marked["boundary"]["precision"]
        text = ("Against the truth, each basin is named after the class it overlaps most (IoU), "
                "and its borders are checked against the true edges (boundary precision: the "
                "share of its borders within 2 pixels of a true edge). Without blur or markers, "
                f"{raw_p:.0%} of the borders lie on true edges; with markers, {marked_p:.0%}.")
        if abs(raw["iou"] - marked["iou"]) < 0.02 and marked_p > raw_p:
            text += (" The IoU hardly differs: tiny basins still follow the edges. It is the "
                     "extra borders that are wrong.")
        st.markdown(text)
