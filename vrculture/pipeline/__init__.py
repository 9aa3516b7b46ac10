"""The converter: readers make a `Model`, transforms refine it, the writer makes GLB."""
