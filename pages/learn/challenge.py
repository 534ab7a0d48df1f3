"""Class challenge: a teacher makes a challenge (an image whose truth the students do
not see, the methods allowed, a goal) and hands it out as a link or a file; each
student opens it, tunes, submits, sees the score and then the best a sweep finds.
The work is segcore.challenge's; seglab.challenge opens links and files."""

import streamlit as st

import segcore
from segcore import challenge as sc
from segcore import synthetic, viz
from seglab import cache, lesson, widgets
from seglab import challenge as glue
from seglab.state import current, options_key, persistent, shown

st.title("Class challenge")
st.markdown(
    "A teacher picks an image whose ground truth the students do not see, the methods they "
    "may use and a goal, and hands the challenge out as a **link** (a generated image: the "
    "link holds the settings that draw it) or as one small **file** (the teacher's own image "
    "and mask). Each student opens it, tunes a method, **submits**, and sees the score "
    "against the truth, then the best score a sweep over the allowed settings finds.")
st.info("**A classroom exercise, not an exam.** The truth travels with the challenge: a link "
        "holds the settings that draw the image and its truth, a file holds the mask itself. "
        "A student who looks can find it. Nothing is stored on the server and nothing is sent "
        "to the teacher: each student sees their own score.", icon=":material/school:")


def label(method: str) -> str:
    return segcore.get_method(method).label


def show(picture, caption: str, where=st) -> None:
    where.image(viz.display_rgb(picture, side=480), caption=caption, width="stretch")


# --------------------------------------------------------------------------- student


def open_file_box(ch) -> None:
    with st.expander("Open a challenge file from your teacher", expanded=ch is None,
                     icon=":material/upload_file:"):
        glue.file_uploader(key="challenge.file")
        st.caption("A link from your teacher opens this page with the challenge by itself. "
                   "A challenge file opens here or in the Image page's Upload tab.")


def take() -> None:
    error = glue.link_error()
    if error:
        st.error(f"The link in the address could not be opened as a challenge: {error}. Your "
                 "image and settings are kept; ask your teacher for the link again.",
                 icon=":material/link_off:")
    ch = glue.opened()
    open_file_box(ch)
    if ch is None:
        st.info("You have not opened a challenge yet, so here is an example to try. Teachers: "
                "make your own in the **Make a challenge** tab.", icon=":material/lightbulb:")
        ch = glue.example()
    st.subheader(shown(ch.question or ch.task))  # a teacher's text: shown as typed
    if ch.question:
        st.markdown(f"**Goal.** {shown(ch.task)}")
    h, w = ch.truth.shape
    where = f" Opened from {glue.opened_from()}." if glue.opened() is ch else ""
    how = ("of region borders within 2 pixels of the truth's" if ch.metric == "boundary_f1"
           else "after matching your regions to its classes")
    st.caption(f"The image: {ch.source}, {w} × {h} pixels. Its truth is hidden here; your "
               f"score is the {sc.METRICS[ch.metric]} {how}, as on the Evaluate page.{where}")
    predict(ch)
    tune(ch)
    results(ch)


def predict(ch) -> None:
    st.markdown("#### 1. Before you tune")
    method = ch.methods[0]
    trial = glue.at_defaults(ch, method)
    reached = trial.score is not None and trial.score >= ch.target
    options = ["Yes, as it is", "No, it needs tuning"]
    if trial.score is None:
        said = f"At its default settings {label(method)} does not run here ({trial.error})"
    else:
        said = (f"At its default settings ({trial.settings}) {label(method)} scores "
                f"**{trial.score:.3f}**")
    lesson.predict_choice(
        "challenge.defaults", f"Will {label(method)} at its default settings reach the goal "
        f"({sc.METRICS[ch.metric]} {ch.target:.2f})?", options, options[0 if reached else 1],
        context=ch.check, explain=said + (": that reaches the goal already." if reached else
                                          f"; the goal is {ch.target:.2f}, so tune it."))


def tune(ch) -> None:
    st.markdown("#### 2. Tune, then submit")
    img = glue.as_image(ch)
    controls, result = widgets.two_panes()
    with controls:
        method = persistent(st.selectbox, "Method", key=options_key("challenge.method",
                                                                    ch.methods),
                            default=ch.methods[0], valid=lambda v: v in ch.methods,
                            options=list(ch.methods), format_func=label,
                            help="The methods this challenge allows.")
        spec = segcore.get_method(method)
        widgets.describe_method(spec, img)
        with st.container(border=True):
            params, missing = widgets.method_settings(spec, img, scope="challenge")
    with result:
        if missing:
            st.info("Before this method can run: " + "; ".join(missing) + ".")
            return
        with st.spinner(f"Running {spec.label}…"):
            seg, error = cache.run_method(img, method, params)
        if error:
            st.error(f"{spec.label} could not run: {error}. Change a setting and it runs "
                     "again.")
            return
        show(viz.overlay(ch.image, seg.labels, alpha=0.5, show_boundaries=False),
             f"Your result: {seg.n_regions} regions. Its score comes when you submit.")
    with controls:
        if st.button("Submit this result", key="challenge.submit", type="primary",
                     icon=":material/send:", width="stretch"):
            glue.submit(ch, method, seg.params, seg.labels)


def results(ch) -> None:
    mine = glue.tries(ch)
    if not mine:
        st.caption("Submit a result to see its score against the hidden truth, and then the "
                   "best score a sweep over the allowed methods' settings finds.")
        return
    st.markdown("#### 3. Your score")
    last, best = mine[-1], max(t.score for t in mine)
    name = sc.METRICS[ch.metric]
    widgets.metric_row([
        ("Your score", f"{last.score:.3f}", f"The {name} of your last submitted result "
                                            "against the hidden truth."),
        ("Goal", f"{ch.target:.2f}", "The teacher's target."),
        ("Your best", f"{best:.3f}", "The best of your tries at this challenge."),
        ("Tries", str(len(mine)), "Results you submitted (kept until you close the page).")])
    if last.score >= ch.target:
        st.success(f"Goal reached: {last.score:.3f} ≥ {ch.target:.2f}.",
                   icon=":material/emoji_events:")
    else:
        st.warning(f"Not yet: {ch.target - last.score:.3f} to go. Change a setting and submit "
                   "again.", icon=":material/trending_up:")
    st.dataframe([{"Try": i + 1, "Method": label(t.method), "Settings": t.settings,
                   "Score": round(t.score, 3)} for i, t in enumerate(mine)], hide_index=True)

    st.markdown("#### 4. How close you came")
    with st.spinner(f"A sweep tries the allowed methods' settings (at most about "
                    f"{glue.SWEEP_BUDGET_S:.0f} s)…"):
        found = glue.sweep(ch)
    top = found.best
    if top is None:
        st.info("The sweep found no setting of the allowed methods that runs on this image.")
        return
    cut = "" if found.complete else " (its time ran out before it tried them all)"
    st.markdown(
        f"A sweep tried **{len(found.trials)}** settings in {found.elapsed_s:.1f} s{cut}: "
        "each allowed method's defaults, then one parameter at a time over its range. "
        f"Its best: **{top.score:.3f}**, with {label(top.method)}.")
    gap = top.score - best
    if gap > 0.0005:
        lesson.notice(f"Your best try is {gap:.3f} below the sweep's best "
                      f"({100 * best / top.score:.0f}% of it): there is more to find. Try "
                      f"again before you look at how the sweep got there.")
    else:
        lesson.notice("Your best try matches or beats the sweep's: the sweep tries a coarse "
                      "grid, one parameter at a time, so careful tuning can do better.")
    with st.expander("How the sweep got there (a spoiler: open it when you are done)",
                     icon=":material/visibility:"):
        st.markdown(f"{label(top.method)} with **{top.settings}**.")
        yours_col, sweep_col = st.columns(2)
        for where, trial, caption in ((yours_col, last, "Your last submitted result"),
                                      (sweep_col, top, "The sweep's best")):
            seg, error = cache.run_method(glue.as_image(ch), trial.method, trial.params)
            if seg is not None:
                show(viz.overlay(ch.image, seg.labels, alpha=0.5, show_boundaries=False),
                     f"{caption}: {trial.score:.3f}", where)


# --------------------------------------------------------------------------- teacher


def choose_image():
    """``(kind, detail)``: ``("generated", (sample, settings))`` or ``("yours", cur)``;
    ``None`` when the teacher's image cannot be used (said why)."""
    cur = current()
    options = {"generated": "A generated image with exact truth (hand it out as a link)",
               "yours": f"Your image ({cur.label}) with its mask (hand it out as a file)"}
    kind = persistent(st.radio, "Build it on", key="learn.challenge.image", default="generated",
                      options=list(options), format_func=options.get,
                      help="Your image is the one chosen on the Image page; add its ground "
                           "truth there (Upload tab, Ground-truth mask).")
    if kind == "generated":
        names = list(synthetic.SAMPLES)
        sample = persistent(st.selectbox, "Generated sample", key="challenge.make.sample",
                            default="shapes", valid=lambda v: v in names, options=names)
        settings = {}
        for p in sc.generator_params(sample):
            key = f"challenge.make.{sample}.{p.name}"
            if p.kind == "int" and p.high - p.low > 100:
                settings[p.name] = persistent(st.number_input, p.label, key=key,
                                              default=p.default, min_value=int(p.low),
                                              max_value=int(p.high), step=1, help=p.help)
            else:
                settings[p.name] = persistent(st.slider, p.label, key=key, default=p.default,
                                              min_value=p.low, max_value=p.high,
                                              step=p.step or 1, help=p.help or None)
        return kind, (sample, settings)
    h, w = cur.shape
    if min(h, w) < sc.MIN_SIDE:
        st.warning(f"Your image is {w} × {h} pixels: challenges need at least {sc.MIN_SIDE} × "
                   f"{sc.MIN_SIDE}. Choose a larger image on the Image page, or build on a "
                   "generated one.", icon=":material/photo_size_select_small:")
        return None
    if cur.truth is None:
        st.warning(f"Your image ({cur.label}) has no ground truth, and a challenge is scored "
                   "against one: add a mask on the Image page (Upload tab), or build on a "
                   "generated image.", icon=":material/info:")
        return None
    st.caption(f"Ground truth {cur.truth_note}. The file carries a copy of at most "
               f"{sc.MAX_PIXELS:,} pixels of your image (8-bit) and its truth.")
    return kind, cur


def choose_task() -> dict:
    allowed = sc.allowed_methods()
    methods = persistent(st.multiselect, "Methods allowed", key="challenge.make.methods",
                         default=["threshold"], valid=lambda v: set(v) <= set(allowed),
                         options=allowed, format_func=label,
                         help="Methods that need seeds clicked on the image are left out.")
    metric = persistent(st.selectbox, "Score", key="challenge.make.metric", default="iou",
                        options=list(sc.METRICS), format_func=lambda m: sc.METRICS[m][0].upper()
                        + sc.METRICS[m][1:],
                        valid=lambda v: v in sc.METRICS)
    target = persistent(st.slider, "Target (the goal: this score or more)",
                        key="challenge.make.target", default=0.9, min_value=0.0,
                        max_value=1.0, step=0.01)
    question = persistent(st.text_area, "Your question (optional)", key="challenge.make.question",
                          default="", max_chars=sc.MAX_QUESTION, height=80,
                          placeholder="e.g. Can a threshold find every shape?")
    return dict(methods=methods, metric=metric, target=target, question=question.strip())


def make() -> None:
    st.markdown("Students see the image and your goal; the truth stays hidden on their page "
                "until they submit (and then only as a score).")
    left, right = st.columns(2, gap="large")
    with left:
        st.markdown("#### 1. The image")
        chosen = choose_image()
    with right:
        st.markdown("#### 2. The task")
        task = choose_task()
    if chosen is None:
        return
    if not task["methods"]:
        st.info("Choose at least one method the students may use.")
        return
    kind, detail = chosen
    task["methods"] = tuple(task["methods"])
    try:
        if kind == "generated":
            ch = glue.generated(detail[0], tuple(sorted(detail[1].items())),
                                tuple(task.items()))
        else:
            ch = glue.own(detail, task)
    except ValueError as err:
        st.warning(f"This challenge cannot be made: {err}.", icon=":material/info:")
        return
    check(ch)
    hand_out(ch)


def check(ch) -> None:
    st.markdown("#### 3. Check it")
    h, w = ch.truth.shape
    st.markdown(f"**{shown(ch.question)}** — {shown(ch.task)}" if ch.question
                else f"**{shown(ch.task)}**")
    image_col, truth_col = st.columns(2)
    show(ch.image, f"What students see ({w} × {h} pixels)", image_col)
    show(viz.overlay(ch.image, ch.truth.clip(0), alpha=0.6),
         "The truth they are scored against (hidden on their page)", truth_col)
    if not persistent(st.toggle, "Check the target with the sweep students see after they "
                      "submit", key="challenge.make.sweep", default=False,
                      help=f"Tries each allowed method's settings, for at most about "
                           f"{glue.SWEEP_BUDGET_S:.0f} s."):
        return
    with st.spinner("Sweeping the allowed methods' settings…"):
        top = glue.sweep(ch).best
    if top is None:
        st.warning("No setting of the allowed methods runs on this image: allow others.")
    elif top.score >= ch.target:
        st.success(f"Within reach: the sweep gets {top.score:.3f} with {label(top.method)} "
                   f"({top.settings}).", icon=":material/check_circle:")
    else:
        st.warning(f"Above what the sweep reaches ({top.score:.3f} with {label(top.method)}); "
                   "careful tuning may still get there, or lower the target.",
                   icon=":material/info:")


def hand_out(ch) -> None:
    st.markdown("#### 4. Hand it out")
    data = glue.file_bytes(ch)
    if ch.sample is not None:
        url, known = glue.link(ch)
        st.markdown("Send your students this link (copy it with the button at the box's "
                    "right). It opens this page with the challenge; nothing is stored on the "
                    "server, the link holds it all.")
        st.code(url, language=None, wrap_lines=True)
        if not known or "//localhost" in url or "//127.0.0.1" in url:
            st.caption("This address is this computer's own: students reach it only where "
                       "SegLab runs at the same address. Otherwise replace the start of the "
                       "link, up to the question mark, with the address your students use.")
    else:
        st.markdown(f"Hand your students this file ({len(data) / 1024:.0f} kB, with a "
                    f"{ch.truth.shape[1]} × {ch.truth.shape[0]} copy of your image and its "
                    "mask). They open it on this page or in the Image page's Upload tab.")
    st.download_button("Download the challenge file" if ch.sample is None else
                       "Or hand it out as a file", data=data, file_name=glue.file_name(ch),
                       mime="application/json", on_click="ignore", icon=":material/download:",
                       type="primary" if ch.sample is None else "secondary")
    st.button("Try it here as a student", key="challenge.make.try", icon=":material/play_arrow:",
              on_click=glue.open_challenge, args=(ch,),
              kwargs=dict(source="the Make a challenge tab", make_current=False),
              help="Opens it in the Take a challenge tab; your own image stays chosen.")
    mine = glue.opened()
    if mine is not None and mine.check == ch.check:
        st.caption(":material/check: Open in the Take a challenge tab (at the top).")


take_tab, make_tab = st.tabs([":material/sports_score: Take a challenge",
                              ":material/edit_note: Make a challenge"])
with take_tab:
    take()
with make_tab:
    make()
