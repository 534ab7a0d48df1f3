"""Lesson: Gaussian mixtures and EM, the E and M steps one at a time, on the gray
histogram or a scatter of two colour channels. The numbers come from
:mod:`segcore.learn.mixtures`."""

import streamlit as st

from segcore import metrics, viz
from segcore.learn import mixtures as mx
from segcore.methods.clustering import EM_TOL
from seglab import lesson
from seglab.state import options_key, persistent

LESSON = "mixtures"
PHOTOS = {"coins": "coins (gray)", "chelsea": "chelsea (colour)"}


@st.cache_data(max_entries=16, show_spinner="Running EM…")
def fit(key: str, features: str, k: int, start: str, rng: int, _image):
    points = mx.feature_points(_image, features=features)
    return points, mx.fit_em(points, k=k, start=start, rng=rng)


@st.cache_data(max_entries=16, show_spinner=False)
def hard_and_soft(key: str, features: str, k: int, start: str, rng: int, threshold: float,
                  _points, _history):
    return mx.hard_and_soft(_points, _history, rng=rng, threshold=threshold)


def move(key: str, names: list[str], by: int) -> None:
    st.session_state[key] = names[min(max(names.index(st.session_state[key]) + by, 0),
                                      len(names) - 1)]


st.title("Gaussian mixtures and EM")
st.markdown(
    "A **Gaussian mixture** says that every pixel's value was drawn from one of *k* bell "
    "curves (Gaussians). Curve *j* has a weight $\\pi_j$ (its share of the pixels), a mean "
    "$\\mu_j$ and a spread $\\sigma_j$. Nobody says which pixel came from which curve, so "
    "**EM** (expectation–maximisation) starts from a guess and repeats two steps:")
st.markdown(
    "- **E step**: keep the curves; split every pixel among them in proportion to the weighted "
    "curves' heights at its value. These shares are its *responsibilities* $r_{ij}$; they sum "
    "to 1.\n"
    "- **M step**: keep the split; refit every curve to its share of the pixels: weight, mean "
    "and variance become the share-weighted count, mean and variance.")
st.markdown(
    "Neither step can lower how well the curves explain the pixels (the *log-likelihood*), so "
    "EM climbs until it settles. Unlike k-means, a pixel can belong partly to several "
    "components.")

choice, photo_col = st.columns([4, 1])
with photo_col:
    photo = persistent(st.radio, "Which photo", key=f"learn.{LESSON}.photo", default="coins",
                       options=list(PHOTOS), format_func=PHOTOS.get,
                       valid=lambda v: v in PHOTOS,
                       help="The real photo the lesson uses: a gray one (EM on its histogram) "
                            "or a colour one (EM on two colour channels).")
with choice:
    img = lesson.lesson_image(LESSON, photo=photo, generated="shapes")

with st.container(border=True):
    c1, c2, c3, c4 = st.columns(4)
    with c1:
        if img.image.shape[2] == 3:
            features = persistent(
                st.radio, "Fit the mixture to", key=f"learn.{LESSON}.features", default="ab",
                options=list(mx.FEATURES), format_func=lambda f: mx.FEATURES[f].label,
                valid=lambda v: v in mx.FEATURES,
                help="The gray value gives a histogram; two colour channels give a scatter "
                     "with one ellipse per component.")
        else:
            features = "gray"
            st.markdown("**Fit the mixture to** the gray value: a gray image has no colour.")
    with c2:
        k = persistent(st.slider, "Components (k)", key=f"learn.{LESSON}.k", default=3,
                       min_value=2, max_value=5, help="How many Gaussians the mixture has.")
    with c3:
        start = persistent(st.radio, "Start from", key=f"learn.{LESSON}.start", default="kmeans",
                           options=list(mx.STARTS), format_func=mx.STARTS.get,
                           valid=lambda v: v in mx.STARTS,
                           help="Every pixel starts wholly in its nearest centre: k-means "
                                "centres (what the Segment page's Gaussian mixture does) or k "
                                "pixels picked at random.")
    with c4:
        rng = persistent(st.slider, "Random start", key=f"learn.{LESSON}.rng", default=0,
                         min_value=0, max_value=20,
                         help="Seed of the random pick (and of k-means' own random start); "
                              "another number, another start.")
    st.caption("EM runs on the distinct values rounded to 1/255, each counted as often as pixels "
               "have it: the same fit as on every pixel, in a fraction of the time.")

try:
    points, history = fit(img.key, features, k, start, rng, img.image)
except ValueError as err:
    st.warning(f"EM cannot run here: {err}.")
    lesson.stop()

names = mx.step_names(history)
step_key = options_key(f"learn.{LESSON}.step", [img.key, features, k, start, rng])
slider_col, back_col, next_col = st.columns([6, 1, 1.4], vertical_alignment="bottom")
with slider_col:
    name = persistent(st.select_slider, "Step through EM", key=step_key, default=names[0],
                      options=names, valid=lambda v: v in names,
                      help="Every EM iteration is an E step followed by an M step.")
step = names.index(name)
state = mx.step_state(points, history, step)
with back_col:
    st.button("Back", key=f"learn.{LESSON}.back", on_click=move, args=(step_key, names, -1),
              disabled=step == 0, icon=":material/arrow_back:", width="stretch")
with next_col:
    upcoming = "E step" if state.kind != "E" else "M step"
    st.button(f"Take the {upcoming}", key=f"learn.{LESSON}.next", on_click=move,
              args=(step_key, names, 1), disabled=step == len(names) - 1,
              icon=":material/arrow_forward:", width="stretch", type="primary")

pixel = mx.row_pixel(points, state.marked)
value = points.x[state.marked]
value_text = ", ".join(f"{v:.3f}" for v in value)

space, picture = st.columns([3, 2])
with space:
    if points.x.shape[1] == 1:
        st.plotly_chart(mx.mixture_histogram_figure(points, state.params, state.resp,
                                                    marked=state.marked))
        st.caption("Bars: the pixels at each gray value, split among the components by the "
                   "current responsibilities (stacked). Curves: each weighted Gaussian "
                   "$\\pi_j\\,\\mathcal{N}(x;\\mu_j,\\sigma_j^2)$ in pixels; dashed: their sum, "
                   "the mixture.")
    else:
        st.plotly_chart(mx.mixture_scatter_figure(points, state.params, state.resp,
                                                  marked=state.marked))
        st.caption("Each dot is a colour value (bigger: more pixels), in a mix of the component "
                   "colours by its responsibilities. Ellipses: one (dashed) and two standard "
                   "deviations around each component's mean (×).")
with picture:
    labels = mx.to_image(points, state.resp.argmax(1) + 1)
    shown = mx.mark_pixel(viz.overlay(img.image, labels, alpha=0.55, show_boundaries=False), pixel)
    st.image(viz.display_rgb(shown, side=520), width="stretch",
             caption="Each pixel in the colour of its main component (its largest "
                     f"responsibility). The ring marks the followed pixel (value {value_text}).")

words, chart = st.columns([3, 2])
with words:
    if state.kind == "start":
        lesson.notice(
            f"At the start every pixel belongs wholly to its nearest of {k} "
            f"{mx.STARTS[start]}: responsibilities are 0 or 1, and the start's M step fits one "
            f"Gaussian to each group, as k-means would. Log-likelihood: "
            f"{state.log_likelihood:.4f}.")
    elif state.kind == "E":
        moved = round(state.switched * points.counts.sum())
        moved = (f"{moved:,} pixels ({state.switched:.1%}) changed their main component" if moved
                 else "no pixel changed its main component")
        lesson.notice(
            f"The E step moved no curve: it re-split the pixels by the curves' heights, and "
            f"{moved}. The log-likelihood is still {state.log_likelihood:.4f}: it depends on "
            "the curves only.")
    else:
        rise = (f"rose by {state.ll_change:.4f}" if state.ll_change >= 5e-5
                else "changed by less than 0.0001")
        text = (f"The M step refitted every curve to the pixels it was given: the means moved by "
                f"up to {state.mean_shift:.3f} and the log-likelihood {rise}, to "
                f"{state.log_likelihood:.4f}.")
        if step == len(names) - 1:
            text += (f" EM stops here: the last rise was below {EM_TOL:g} per pixel."
                     if history.converged else
                     f" EM stopped after {history.n_steps} iterations, its most, before settling.")
        lesson.notice(text)

    context = f"{img.key}.{features}.{k}.{start}.{rng}.{step}"
    if state.kind == "E":
        before, after = state.log_likelihood, state.next_log_likelihood
        rise = after - before
        answer = "go up" if rise >= 5e-5 else ("go down" if rise <= -5e-5 else "stay the same")
        lesson.predict_choice(
            f"learn.{LESSON}.likelihood",
            "Next comes an M step. Will it make the log-likelihood go up, go down or stay the same "
            "(to four decimals)?", ["go up", "stay the same", "go down"], answer, context=context,
            explain=f"It goes from {before:.4f} to {after:.4f}. The M step picks the curves that "
                    "fit the current split best, and an M step never lowers the log-likelihood; "
                    "near the end the rises become too small to see.")
    else:
        now = int(state.resp[state.marked].argmax())
        after = state.next_resp[state.marked]
        answer = int(after.argmax())
        options = [f"component {j + 1}" for j in range(k)]
        terms = mx.e_step_terms(value, state.params)
        lesson.predict_choice(
            f"learn.{LESSON}.component",
            f"Next comes an E step. The ringed pixel (value {value_text}) belongs mostly to "
            f"component {now + 1} now ({state.resp[state.marked, now]:.0%}). After the E step, "
            "which component will it mostly belong to? Look at the curves at its value.",
            options, options[answer], context=context,
            explain=f"After the E step it belongs {after[answer]:.0%} to component {answer + 1}: "
                    f"at its value component {answer + 1}'s weighted curve is the highest "
                    f"({terms['weighted'][answer]:.3g}, against a total of {terms['total']:.3g}).")
with chart:
    st.plotly_chart(mx.log_likelihood_figure(history, step))
    st.caption("The mean log-likelihood per pixel, $\\frac{1}{N}\\sum_i \\log \\sum_j \\pi_j\\,"
               "\\mathcal{N}(x_i;\\mu_j,\\sigma_j^2)$: it never goes down. Narrow curves have "
               "densities above 1, so it can be positive.")

st.subheader("Responsibilities as soft maps")
st.caption("How much of every pixel belongs to each component after "
           f"{'the start' if state.e_step == 0 else f'E step {state.e_step}'}; a bright pixel "
           "belongs wholly to the component, a dark one not at all. The red ring is the "
           "followed pixel.")
st.plotly_chart(mx.soft_maps_figure(mx.to_image(points, state.resp), marked=pixel))

st.subheader("The two steps in numbers")
if state.e_params is None:
    st.markdown("**E step.** None yet: at the start every pixel's responsibilities are 0 or 1, "
                "from its nearest start centre.")
else:
    st.markdown(f"**E step {state.e_step}**, for the ringed pixel, with the curves of "
                f"{'the start' if state.e_step == 1 else f'M step {state.e_step - 1}'}:")
    for line in mx.e_step_latex(value, state.e_params):
        st.latex(line)
if state.m_step == 0:
    m_title, m_split = "The M step of the start", "the hard start split"
else:
    m_title, m_split = f"M step {state.m_step}", f"the split of E step {state.m_step}"
st.markdown(f"**{m_title}**, over all {points.counts.sum():,.0f} pixels ($N$), from {m_split}:")
for line in mx.m_step_latex(mx.m_step_terms(points, state.m_resp)):
    st.latex(line)

st.subheader("Hard or soft: k-means against the mixture")
st.markdown("K-means gives every pixel wholly to its nearest centre; the mixture splits it and "
            "lets each component have its own spread. Here is k-means with the same *k* against "
            "the mixture at the end of EM.")
threshold = persistent(st.slider, "Call a pixel uncertain when no component has at least",
                       key=f"learn.{LESSON}.threshold", default=0.9, min_value=0.5,
                       max_value=0.99, step=0.01,
                       help="A responsibility threshold: below it the mixture is unsure.")
out = hard_and_soft(img.key, features, k, start, rng, threshold, points, history)
map_col, words_col = st.columns([3, 2])
with map_col:
    st.image(viz.display_rgb(mx.hard_soft_picture(
        img.image, mx.to_image(points, out["disagree"]), mx.to_image(points, out["uncertain"])),
        side=560), width="stretch")
    st.markdown(f"<span style='color:{viz.hex_colour(mx.DISAGREE_COLOUR)}'>&#9632;</span> "
                "k-means and the mixture disagree &nbsp; "
                f"<span style='color:{viz.hex_colour(mx.UNCERTAIN_COLOUR)}'>&#9632;</span> "
                "uncertain", unsafe_allow_html=True)
with words_col:
    st.metric("Pixels where k-means and the mixture disagree",
              f"{out['disagree_pixels']:,} ({out['disagree_fraction']:.1%})")
    st.metric(f"Pixels with no component at {threshold:.0%} or more",
              f"{out['uncertain_pixels']:,} ({out['uncertain_fraction']:.1%})")
    if img.truth is not None:
        hard_iou = metrics.score(mx.to_image(points, out["hard"] + 1), img.truth)["iou"]
        soft_iou = metrics.score(mx.to_image(points, out["soft"] + 1), img.truth)["iou"]
        st.markdown(f"Against the ground truth (mean IoU, each cluster matched to one class): "
                    f"k-means **{hard_iou:.3f}**, the mixture **{soft_iou:.3f}**.")
    else:
        st.caption("No ground truth for this image, so no score against it; the map needs none.")
    if out["hard_cuts"] is not None:
        st.markdown("Along the gray values, k-means changes cluster at "
                    + ", ".join(f"{c:.3f}" for c in out["hard_cuts"])
                    + "; the mixture changes component at "
                    + ", ".join(f"{c:.3f}" for c in out["soft_cuts"]) + ".")
    st.caption("K-means cuts half-way between two centres, whatever the spreads; the mixture "
               "cuts where two weighted curves cross, so a wide or heavy component reaches "
               "further, and one can even win on both sides of a narrow one.")
