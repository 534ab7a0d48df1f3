"""Lesson: graphs (Felzenszwalb's merge test on a crop, SLIC superpixels and their
compactness, the region adjacency graph, spectral clustering and the normalised cut)."""

import streamlit as st

from segcore import viz
from segcore.learn import graphs as gr
from segcore.methods import graph as methods
from seglab import lesson
from seglab.state import persistent

SCALES = [10, 30, 100, 300, 1000, 3000]
COMPACTNESS = [1, 3, 10, 30, 100]
SIGMAS = [0.05, 0.1, 0.2, 0.4, 0.8]
# Sections are functions that return early, never st.stop(): a run ended by st.stop() keeps
# the state of the widgets it did not reach, and the browser and the script then disagree.


@st.cache_data(max_entries=32, show_spinner=False)
def crop_run(key: str, box: tuple, scale: int, _crop):
    return gr.felzenszwalb_run(_crop, scale=scale)


@st.cache_data(max_entries=16, show_spinner=False)
def whole_image(key: str, scale: int, min_size: int, _image):
    return methods.felzenszwalb(_image, scale=scale, min_size=min_size, space="lab").labels


@st.cache_data(max_entries=16, show_spinner=False)
def superpixels(key: str, n_segments: int, compactness: int, _image):
    return gr.slic_example(_image, n_segments=n_segments, compactness=compactness)


@st.cache_data(max_entries=16, show_spinner=False)
def spectral(key: str, settings: tuple, sigma: float, _graph):
    return gr.spectral_cut(_graph, similarity_sigma=sigma)


@st.cache_data(max_entries=32, show_spinner=False)
def parts(key: str, settings: tuple, sigma: float, k: int, _image, _graph, _spectrum):
    return gr.spectral_labels(_image, _graph, gr.spectral_clusters(_spectrum, k=k))


def picture(column, image, caption: str, side: int = 420):
    column.image(viz.display_rgb(image, side=side), caption=caption, width="stretch")


def felzenszwalb_section(img) -> None:
    st.header("1. Felzenszwalb: merge while the link is weak", divider="gray")
    st.markdown(
        "Every pixel is a node linked to its 8 neighbours; a link's **weight** is the colour "
        "difference of its two pixels (Lab colour, slightly blurred). Felzenszwalb and "
        "Huttenlocher's method looks at the links **from the weakest up**. Each link between two "
        "regions is a test: is it weaker than what each region already holds inside? To show "
        f"every test, the lesson replays the method on a crop of {gr.CROP} × {gr.CROP} pixels.")
    (h, w), (top, left) = img.image.shape[:2], gr.busiest_window(img.image)
    ch, cw, cols = min(gr.CROP, h), min(gr.CROP, w), st.columns(4)
    top = persistent(cols[0].slider, "Crop: top row", key=f"graphs.top.{img.key}", default=top,
                     min_value=0, max_value=h - ch, valid=lambda v: v <= h - ch,
                     help="The crop first sits where the image changes most.") if h > ch else 0
    left = persistent(cols[1].slider, "Crop: left column", key=f"graphs.left.{img.key}",
                      default=left, min_value=0, max_value=w - cw,
                      valid=lambda v: v <= w - cw) if w > cw else 0
    scale = persistent(cols[2].select_slider, "Scale (higher: larger regions)",
                       key="graphs.scale", default=100, options=SCALES, valid=SCALES.__contains__,
                       help="The engine's `scale`; the method's constant is k = scale / 255.")
    min_size = persistent(cols[3].slider, "Smallest region (pixels)", key="graphs.min_size",
                          default=50, min_value=1, max_value=200,
                          help="On the whole image, smaller regions are then merged into a "
                               "neighbour (the engine's `min_size`; the crop skips this step).")
    box, crop = (top, left, ch, cw), img.image[top:top + ch, left:left + cw]
    labels = whole_image(img.key, scale, min_size, img.image)
    run = crop_run(img.key, box, scale, crop)
    whole_col, graph_col = st.columns([2, 3], gap="large")
    whole = viz.overlay(img.image, labels, alpha=0.45)
    whole_col.plotly_chart(gr.picture_figure(whole, box=box), key="graphs.where")
    whole_col.caption(f"The whole image at scale {scale}: {labels.max()} regions. The red box is "
                      f"the crop, rows {top}–{top + ch - 1} and columns {left}–"
                      f"{left + cw - 1}.")
    graph_col.plotly_chart(gr.pixel_graph_figure(crop, run.graph), key="graphs.pixelgraph")
    graph_col.caption(f"The crop's graph: {ch * cw:,} nodes (dots in the pixels' blurred colours), "
                      f"{run.graph.n_edges:,} edges; darker, thicker lines are heavier links.")
    st.markdown(
        "A region $C$ holds its **internal difference** $\\mathrm{Int}(C)$, the heaviest link of "
        "its minimum spanning tree (the link that last grew it; 0 for one pixel). Small regions "
        "get a bonus $k/|C|$ ($|C|$ pixels) so that single pixels can start to merge. The link "
        "looked at is the weakest between the two regions, $\\mathrm{Dif}(C_1, C_2)$. They merge "
        "when")
    st.latex(r"\mathrm{Dif}(C_1,C_2) < \min\Big(\mathrm{Int}(C_1) + \frac{k}{|C_1|},\;"
             r"\mathrm{Int}(C_2) + \frac{k}{|C_2|}\Big)\qquad k = \frac{\text{scale}}{255} = "
             rf"\frac{{{scale}}}{{255}} = {run.k:.4f}")
    asked = gr.largest_decision(run)
    if asked < 0:
        st.info("This crop is a single pixel: there is no link to test. Choose a larger image.")
        return
    d = run.decision(asked)
    picture_col, ask_col = st.columns([2, 3], gap="large")
    picture(picture_col, gr.decision_picture(crop, run.labels_at(asked), d),
            f"Test {asked + 1} of {run.n_tests}: the blue region ({d.sizes[0]} pixels) and the "
            f"orange one ({d.sizes[1]} pixels); the red pixels are the link looked at.")
    with ask_col:
        answer = "They merge" if d.merged else "They stay apart"
        revealed = lesson.predict_choice(
            "graphs.merge", f"At scale {scale}, will the blue and the orange region merge when "
            "the red link between them comes up?", ["They merge", "They stay apart"], answer,
            context=f"{img.key}:{top}-{left}:{scale}",
            explain=f"{answer}: the link weighs {d.dif:.4f}, {'' if d.merged else 'not '}below "
                    f"the smaller of the two thresholds, {d.m_int:.4f}.")
    if not revealed:
        st.caption("Commit to an answer and press Reveal; then you can step through every test.")
        return
    st.latex(gr.merge_latex(d))
    st.caption("Dif on the left; Int + k/|C| of the blue and of the orange region on the right.")
    st.subheader("Every test, one at a time")
    step = persistent(st.slider, "Test number", key=f"graphs.step.{img.key}.{top}-{left}.{scale}",
                      default=asked + 1, min_value=1, max_value=run.n_tests,
                      valid=lambda v: 1 <= v <= run.n_tests,
                      help="The tests in the order the method makes them: weakest link first.")
    now, before = run.decision(step - 1), run.labels_at(step - 1)
    left_col, right_col = st.columns(2, gap="large")
    picture(left_col, gr.decision_picture(crop, before, now),
            f"Test {step} of {run.n_tests}: {before.max()} regions before it")
    picture(right_col, gr.decision_picture(crop, run.labels),
            f"After all {run.n_tests} tests: {run.n_regions} regions ({run.n_merges} merges)")
    st.latex(gr.merge_latex(now, label=rf"\text{{test {step}:}}\quad "))
    lesson.notice(gr.decision_words(now))


def slic_section(img) -> tuple:
    st.header("2. SLIC superpixels: k-means in colour and position", divider="gray")
    st.markdown(
        "SLIC lays out about *n* centres on a grid $S$ pixels apart and runs k-means where a "
        "pixel's distance $D$ to a centre mixes their colour difference $d_c$ (0–100) with their "
        "distance in pixels $d_s$. The **compactness** $m$ says how much a step of $S$ pixels "
        "weighs against colour: high $m$ makes square superpixels, low $m$ lets them follow "
        "colour into long shapes. A centre only looks $2S$ around itself, which keeps SLIC fast.")
    st.latex(r"D = \sqrt{d_c^2 + \Big(\frac{d_s}{S}\Big)^2 m^2}")
    cols = st.columns(2)
    n_segments = persistent(cols[0].slider, "Superpixels (about)", key="graphs.n_segments",
                            default=300, min_value=50, max_value=600, step=10,
                            help="How many grid centres SLIC starts from (`n_segments`).")
    m = persistent(cols[1].select_slider, "Compactness m", key="graphs.compactness", default=10,
                   options=COMPACTNESS, valid=COMPACTNESS.__contains__,
                   help="How much distance in pixels counts against colour difference.")
    ex = superpixels(img.key, n_segments, m, img.image)
    st.plotly_chart(gr.slic_figure(img.image, ex), key="graphs.slic")
    st.caption(f"{ex.graph.n_nodes} superpixels, grid step S = {ex.own.step:g} pixels. The red "
               "cross is the pixel farthest from its own centre that still finds that centre "
               "nearest; its superpixel is tinted cyan.")
    st.latex(gr.slic_latex(ex.own, name="its centre"))
    st.latex(gr.slic_latex(ex.other, name="nearest other centre"))
    lesson.notice(f"With m = {m}: " + gr.slic_words(ex) + (
        " A low m lets colour pull superpixels into long shapes; try m = 100." if m < 30 else
        " A high m makes position win: superpixels stay near-square; try m = 1."))
    return ex, (n_segments, m)


def region_graph_section(img, graph) -> None:
    st.header("3. The region adjacency graph", divider="gray")
    st.markdown(
        f"Superpixels make a much smaller graph: **{graph.n_nodes} nodes** instead of "
        f"{img.image.shape[0] * img.image.shape[1]:,} pixels, one per superpixel at its centre. "
        "Two nodes are linked when their superpixels touch; the link's weight is the difference "
        "of their mean colours (Lab, each channel scaled to 0–1):")
    n = len(graph.edges)
    if n:
        st.latex(r"w(a, b) = \lVert \bar c_a - \bar c_b \rVert\qquad\text{from }"
                 rf"{graph.distances.min():.4f}\text{{ to }}{graph.distances.max():.4f}")
    st.plotly_chart(gr.region_graph_figure(img.image, graph), key="graphs.rag")
    lesson.notice(f"{graph.n_nodes} nodes and {n} edges: each superpixel touches "
                  f"{2 * n / graph.n_nodes:.1f} others on average. The thick red links (the "
                  "heaviest 5%) trace the strongest boundaries; a cut along them frees objects.")


def spectral_section(img, ex, settings: tuple) -> None:
    st.header("4. Spectral clustering: cut where the graph is weakly linked", divider="gray")
    st.markdown(
        "Turn each difference into a link strength $W_{ab} = e^{-w(a,b)^2/\\sigma^2}$ (1 for equal "
        "colours, near 0 for very different ones). A cut into parts $A$ and $B$ breaks the links "
        "between them; the **normalised cut** divides what is broken by how strongly each part is "
        "linked overall, so that cutting off a tiny piece is not cheap:")
    st.latex(r"\mathrm{Ncut}(A,B) = \frac{\mathrm{cut}(A,B)}{\mathrm{assoc}(A,V)} + "
             r"\frac{\mathrm{cut}(A,B)}{\mathrm{assoc}(B,V)}")
    st.markdown(
        "Shi and Malik came close to the best cut with the graph's **Laplacian** $L = D - W$ ($D$ "
        "holds each node's total link strength) and the eigenvectors of $(D - W)\\,y = \\lambda "
        "D y$. The first, $y_1$, is constant ($\\lambda_1 = 0$); the second, $y_2$, changes "
        "slowly across strong links and jumps across weak ones: splitting the nodes where $y_2$ "
        "crosses a value is a cut.")
    sp, graph = ex.superpixels, ex.graph
    if graph.n_nodes < 3:
        st.info("Fewer than three superpixels: raise their number above to have a graph to cut.")
        return
    sigma = persistent(st.select_slider, "Colour difference scale σ", key="graphs.sigma",
                       default=0.2, options=SIGMAS, valid=SIGMAS.__contains__,
                       help="How fast a link weakens as colours differ (`similarity_sigma`).")
    found, cut = spectral(img.key, settings, sigma, graph)
    # Seeded by the image and settings: the answer's place changes between questions only.
    choices = gr.split_choices(img.image, graph, cut.inside,
                               rng=int(img.key[:8], 16) + sum(settings) + SIGMAS.index(sigma))
    letters = [chr(ord("A") + i) for i in range(len(choices))]
    for col, letter, (_, split) in zip(st.columns(len(choices)), letters, choices):
        picture(col, gr.split_picture(img.image, sp, split), f"Split {letter}", 320)
    answer = letters[[name for name, _ in choices].index("the cut")]
    share = graph.sizes[cut.inside].sum() / graph.sizes.sum()
    if not lesson.predict_choice(
            "graphs.split", "Which of these splits will the second eigenvector make?", letters,
            answer, context=f"{img.key}:{settings}:{sigma}",
            explain=f"It is {answer}: the part it cuts off holds {100 * share:.0f}% of the pixels "
                    f"and is weakly linked to the rest (Ncut {cut.ncut:.4f}). The cut looks for "
                    "the weakest links relative to each part's own, not for halves."):
        st.caption("Commit to an answer and press Reveal to see the eigenvectors.")
        return
    lam = found.eigenvalues
    for j, col in zip(range(1, lam.size), st.columns(3)):
        picture(col, gr.diverging_picture(gr.paint(sp, found.eigenvectors[:, j])),
                f"y{j + 1} (λ{j + 1} = {lam[j]:.2g}): red above 0, blue below", 360)
    st.latex(gr.ncut_latex(cut, found))
    st.caption("No two-way cut has a lower Ncut than λ2, the relaxed problem's minimum.")
    lesson.notice(
        f"With σ = {sigma} the cut puts {100 * share:.0f}% of the pixels on one side; a link "
        f"strength of {cut.cut:.3g} crosses it, against {cut.assoc_a:.0f} and {cut.assoc_b:.0f} "
        "inside the two sides. " + ("Raise σ: more colours count as alike, small pieces stay "
                                    "attached, and the cut moves to a larger part."
                                    if sigma < SIGMAS[-1] else "At this σ almost all colours "
                                    "count as alike and the cut follows slow colour changes."))
    st.subheader("More than two parts")
    st.markdown("Spectral clustering gives each node its entries in $y_1 \\ldots y_k$ and groups "
                "the nodes with k-means: the Segment page's *spectral clustering* method.")
    top = min(8, lam.size - 1)
    k = 2 if top < 3 else persistent(st.slider, "Parts (k)", key="graphs.k", default=min(4, top),
                                     min_value=2, max_value=top, valid=lambda v: 2 <= v <= top)
    labels = parts(img.key, settings, sigma, k, img.image, graph, found)
    cut_col, parts_col, values_col = st.columns(3, gap="medium")
    picture(cut_col, gr.split_picture(img.image, sp, cut.inside), "The normalised cut from y2")
    picture(parts_col, viz.overlay(img.image, labels, alpha=0.5), f"k-means on y1 … y{k}")
    values_col.plotly_chart(gr.eigenvalues_figure(found, k=k), key="graphs.eigenvalues")
    values_col.caption(gr.eigengap_words(lam, k))

st.title("Graphs")
st.markdown(
    "An image is also a **graph**: pixels (or regions) are its nodes, and neighbours are linked "
    "by edges whose **weight** says how different their colours are. Segmenting becomes cutting "
    "the graph along weak links. Four steps: Felzenszwalb's method merges pixels along weak "
    "links; SLIC groups pixels into **superpixels**; they become the nodes of a **region "
    "adjacency graph**; **spectral clustering** cuts it with the eigenvectors of its Laplacian.")
img = lesson.lesson_image("graphs", photo="coffee", generated="colour shapes")
felzenszwalb_section(img)
ex, settings = slic_section(img)
region_graph_section(img, ex.graph)
spectral_section(img, ex, settings)
