"""Built-in methods, one module per family.

Every module in this package registers its methods with
:func:`segcore.registry.register` when imported. Nothing here lists them:
:func:`segcore.registry.list_methods` imports each module it finds in this folder, so a
new file needs no edit anywhere else. :data:`ORDER` only says which families come first,
in the order the app shows them; any other module follows alphabetically.

The defaults (the app's starting values) of the parameters swept by
``python -m benchmarks.bsds`` (its ``GRIDS``) are the setting with the best
segmentation covering on BSDS500 train, checked on val; the README's BSDS500 section
has both numbers. SLIC keeps its 200 superpixels, an over-segmentation by design.

Modules keep heavy libraries (scikit-learn, torch) inside their functions, so
registering every method stays quick.

>>> from segcore.registry import list_methods
>>> [m.name for m in list_methods()][0]
'threshold'
"""

#: Families shown first, in this order; modules not named here follow alphabetically.
ORDER = ("threshold", "clustering", "watershed", "regions", "graph", "merge", "edges", "unet")
