"""Lesson: edges (the Prewitt, Sobel and Scharr kernels, the sum at one pixel, Canny's
steps, and the regions edges enclose)."""

import numpy as np
import streamlit as st

from segcore import metrics, viz
from segcore.color import to_gray
from segcore.learn import edges
from segcore.methods.edges import edge_regions
from seglab import lesson
from seglab.state import persistent

NAMES = {"prewitt": "Prewitt", "sobel": "Sobel", "scharr": "Scharr"}
STEPS = {"smooth": "1 · Blur", "gradient": "2 · Gradient", "thin": "3 · Thin",
         "threshold": "4 · Two thresholds", "hysteresis": "5 · Hysteresis"}
SIZES = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000]


@st.cache_data(max_entries=8, show_spinner=False)
def gray_of(key: str, _image: np.ndarray) -> np.ndarray:
    return to_gray(_image).astype(np.float64)


@st.cache_data(max_entries=12, show_spinner=False)
def gradient_of(key: str, operator: str, _gray: np.ndarray) -> edges.Gradient:
    return edges.gradient(_gray, operator=operator)


@st.cache_data(max_entries=12, show_spinner=False)
def canny_of(key: str, sigma: float, low: float, high: float, _gray: np.ndarray):
    return edges.canny_steps(_gray, sigma=sigma, low_fraction=low, high_fraction=high)


@st.cache_data(max_entries=12, show_spinner=False)
def regions_of(key: str, sigma: float, low: float, high: float, close_gaps: int,
               min_size: int, _edges: np.ndarray) -> np.ndarray:
    return edge_regions(_edges, close_gaps=close_gaps, min_size=min_size)


def count(n: int) -> str:
    """A pixel count for LaTeX, with thousands separated (a bare comma gets a space)."""
    return f"{n:,}".replace(",", "{,}")


def show(picture: np.ndarray, caption: str, *, side: int = 600) -> None:
    st.image(viz.display_rgb(picture, side=side), caption=caption, width="stretch")


st.title("Edges")
st.markdown(
    "An **edge** is where the brightness changes quickly. To measure that change, lay a small "
    "table of weights, a **kernel**, on the image around a pixel, multiply every weight by the "
    "gray value under it and add the nine products up. Do it at every pixel and you get a new "
    "image that is bright wherever the old one changes.\n\n"
    "Edges are lines, not regions. At the end of the lesson we turn them into regions.")
img = lesson.lesson_image("edges", photo="camera", generated="shapes")
gray = gray_of(img.key, img.image)
h, w = gray.shape  # at least lesson.MIN_SIDE each: room for a 3 x 3 kernel
if img.image.shape[2] == 3:
    st.caption("Edges are found on the gray values: the colour image is reduced to its "
               "brightness first.")

# --------------------------------------------------------------------------- 1
st.header("1. Three kernels", divider="gray")
st.markdown(
    "Each kernel subtracts the column on the left from the column on the right, so $G_x$ says "
    "how much brighter the image gets **to the right**. The three kernels differ only in how "
    "they weight the rows while they do it. The weights on each side add up to 1, so a step "
    "of height 0.5 gives $G_x = 0.5$ with any of them. $G_y$ uses the same table turned on "
    "its side: how much brighter the image gets **downward**.")
columns = st.columns(3)
for column, name in zip(columns, edges.OPERATORS):
    with column:
        st.markdown(f"**{NAMES[name]}**")
        st.latex(r"k_x = " + edges.kernel_latex(name, axis="x"))
operator = persistent(st.segmented_control, "Kernel to apply", key="learn.edges.operator",
                      default="sobel", options=list(edges.OPERATORS), format_func=NAMES.get,
                      required=True, valid=lambda v: v in edges.OPERATORS,
                      help="Apply this kernel's x and y tables to the whole image below.")
grad = gradient_of(img.key, operator, gray)
magnitude = grad.magnitude
scale = edges.display_scale(magnitude)
st.latex(rf"k_y = k_x^\top = {edges.kernel_latex(operator, axis='y')}\qquad "
         rf"|G| = \sqrt{{G_x^2 + G_y^2}}\qquad \theta = \operatorname{{atan2}}(G_y,\,G_x)")
pictures = st.columns(4)
with pictures[0]:
    show(edges.signed_picture(grad.gx, scale=scale), "Gx: orange where the image gets brighter "
         "to the right, blue where it gets darker")
with pictures[1]:
    show(edges.signed_picture(grad.gy, scale=scale), "Gy: orange where it gets brighter "
         "downward, blue where it gets darker")
with pictures[2]:
    show(edges.magnitude_picture(magnitude, scale=scale),
         f"|G|: how fast it changes, any way (white: {scale:.3f} or more)")
with pictures[3]:
    show(edges.direction_picture(grad, scale=scale), "Direction θ as colour, strength as "
         "brightness")
    st.image(viz.display_rgb(edges.direction_wheel(96), side=96), width=96,
             caption="Key: the way the image gets brighter")

# --------------------------------------------------------------------------- 2
st.header("2. The sum at one pixel", divider="gray")
st.markdown(
    "Pick a pixel. The outlined 3 × 3 square is what the kernels read there; the arrows show "
    "the gradient of every pixel nearby, pointing the way the image gets brighter. The lesson "
    "starts at the pixel where the gradient is strongest.")
start = edges.strongest_pixel(magnitude)
pick, numbers = st.columns([2, 3], gap="large")
with pick:
    row = persistent(st.slider, "Row (from the top)", key=f"learn.edges.row.{img.key}",
                     default=start[0], min_value=0, max_value=h - 1,
                     valid=lambda v: 0 <= v < h)
    col = persistent(st.slider, "Column (from the left)", key=f"learn.edges.col.{img.key}",
                     default=start[1], min_value=0, max_value=w - 1,
                     valid=lambda v: 0 <= v < w)
    st.plotly_chart(edges.neighbourhood_figure(gray, grad, row, col),
                    key="learn.edges.neighbourhood", config={"displayModeBar": False})
with numbers:
    p = edges.pixel_sum(gray, row, col, operator=operator)
    cells = r"\\ ".join(" & ".join(
        (rf"\mathbf{{{v:.3f}}}" if (i, j) == (1, 1) else f"{v:.3f}") for j, v in enumerate(line))
        for i, line in enumerate(p.patch))
    st.latex(rf"P = \begin{{bmatrix}}{cells}\end{{bmatrix}}\quad\text{{(pixel {row}, {col}; "
             rf"bold)}}")
    st.latex(edges.sum_latex(p, axis="x"))
    st.latex(edges.sum_latex(p, axis="y"))
    st.latex(rf"|G| = \sqrt{{G_x^2 + G_y^2}} = \sqrt{{({p.gx:.3f})^2 + ({p.gy:.3f})^2}} = "
             rf"{p.magnitude:.3f}")
    if p.magnitude > 0:
        st.latex(rf"\theta = \operatorname{{atan2}}(G_y, G_x) = {p.direction_degrees:.1f}^\circ"
                 rf"\quad\text{{(brighter {edges.compass(p.direction_degrees)})}}")
    sums = {name: edges.pixel_sum(gray, row, col, operator=name) for name in edges.OPERATORS}
    st.dataframe({"kernel": [NAMES[n] for n in sums],
                  "Gx": [round(s.gx, 4) for s in sums.values()],
                  "Gy": [round(s.gy, 4) for s in sums.values()],
                  "|G|": [round(s.magnitude, 4) for s in sums.values()]},
                 hide_index=True, width="content")
    rank = np.floor(1000 * edges.share_below(magnitude, p.magnitude)) / 10
    strongest = max(sums, key=lambda n: sums[n].magnitude)
    weakest = min(sums, key=lambda n: sums[n].magnitude)
    spread = sums[strongest].magnitude - sums[weakest].magnitude
    if p.magnitude == 0:
        lesson.notice("Nothing changes around this pixel: every kernel sums to exactly 0 "
                      "here, because its weights add up to 0. Move to an edge.")
    else:
        lesson.notice(
            f"Here |G| = {p.magnitude:.3f}, more than at {rank:.1f}% of the pixels; the image "
            f"gets brighter {edges.compass(p.direction_degrees)}. {NAMES[strongest]} answers "
            f"most and {NAMES[weakest]} least, {spread:.3f} apart: they only disagree where "
            "the three rows of the square differ, at corners, diagonals and texture.")

# --------------------------------------------------------------------------- 3
st.header("3. Canny, step by step", divider="gray")
st.markdown(
    "The gradient alone gives thick, noisy edges. **Canny's detector** cleans it up in five "
    "steps: blur away the noise, take the (Sobel) gradient, thin every ridge to one pixel, "
    "sort what is left with two thresholds, and keep a weak pixel only when it is linked to a "
    "strong one (**hysteresis**). Step through them below.")
settings, steps_col = st.columns([2, 3], gap="large")
with settings:
    sigma = persistent(st.slider, "Blur before the gradient (sigma, pixels)",
                       key="learn.edges.sigma", default=1.0, min_value=0.0, max_value=4.0,
                       step=0.1, help="Canny's first step: a Gaussian blur of this width.")
    low, high = persistent(st.slider, "Low and high thresholds (fraction of the strongest "
                           "gradient)", key="learn.edges.thresholds", default=(0.1, 0.5),
                           min_value=0.01, max_value=1.0, step=0.01,
                           help="Thinned pixels at or above high are strong edges; those "
                                "between low and high are weak and kept only when linked "
                                "to a strong one.")
steps = canny_of(img.key, sigma, low, high, gray)
with steps_col:
    step = persistent(st.select_slider, "Step", key="learn.edges.step", default="smooth",
                      options=list(edges.CANNY_STEPS), format_func=STEPS.get,
                      valid=lambda v: v in edges.CANNY_STEPS)

question = edges.weak_pixel(steps)
context = f"{img.key}:{sigma:.2f}:{low:.2f}:{high:.2f}"
revealed = False
if question is None:
    st.markdown("**Predict first.** With these thresholds there are no weak pixels (none "
                "between low and high), so there is nothing for hysteresis to decide. Move "
                "the thresholds apart to get some.")
else:
    q_row, q_col, kept = question
    links = edges.chain(steps, q_row, q_col)
    reach = float(steps.magnitude[links].max())
    explain = (f"Its chain of {int(links.sum())} linked pixels reaches |G| = {reach:.3f}, "
               + ("at or above high: hysteresis keeps the whole chain, this pixel included."
                  if kept else f"below high ({steps.high:.3f}): no strong pixel vouches for "
                               "it, so hysteresis drops it with its chain."))
    revealed = lesson.predict_choice(
        "edges.hysteresis",
        f"The ringed pixel (row {q_row}, column {q_col}) is **weak**: its |G| = "
        f"{steps.magnitude[q_row, q_col]:.3f} lies between low {steps.low:.3f} and high "
        f"{steps.high:.3f}. Look at step 4 and its close-up. Will hysteresis keep it?",
        ["Yes, it stays an edge", "No, it is dropped"],
        "Yes, it stays an edge" if kept else "No, it is dropped", context=context,
        explain=explain)

step_picture = edges.canny_picture(steps, step, reveal=revealed)
ringed = step_picture
if question is not None:
    ringed = edges.mark_pixel(step_picture, q_row, q_col, radius=max(4, min(h, w) // 40))
shown, told = st.columns([3, 2], gap="large")
with shown:
    show(ringed, {
        "smooth": f"The image blurred with sigma {sigma:g}",
        "gradient": "|G| of the blurred image (Sobel)",
        "thin": "|G| where thinning keeps the pixel, black elsewhere",
        "threshold": "Strong pixels white, weak pixels amber",
        "hysteresis": ("Strong white, weak pixels kept green, dropped orange" if revealed else
                       "Answer the question above to see which weak pixels are kept"),
    }[step], side=700)
with told:
    c = steps.counts()
    if step == "smooth":
        st.latex(r"I_\sigma = g_\sigma * I")
        st.latex(rf"g_\sigma(x, y) = \frac{{1}}{{2\pi\sigma^2}}"
                 rf"e^{{-\frac{{x^2 + y^2}}{{2\sigma^2}}}},\quad \sigma = {sigma:g}")
    elif step == "gradient":
        st.latex(rf"|G| = \sqrt{{G_x^2 + G_y^2}}\ \text{{of}}\ I_\sigma,\quad \max |G| = "
                 rf"{steps.strongest:.3f}")
    elif step == "thin":
        st.latex(r"\begin{aligned}&\text{keep } p \text{ if } |G|(p) \ge |G|(p + \hat d)"
                 r"\\ &\text{and } |G|(p) \ge |G|(p - \hat d),"
                 r"\\ &\text{where } \hat d = (G_x, G_y)\,/\,|G|\end{aligned}")
        st.latex(rf"\text{{kept: }} {count(c['thinned'])} \text{{ of }} {count(c['changing'])} "
                 r"\text{ pixels}")
    else:
        st.latex(rf"\text{{high}} = {high:.2f} \times {steps.strongest:.3f} = {steps.high:.3f}")
        st.latex(rf"\text{{low}} = {low:.2f} \times {steps.strongest:.3f} = {steps.low:.3f}")
        st.latex(rf"\text{{strong: }} |G| \ge \text{{high}}:\ {count(c['strong'])}\text{{ pixels}}")
        st.latex(rf"\text{{weak: }} \text{{low}} \le |G| < \text{{high}}:\ {count(c['weak'])}"
                 r"\text{ pixels}")
        if step == "hysteresis" and revealed:
            st.latex(rf"\text{{weak kept: }} {count(c['kept'])},\quad \text{{dropped: }} "
                     rf"{count(c['dropped'])}")
            st.latex(rf"\text{{edges}} = \underbrace{{{count(c['strong'])}}}_{{\text{{strong}}}}"
                     rf" + \underbrace{{{count(c['kept'])}}}_{{\text{{kept}}}} = "
                     rf"{count(c['edges'])}")
    if step in ("thin", "threshold", "hysteresis"):
        st.plotly_chart(edges.magnitude_histogram_figure(steps), key="learn.edges.histogram",
                        config={"displayModeBar": False})
    if question is not None and step in ("threshold", "hysteresis"):
        radius = 12
        st.image(viz.to_uint8(edges.close_up(step_picture, q_row, q_col, radius=radius)),
                 caption=f"Close-up: {2 * radius + 1} × {2 * radius + 1} pixels around the "
                         "ringed one (framed)", width=300)
lesson.notice(edges.step_notice(steps, step, revealed=revealed))
st.caption("These five steps give exactly skimage.feature.canny's edges, pixel for pixel "
           "(SegLab's tests check it); only the units differ: scikit-image's Sobel is not "
           "divided by 4, so its thresholds are 4 times these.")

# --------------------------------------------------------------------------- 4
st.header("4. From edges to regions", divider="gray")
st.markdown(
    "A region is an area the edges enclose. Thicken the edges a little to close small gaps, "
    "then call every connected area of non-edge pixels a region and drop the tiny ones. This "
    "is what the *Edge-based regions* method on the Segment page does.")
controls, result = st.columns([2, 3], gap="large")
with controls:
    close_gaps = persistent(st.slider, "Close gaps (pixels)", key="learn.edges.close_gaps",
                            default=1, min_value=0, max_value=5,
                            help="Thicken the edges by this many pixels before filling.")
    min_size = persistent(st.select_slider, "Smallest region (pixels)",
                          key="learn.edges.min_size", default=20, options=SIZES,
                          valid=lambda v: v in SIZES,
                          help="Smaller regions become edge (label 0).")
labels = regions_of(img.key, sigma, low, high, close_gaps, min_size, steps.edges)
n_regions = int(labels.max())
with controls:
    st.metric("Regions", n_regions)
    if img.truth is None:
        st.caption("No ground truth for this image, so the borders cannot be scored: add a "
                   "mask on the Image page, or work on the generated image.")
    else:
        bf = metrics.boundary_f1(labels, img.truth, tolerance=2)
        st.latex(rf"F_1 = \frac{{2PR}}{{P + R}} = \frac{{2 \cdot {bf['precision']:.2f} \cdot "
                 rf"{bf['recall']:.2f}}}{{{bf['precision']:.2f} + {bf['recall']:.2f}}} = "
                 rf"{bf['f1']:.2f}")
        st.caption("Boundary F1 against the truth, within 2 pixels: P is the share of region "
                   "borders that lie on a true border, R the share of true borders found.")
with result:
    left, right = st.columns(2)
    with left:
        show(viz.boundaries(img.image, steps.edges.astype(np.int32)), "Canny's edges (yellow)",
             side=500)
    with right:
        show(viz.overlay(img.image, labels, alpha=0.55), f"{n_regions} regions in colour; "
             "the (thickened) edges between them are left uncoloured", side=500)
largest = 100 * np.bincount(labels.ravel())[1:].max(initial=0) / labels.size
if n_regions <= 2:
    lesson.notice(f"Only {n_regions} region{'s' if n_regions != 1 else ''}: where an edge has a "
                  "gap, the areas on both sides leak into one. Close more gaps, or lower the "
                  "high threshold so that fainter edges join in.")
else:
    lesson.notice(f"{n_regions} regions; the largest covers {largest:.0f}% of the image. Any "
                  "gap in an outline lets an object leak into its surroundings; closing gaps "
                  f"({close_gaps} px now) seals them but thickens every border.")
