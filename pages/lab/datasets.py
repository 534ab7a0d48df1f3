"""The Datasets page: score methods over a whole dataset, see how the scores spread,
stand them beside the published BSDS500 numbers, and open the best and worst images."""

import numpy as np
import streamlit as st

import segcore
from segcore import sweep, viz
from seglab import datasets, widgets
from seglab.state import current, persistent

if st.session_state.pop("datasets.open_segment", False):  # "Open on the Segment page"
    st.switch_page("pages/lab/segment.py")
st.title("Datasets")
st.caption("Run methods over a folder of images with ground truth and score every image: "
           "one image can flatter a method, a hundred cannot. Covering, PRI and VI are the "
           "BSDS500 region benchmark's measures; masks also get IoU and Dice.")

# ------------------------------------------------------------------ which dataset
source = st.radio("Dataset", ["A folder on this machine", "A zip of images and masks"],
                  horizontal=True, key="datasets.source")
path = None
if source.startswith("A folder"):
    found = datasets.suggestions()
    if found:
        st.caption("Found here: " + " · ".join(f"`{f}`" for f in found))
    path = persistent(st.text_input, "Folder", key="datasets.path",
                      default=found[0] if found else "",
                      help="BSDS500 (images/ and groundTruth/), an image folder beside a mask "
                           "folder matched by name (images/ + masks/, rgb/ + figure_ground/, …), "
                           "or the ISBI membrane stack.").strip() or None
else:
    upload = st.file_uploader("Zip file", type=None, key="datasets.zip",
                              help="One .zip holding an image folder and a mask folder "
                                   f"(up to {st.get_option('server.maxUploadSize')} MB).")
    if upload is not None:
        try:
            path = datasets.folder_of_zip(upload.getvalue())
        except ValueError as err:
            st.error(f"The zip could not be used: {err}.")
if path is None:
    st.info("Choose a dataset folder or upload a zip to begin.")
    st.stop()
try:
    whole = datasets.open_folder(path, None)
except ValueError as err:
    zipped = not source.startswith("A folder")  # its private folder means nothing to the user
    what = "The zip" if zipped else "This folder"
    st.error(f"{what} cannot be read as a dataset: "
             f"{str(err).replace(repr(str(path)), 'its content') if zipped else err}.")
    st.stop()

splits = list(whole.splits)
left, right = st.columns(2)
with left:
    split = (persistent(st.selectbox, "Split", key="datasets.split", default=splits[-1],
                        valid=lambda v: v in splits, options=splits,
                        help="Tune on train, report on val: numbers from images you tuned "
                             "on flatter a method.") if splits else None)
dataset = datasets.open_folder(path, split)
with right:
    count = st.slider("Images to score", 1, len(dataset), min(20, len(dataset)),
                      key="datasets.count", help="The first ones, in the dataset's order.")
st.caption(f"{whole.layout} layout · {len(dataset)} images{f' in {split}' if split else ''}"
           + (f" · {len(whole.unmatched)} files without a partner left out"
              if whole.unmatched else ""))

# ------------------------------------------------------------------ which methods
usable = [m for m in segcore.list_methods() if m.seeds != "required" and m.name != "unet"]
chosen = persistent(st.multiselect, "Methods", key="datasets.methods",
                    default=["felzenszwalb", "slic"],
                    valid=lambda v: isinstance(v, list) and all(
                        n in [m.name for m in usable] for n in v),
                    options=[m.name for m in usable],
                    format_func=lambda n: segcore.get_method(n).label)
plans = {}
columns = st.columns(max(1, min(len(chosen), 3)))
for i, name in enumerate(chosen):
    spec = segcore.get_method(name)
    with columns[i % len(columns)].expander(f"{spec.label}: settings and sweep"):
        params, missing = widgets.method_settings(spec, current(), scope="datasets")
        sweepable = [p.name for p in spec.params if p.kind in ("int", "float")]
        swept = st.selectbox("Sweep", ["nothing"] + sweepable, key=f"datasets.{name}.sweep",
                             help="Try this setting at several values: the table then gives "
                                  "the best single value for the whole set (ODS) and each "
                                  "image's best (OIS), as the BSDS benchmark does.")
        if swept == "nothing":
            plans[name] = [params]
        else:
            values = sweep.values(spec.param(swept), points=5)
            plans[name] = [{**params, swept: v} for v in values]
            st.caption(f"{swept}: " + ", ".join(f"{v:g}" for v in values))

if st.button("Score", type="primary", disabled=not chosen, key="datasets.run"):
    subset = dataset.select(list(dataset.names[:count]))
    st.session_state["datasets.results"] = (path, split, datasets.run(subset, plans))

if "datasets.results" not in st.session_state:
    st.stop()
ran_path, ran_split, results = st.session_state["datasets.results"]
if not results:
    st.stop()
if (ran_path, ran_split) != (path, split):
    st.caption("These results are for another dataset or split; press Score to update them.")

# ------------------------------------------------------------------ what came out
first = next(iter(results.values()))
masks = first.iou is not None and not np.isnan(first.iou).all()
measures = ["covering", "pri", "vi"] + (["iou", "dice"] if masks else [])
measure = st.segmented_control("Measure", measures, default=measures[-2 if masks else 0],
                               format_func=datasets.MEASURE_LABELS.get, key="datasets.measure")
measure = measure or measures[0]
scores = {segcore.get_method(m).label: datasets.per_image(f, measure) for m, f in results.items()}
st.plotly_chart(viz.score_box_figure(scores, measure=datasets.MEASURE_LABELS[measure],
                                     names=first.names), key="datasets.box")
rows = datasets.summary_rows(results, measures, bsds=whole.layout == "bsds")
st.dataframe(rows, hide_index=True, width="stretch",
             column_config={k: st.column_config.NumberColumn(format="%.3f")
                            for k in rows[0] if k not in ("method", "setting (ODS)")})
st.caption("ODS: the one setting best over the whole set; OIS: each image at its own best "
           "setting (an upper bound no single setting reaches). VI is in bits, lower is "
           "better." + (" Published rows are BSDS500's test split (Arbelaez et al. 2011); "
                        "ours are measured on the images above." if whole.layout == "bsds"
                        else ""))

st.subheader("Best and worst images")
lower = measure == "vi"
for method, found in results.items():
    spec = segcore.get_method(method)
    values = datasets.per_image(found, measure)
    order = np.argsort(values if not lower else -values)
    index = found.ods_ois()["covering"]["ods_setting"]
    picks = [("worst", order[0]), ("best", order[-1])]
    cols = st.columns(len(picks))
    for col, (which, i) in zip(cols, picks):
        name = found.names[i]
        item = datasets.open_folder(ran_path, ran_split)[name]
        labels, error = datasets.item_result(ran_path, ran_split, name, method,
                                             tuple(found.settings[index].items()))
        with col:
            st.markdown(f"**{spec.label}**, {which}: {name} ({values[i]:.3f})")
            picture = item.image if labels is None else viz.overlay(item.image, labels,
                                                                    alpha=0.5)
            st.image(viz.display_rgb(picture, side=420), width="stretch")
            st.button("Open on the Segment page", key=f"datasets.open.{method}.{which}",
                      on_click=datasets.open_on_segment,
                      args=(ran_path, ran_split, name, method, found.settings[index]))
