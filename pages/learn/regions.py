"""Lesson: region growing and the random walker. A region grows from a seed ring by
ring within a tolerance; random walkers' probabilities, and how beta makes them
respect edges."""

import numpy as np
import streamlit as st

import segcore
from segcore import metrics, viz
from segcore.color import to_gray
from segcore.learn import regions as rg
from seglab import lesson
from seglab.seeds import pixel_picker
from seglab.state import persistent

GROWING = segcore.get_method("region_growing")
WALKER = segcore.get_method("random_walker")
SEED_COLOUR, ACROSS_COLOUR, INSIDE_COLOUR, PIXEL_COLOUR = (
    (1.0, 0.1, 0.1), (0.84, 0.37, 0.0), (0.34, 0.71, 0.91), (1.0, 1.0, 1.0))


def num(x: float) -> str:
    """A number for LaTeX: three decimals (one from 100 on), or a power of ten when
    it is tiny."""
    if abs(x) >= 100:
        return f"{x:.1f}"
    if x == 0 or abs(x) >= 0.001:
        return f"{x:.3f}"
    mantissa, exponent = f"{x:.1e}".split("e")
    return rf"{mantissa}\times10^{{{int(exponent)}}}"


def swatch(rgb, text: str) -> str:
    return f"<span style='color:{viz.hex_colour(rgb)};font-size:1.2em'>&#9632;</span> {text}"


@st.cache_data(max_entries=16, show_spinner=False)
def starting_seeds(key: str, _gray, _truth):
    return rg.object_seed(_gray, _truth), rg.walker_seeds(_gray, _truth, count=3)


@st.cache_data(max_entries=32, show_spinner=False)
def growth(key: str, seed: tuple, tolerance: float, connectivity: int, _gray):
    return rg.grow(_gray, seed, tolerance=tolerance, connectivity=connectivity)


@st.cache_data(max_entries=32, show_spinner=False)
def join(key: str, seed: tuple, connectivity: int, _gray):
    return rg.join_tolerance(_gray, seed, connectivity=connectivity)


@st.cache_data(max_entries=32, show_spinner=False)
def walk(key: str, seeds: tuple, beta: float, _gray):
    return rg.walker_probabilities(_gray, list(seeds), beta=beta)


st.title("Region growing and random walks")
st.markdown(
    "Both methods start from **seeds**: pixels someone clicked on, saying *this is part of "
    "what I want*. They differ in how they spread from there.")
st.markdown(
    "**Region growing** adds to the seed every neighbouring pixel whose gray value is within a "
    "**tolerance** of the seed's, then the neighbours of those, and so on until no neighbour "
    "passes. **The random walker** lets a walker wander from every pixel and gives the pixel "
    "the label of the seed it most likely reaches first; edges in the image slow it down.")
img = lesson.lesson_image("regions", photo="coins", generated="blobs", max_pixels=20_000)
gray = to_gray(img.image)
h, w = gray.shape
if min(h, w) < 8 or gray.min() == gray.max():
    st.warning("This image is too small or flat (one gray value) for the lesson: there is "
               "nothing to grow or walk across. Choose another image above.")
    lesson.stop()
seed0, walker_seeds0 = starting_seeds(img.key, gray, img.truth)

# --------------------------------------------------------------------------- 1
st.header("1. How far can a region grow?", divider="gray")
conn0 = GROWING.param("connectivity").default
join0 = join(img.key, seed0, conn0, gray)
leak0, leak_pixel0 = rg.leak_point(join0)
predict_col, picture_col = st.columns([3, 2], gap="large")
with picture_col:
    start = rg.marked(viz.to_rgb(img.image), [seed0], SEED_COLOUR, arm=4)
    st.image(viz.display_rgb(start, side=480), width="stretch",
             caption=f"The seed: the red cross at row {seed0[0]}, column {seed0[1]}, "
                     f"gray value {gray[seed0]:.3f}")
with predict_col:
    revealed = lesson.predict_number(
        "regions.leak", "Picture the tolerance rising from 0: the region around the red "
        "cross takes in more and more pixels. **At what tolerance will it first reach the edge "
        "of the picture?**", low=0.0, high=1.0, answer=leak0, tolerance=0.05, step=0.01,
        context=img.key, label="Your guess (tolerance, in gray value)",
        explain=f"The region first reaches the edge at tolerance **{leak0:.3f}**: every way "
                f"from the seed to the edge crosses a pixel at least {leak0:.3f} away from the "
                f"seed's gray value ({gray[seed0]:.3f}), and one way crosses none farther.")
if not revealed:
    st.caption("Commit to a guess and press Reveal to go on.")
    lesson.stop()
st.markdown(
    "The map gives every pixel the **smallest tolerance at which it joins**: the largest "
    "difference from the seed's gray value on its easiest way from the seed. The region for "
    "a tolerance $t$ is every pixel whose value is at most $t$: one map holds the regions of "
    "all tolerances. Hover over it to read a pixel's value.")
st.plotly_chart(rg.join_figure(join0, seed=seed0, leak=leak_pixel0), key="regions.join")

# --------------------------------------------------------------------------- 2
st.header("2. Growing, ring by ring", divider="gray")
st.markdown(
    "Region growing works **breadth-first**. Step 1 tests the seed's neighbours; step 2 tests "
    "the new pixels' neighbours; and so on. Each step adds one ring, the **frontier**, and "
    "stops when a step adds nothing. Move the seed and the tolerance, then step through.")
p_tol, p_conn = GROWING.param("tolerance"), GROWING.param("connectivity")
cols = st.columns(4)
row_key, col_key = f"regions.row.{img.key}", f"regions.col.{img.key}"
row = persistent(cols[0].slider, "Seed: row (from the top)", key=row_key,
                 default=seed0[0], min_value=0, max_value=h - 1, valid=lambda v: 0 <= v < h)
col = persistent(cols[1].slider, "Seed: column (from the left)", key=col_key,
                 default=seed0[1], min_value=0, max_value=w - 1, valid=lambda v: 0 <= v < w)
tolerance = persistent(cols[2].slider, p_tol.label, key="regions.tolerance", default=p_tol.default,
                       min_value=p_tol.low, max_value=p_tol.high, step=0.01,
                       valid=lambda v: p_tol.low <= v <= p_tol.high, help=p_tol.help)
connectivity = persistent(cols[3].radio, p_conn.label, key="regions.connectivity",
                          default=p_conn.default, options=list(p_conn.choices), horizontal=True,
                          valid=lambda v: v in p_conn.choices, help=p_conn.help)
seed = (row, col)
grown = growth(img.key, seed, tolerance, connectivity, gray)
join_map = join(img.key, seed, connectivity, gray)
leak, _ = rg.leak_point(join_map)
truth_region = rg.true_region(img.truth, seed) if img.truth is not None else None
curve = rg.tolerance_curve(join_map, truth_region=truth_region)
step = st.slider("Step (one breadth-first ring each)", 0, grown.steps, value=grown.steps,
                 key=f"regions.step.{img.key}.{row}.{col}.{tolerance:g}.{connectivity}",
                 help="Step 0 is the seed alone; the last step is where the growth stops.")

passed, refused = grown.closest_calls(step)
s_value = grown.seed_value
if passed is not None:
    st.latex(rf"|I(p) - I(s)| = |{passed.value:.3f} - {s_value:.3f}| = {passed.difference:.3f}"
             rf" \le {tolerance:.2f}\quad\text{{so }}p = ({passed.row}, {passed.col})"
             rf"\text{{ joins at step {step}}}")
if refused is not None:
    st.latex(rf"|I(q) - I(s)| = |{refused.value:.3f} - {s_value:.3f}| = "
             rf"{refused.difference:.3f} > {tolerance:.2f}\quad\text{{so }}q = "
             rf"({refused.row}, {refused.col})\text{{ is refused at step {step}}}")
region = grown.region(step)
st.latex(rf"\bar I_R = \frac{{1}}{{|R|}}\sum_{{p \in R}} I(p) = "
         rf"\frac{{{float(gray[region].sum()):.1f}}}{{{int(region.sum())}}} = "
         rf"{grown.mean(step):.3f}\qquad I(s) = {s_value:.3f}")
st.caption("$s$ is the seed. $p$ is the pixel of this step's ring farthest from the seed's "
           "gray value, $q$ the refused pixel nearest to it (when this step refused any); "
           "$\\bar I_R$ is the mean of the region so far.")
picture_col, curve_col = st.columns([1, 1], gap="large")
with picture_col:
    picture = rg.growth_picture(img.image, grown, step)
    marks = [(c.row, c.col) for c in (passed, refused) if c is not None and c.step > 0]
    shown = rg.marked(picture, marks, PIXEL_COLOUR, arm=2)
    if persistent(st.toggle, "Place the seed by clicking", key="regions.click", default=False,
                  help="Click on the picture to move the seed there (the sliders follow)."):
        pixel_picker(shown, key=f"regions.pick.{img.key}", hover="click: the seed here",
                           on_pick=lambda r, c: (st.session_state.update(
                               {row_key: r, col_key: c})))
        st.caption(f"Step {step} of {grown.steps}: {grown.size(step)} pixels. Click to "
                   "move the seed.")
    else:
        st.image(viz.display_rgb(shown, side=560), width="stretch",
                 caption=f"Step {step} of {grown.steps}: {grown.size(step)} pixels")
    st.markdown(" &nbsp; ".join([
        swatch((0.0, 0.30, 0.60), "older rings"), swatch((0.55, 0.85, 1.0), "newer rings"),
        swatch(rg.FRONTIER_COLOUR, "frontier (this step's ring)"),
        swatch(rg.REFUSED_COLOUR, "refused"),
        "white: the seed, and hollow crosses round p and q"]), unsafe_allow_html=True)
with curve_col:
    st.plotly_chart(rg.tolerance_figure(curve, marks={"your tolerance": tolerance,
                                                      "reaches the edge": leak}),
                    key="regions.curve")
    if truth_region is None:
        st.caption("The region's size at every tolerance, for this seed. No ground truth: the "
                   "IoU curve needs one (choose the generated image, or add a mask on the "
                   "Image page).")
    else:
        st.caption("The region's size at every tolerance, for this seed, and its IoU with the "
                   "true region under the seed.")

final = grown.size()
if step < grown.steps and grown.frontier(step).any():
    text = (f"Step {step} added {int(grown.frontier(step).sum())} pixels (yellow); the region "
            f"holds {grown.size(step)}. Every test compares with the seed's gray value "
            f"({s_value:.3f}), not with the region's mean (now {grown.mean(step):.3f}), so the "
            "rule does not drift as the region grows.")
elif tolerance < leak:
    text = (f"The growth stopped after step {grown.steps - 1} with {final} pixels: every "
            f"neighbour left differs from the seed by more than {tolerance:.2f}. From this "
            f"seed the region would reach the edge of the picture from tolerance {leak:.3f} on.")
else:
    text = (f"At tolerance {tolerance:.2f} the region has leaked: it reaches the edge of the "
            f"picture and covers {100 * final / gray.size:.0f}% of it (it first does at "
            f"{leak:.3f}). One bridge of similar pixels is enough.")
if truth_region is not None:
    i = int(np.argmax(curve["iou"]))
    now = metrics.binary_scores(grown.region(), truth_region)["iou"]
    text += (f" Against the truth: IoU {now:.2f} here; the best tolerance for this seed is "
             f"{curve['tolerances'][i]:.3f} (IoU {curve['iou'][i]:.2f}).")
lesson.notice(text)

# --------------------------------------------------------------------------- 3
st.header("3. The random walker", divider="gray")
st.markdown(
    "Now give seeds **labels**, at least two. Release a walker at a pixel: at every step it "
    "moves to one of its four neighbours at random, with odds in proportion to the **edge "
    "weight** between the two pixels. The pixel's probability for a label is the chance that "
    "its walker reaches a seed of that label before any other; the pixel takes the most "
    "likely label.")
st.markdown(
    "Similar gray values give a weight near 1; a jump in gray value gives a weight near 0, "
    "and the larger **β**, the smaller. scikit-image divides β by ten times the image's "
    "standard deviation $\\sigma$, so one β suits images of any contrast:")
sigma = float(np.asarray(gray, np.float64).std())
st.latex(rf"w_{{ij}} = \exp\left(-\frac{{\beta}}{{10\,\sigma}}\,(g_i - g_j)^2\right),"
         rf"\qquad \sigma = {sigma:.3f}")
q_seeds = tuple(walker_seeds0[:2])
low = walk(img.key, q_seeds, rg.LOW_BETA, gray)
high = walk(img.key, q_seeds, rg.HIGH_BETA, gray)
pixel = rg.question_pixel(low, high)
low_label, high_label = int(low[pixel].argmax()) + 1, int(high[pixel].argmax()) + 1
palette = viz.label_palette(3)
predict_col, picture_col = st.columns([3, 2], gap="large")
with picture_col:
    shown = rg.walker_picture(img.image, low.argmax(-1) + 1, q_seeds,
                              crosses={PIXEL_COLOUR: [pixel]})
    st.image(viz.display_rgb(shown, side=480), width="stretch",
             caption=f"The labels at β = {rg.LOW_BETA:g}, and the pixel at the white cross "
                     f"(row {pixel[0]}, column {pixel[1]})")
    st.markdown(" &nbsp; ".join(swatch(palette[k], f"label {k}") for k in (1, 2)),
                unsafe_allow_html=True)
with predict_col:
    options = ["label 1", "label 2"]
    revealed = lesson.predict_choice(
        "regions.walker", f"At β = {rg.LOW_BETA:g} the walkers barely notice edges: the pixel at "
        f"the white cross gets label {low_label} (probability {low[pixel].max():.2f}). **At "
        f"β = {rg.HIGH_BETA:g}, which label will it get?**", options, f"label {high_label}",
        context=img.key,
        explain=f"At β = {rg.HIGH_BETA:g} it gets label {high_label}, with probability "
                f"{high[pixel].max():.2f}. "
                + ("Edges now stop the walkers: from this pixel they reach the seed on its own "
                   "side of the edge first, not the nearest one." if high_label != low_label else
                   "Here the edges and the distances agree."))
if not revealed:
    st.caption("Commit to an answer and press Reveal to go on.")
    lesson.stop()

st.markdown("Now move β and the seeds, and watch the probabilities follow.")
p_beta = WALKER.param("beta")
betas = p_beta.grid(17)
cols = st.columns([2, 1])
beta = persistent(cols[0].select_slider, p_beta.label, key="regions.beta", default=p_beta.default,
                  options=betas, valid=lambda v: v in betas, help=p_beta.help)
count = persistent(cols[1].radio, "Seeds", key="regions.count", default=2, options=[2, 3],
                   horizontal=True, format_func=lambda n: f"{n} labels",
                   valid=lambda v: v in (2, 3), help="A third seed, in another object.")
seeds = []
with st.expander("Move the seeds", expanded=False):
    seed_cols = st.columns(count)
    for k in range(count):
        r0, c0, _ = walker_seeds0[k]
        with seed_cols[k]:
            st.markdown(swatch(palette[k + 1], f"seed {k + 1}"), unsafe_allow_html=True)
            r = persistent(st.slider, f"Seed {k + 1}: row",
                           key=f"regions.walker.{k + 1}.row.{img.key}", default=r0, min_value=0,
                           max_value=h - 1, valid=lambda v: 0 <= v < h)
            c = persistent(st.slider, f"Seed {k + 1}: column",
                           key=f"regions.walker.{k + 1}.col.{img.key}", default=c0, min_value=0,
                           max_value=w - 1, valid=lambda v: 0 <= v < w)
            seeds.append((r, c, k + 1))
seeds = tuple(seeds)
try:
    probabilities = walk(img.key, seeds, beta, gray)
except ValueError as err:
    st.warning(f"The walkers cannot start: {err}.")
    lesson.stop()
labels = probabilities.argmax(-1).astype(np.int32) + 1
region1 = rg.seed_object(gray, seeds[0][:2], img.truth)
pairs = rg.edge_pairs(gray, seeds[0][:2], seeds[1][:2], region=region1)
across = rg.edge_weight(gray, *pairs["across"], beta=beta)
inside = rg.edge_weight(gray, *pairs["inside"], beta=beta)
look = rg.question_pixel(walk(img.key, seeds, rg.LOW_BETA, gray), probabilities)
if any(look == (r, c) for r, c, _ in seeds):
    look = pixel

picture_col, maps_col = st.columns([1, 1], gap="large")
with picture_col:
    shown = rg.walker_picture(
        img.image, labels, seeds, path=rg.walker_path(seeds[0][:2], seeds[1][:2]),
        pairs={ACROSS_COLOUR: pairs["across"], INSIDE_COLOUR: pairs["inside"]},
        crosses={PIXEL_COLOUR: [look]})
    st.image(viz.display_rgb(shown, side=720), width="stretch",
             caption=f"The labels at β = {beta:g}, each pixel taking its most likely label")
    st.markdown(" &nbsp; ".join([swatch(palette[k], f"label {k}") for k in range(1, count + 1)]
                                + [swatch(ACROSS_COLOUR, "pair across the edge"),
                                   swatch(INSIDE_COLOUR, "pair inside"),
                                   "light line: the straight way from seed 1 to seed 2"]),
                unsafe_allow_html=True)
with maps_col:
    st.plotly_chart(viz.probability_figure(probabilities,
                                           names=[f"label {k}" for k in range(1, count + 1)]),
                    key="regions.maps")
    st.caption("Each map is one label's probability: bright where walkers from that pixel "
               "most likely reach that label's seed first.")

for name, e in (("across an edge", across), ("inside a region", inside)):
    floor = "+10^{-10}" if e.exponent < -20 else ""
    st.latex(rf"w_{{\text{{{name}}}}} = \exp\left(-\frac{{{beta:g}}}{{10\cdot{sigma:.3f}}}"
             rf"({e.value_a:.3f} - {e.value_b:.3f})^2\right) = e^{{{num(e.exponent)}}}{floor}"
             rf" = {num(e.weight)}")
avg = rg.walker_average(gray, probabilities, look, beta=beta, label=1)
terms = " + ".join(rf"{num(wj)}\cdot{xj:.3f}" for wj, xj in zip(avg["weights"], avg["values"]))
st.latex(rf"x_i = \frac{{\sum_j w_{{ij}}\,x_j}}{{\sum_j w_{{ij}}}} = "
         rf"\frac{{{terms}}}{{{num(float(avg['weights'].sum()))}}} = {avg['average']:.3f}")
st.caption(f"The first two lines are the weights of the orange pair (where the straight way "
           f"from seed 1 to seed 2 leaves seed 1's object) and the blue pair (inside it). "
           f"The last line: from pixel $i$ (the white cross, row {look[0]}, column {look[1]}) "
           f"a walker's first step goes to neighbour $j$ with odds $w_{{ij}}$, so $i$'s "
           f"probability of label 1, $x_i$, is the weighted average of its neighbours' (the "
           f"solver gives {avg['value']:.3f}). Scikit-image adds $10^{{-10}}$ to every weight, "
           "so that no pixel is cut off.")

ratio = inside.weight / across.weight
found1 = labels == 1
fit = metrics.binary_scores(found1, region1)["iou"]
outline = "true" if img.truth is not None else "Otsu"
if fit >= 0.8:
    text = (f"At β = {beta:g} the walkers respect the edges: label 1 fills seed 1's object "
            f"(IoU {fit:.2f} with its {outline} outline). Stepping across the orange pair has "
            f"weight {across.weight:.2g}, {ratio:.3g} times less than inside. Lower β and "
            "watch label 1 spill out.")
else:
    text = (f"At β = {beta:g} the edges barely hold the walkers back: stepping across the "
            f"orange pair has weight {across.weight:.2g}, "
            + (f"only {ratio:.3g} times less than inside" if ratio >= 1.5 else
               "about as likely as inside")
            + f", and label 1 spreads over {100 * float(found1.mean()):.0f}% of the picture "
              f"(IoU {fit:.2f} with seed 1's {outline} outline). A walker from far away wanders "
              "long enough to cross the edge somewhere. Raise β.")
lesson.notice(text)
