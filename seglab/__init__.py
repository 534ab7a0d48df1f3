"""The Streamlit glue that SegLab's pages share, one module per concern:

- :mod:`seglab.state`: the chosen image and widget values kept across pages;
- :mod:`seglab.cache`: every cached computation (decoding, previews, method runs);
- :mod:`seglab.widgets`: widgets built from a method's spec, image and mask uploads;
- :mod:`seglab.seeds`: placing seeds by clicking on a picture;
- :mod:`seglab.downloads`: labels, masks, overlays, parameters and scripts to save;
- :mod:`seglab.lesson`: what every lesson page shares (image choice, predict-then-reveal);
- :mod:`seglab.challenge`: class mode, challenges opened from links and files.

Everything here calls :mod:`segcore` for the work; nothing here computes what a
notebook would also want (that lives in segcore, tested there). Adding a page is
one file in ``pages/lab/`` or ``pages/learn/`` plus one line in :data:`seglab.pages.LAB`
or :data:`seglab.pages.LEARN`.
"""
