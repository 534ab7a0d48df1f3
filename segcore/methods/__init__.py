"""Built-in methods, one module per family; importing this registers them all."""

from segcore.methods import threshold, clustering, watershed, regions, graph, edges, unet  # noqa: F401
