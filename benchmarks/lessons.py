"""What a learner waits for in each lesson: ``streamlit run app.py`` driven in headless
Chromium, each wait timed from the learner's action to the page idle again.

    python -m benchmarks.lessons [--out benchmarks/results]

For every lesson in ``app.py``'s ``LEARN`` list, in one browser session on a fresh
server (the learner's image is the default sample):

1. **Open** the lesson from the sidebar, until it is idle with its pictures loaded.
2. **Reveal** the first question (committing to the first answer of a choice
   question first, not timed): what follows the reveal is drawn in that rerun.
3. **Release a slider** one step with the keyboard, for the first few sliders
   of the page that are not the question's own guess.
4. **Switch the image** to the generated one with exact truth.

A wait starts at the input event in the page (the page's own clock, so Playwright's
round trips do not count) and ends when the app is idle again (connected, no script
running, nothing stale, no spinner) with every picture loaded, after a script run
that began after the event. Issue #13 asks that
each interaction answers in "about a second": the verdict column compares with
1.0 s. Prints a table and writes ``lessons.json`` to ``--out``. Nothing here is a test.
"""

from __future__ import annotations

import argparse
import json
import re
import time
from dataclasses import asdict
from pathlib import Path

from benchmarks.browser import (CHROMIUM, CHROMIUM_ARGS, STEP_MS, Run, app_server, begin,
                                new_page, open_app, timed)

REPO = Path(__file__).resolve().parents[1]
#: "About a second", as issue #13 puts it.
TARGET_S = 1.0
#: Sliders released per lesson (the first ones on the page).
SLIDERS = 3

#: The page's script state, watched: a wait ends only after a run that started after
#: the learner's action (a keydown is idle at once, before its rerun has begun).
_RAN_JS = """
(() => {
  window.__benchRan = false;
  const watch = () => {
    const app = document.querySelector("[data-testid='stApp']");
    if (!app) { setTimeout(watch, 50); return; }
    new MutationObserver(() => {
      if (window.__benchT0 !== null && window.__benchT0 !== undefined
          && app.getAttribute("data-test-script-state") === "running") window.__benchRan = true;
    }).observe(app, {attributes: true, attributeFilter: ["data-test-script-state"]});
  };
  watch();
  const arm = () => { window.__benchRan = false; };
  for (const type of ["click", "keydown", "change"]) document.addEventListener(type, arm, true);
})();
"""
_IDLE = """() => window.__benchT0 !== null && window.__benchRan && window.__benchIdle()
  && window.__benchImagesLoaded() && window.__benchDone(performance.now())"""


def lessons() -> list[tuple[str, str]]:
    """``(file, sidebar title)`` of every lesson in ``app.py``'s ``LEARN`` list."""
    text = (REPO / "app.py").read_text()
    block = text[text.index("LEARN = ["):]
    return re.findall(r'st\.Page\("(pages/learn/[^"]+)", title="([^"]+)"',
                      block[:block.index("\n]")])


def open_lesson(page, title: str) -> tuple[float, str]:
    link = page.locator("[data-testid='stSidebarNav'] a", has_text=title).first
    return timed(page, "click", link.click, _IDLE)


def commit_to_an_answer(page) -> None:
    """Answer the page's first question (a number: one step up its guess slider; a
    choice: its first answer), so that its Reveal button can be pressed."""
    # The question's own widget: its key ends in ".guess", and Streamlit names the
    # element's container after the key.
    guess = page.locator("[data-testid='stMain'] [class*='guess']").first
    enabled = """() => { const b = [...document.querySelectorAll("[data-testid='stMain'] button")]
        .find(b => b.innerText.trim() === "Reveal"); return !!b && !b.disabled; }"""
    # A click that lands while the page is still redrawing (a heavy lesson just opened
    # on a busy machine) can be lost with the element it hit: answer again until
    # Reveal is enabled (seen once in the test suite's two workers, U-Net lesson).
    for _ in range(3):
        if guess.locator("input[type='range']").count():
            guess.locator("input[type='range']").focus()
            page.keyboard.press("ArrowRight")
        else:
            guess.locator("label:has(input[type='radio'])").first.click()
        page.wait_for_function("() => window.__benchIdle ? window.__benchIdle() : true",
                               timeout=STEP_MS)
        try:
            page.wait_for_function(enabled, timeout=10_000)
            return
        except Exception:  # noqa: BLE001  (not enabled yet: answer again)
            continue


def reveal(page) -> tuple[float, str]:
    button = page.locator("[data-testid='stMain']").get_by_role("button", name="Reveal").first
    if not button.is_enabled():
        commit_to_an_answer(page)
    return timed(page, "click", button.click, _IDLE)


#: The sliders a learner can move: enabled and shown (not on a tab that is not open).
_SLIDERS = "[data-testid='stMain'] [data-testid='stSlider'] input[type='range']:not([disabled]):visible"
_GENERATED = "[data-testid='stMain'] [data-testid='stRadio'] label:visible"


def release(page, index: int) -> tuple[float, str]:
    thumb = page.locator(_SLIDERS).nth(index)
    label = thumb.get_attribute("aria-label") or f"slider {index + 1}"
    before = thumb.get_attribute("aria-valuetext")
    thumb.focus()
    seconds, note = timed(page, "keydown", lambda: page.keyboard.press("ArrowRight"), _IDLE)
    return seconds, f"'{label}' {before} → {thumb.get_attribute('aria-valuetext')} {note}".strip()


def switch_image(page) -> tuple[float, str]:
    option = page.locator(_GENERATED, has_text="A generated image").first
    return timed(page, "click", option.click, _IDLE)


def measure(run: Run) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                    args=CHROMIUM_ARGS, timeout=STEP_MS)
        try:
            with app_server(run.out / "lessons-server.log") as server:
                context, page = new_page(browser)
                context.add_init_script(_RAN_JS)
                page.reload()
                open_app(page, server)
                for path, title in lessons():
                    name = Path(path).stem
                    run.step(page, f"{name}: open", None, lambda: open_lesson(page, title),
                             TARGET_S)
                    run.step(page, f"{name}: reveal", None, lambda: reveal(page), TARGET_S)
                    count = page.locator(_SLIDERS).count()
                    for i in range(min(count, SLIDERS)):
                        run.step(page, f"{name}: release slider {i + 1}", None,
                                 lambda: release(page, i), TARGET_S)
                    # (the Class challenge page has no image choice for the student)
                    if page.locator(_GENERATED, has_text="A generated image").count():
                        run.step(page, f"{name}: switch to the generated image", None,
                                 lambda: switch_image(page), TARGET_S)
                context.close()
        finally:
            browser.close()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default="benchmarks/results", help="folder for the outputs")
    args = parser.parse_args(argv)
    out = Path(args.out)
    facts = begin(out, "step (from the learner action to the page idle)")
    started = time.monotonic()
    run = Run(out)
    measure(run)
    verdicts = [m.verdict for m in run.measures]
    print(f"\n{len(run.measures)} measures in {time.monotonic() - started:.0f} s: "
          f"{verdicts.count('pass')} within {TARGET_S:g} s, {verdicts.count('MISS')} over, "
          f"{verdicts.count('failed')} failed")
    path = out / "lessons.json"
    path.write_text(json.dumps({"machine": facts, "target_s": TARGET_S,
                                "measures": [asdict(m) for m in run.measures]}, indent=1))
    print(f"wrote {path}")
    return 1 if verdicts.count("failed") else 0


if __name__ == "__main__":
    raise SystemExit(main())
