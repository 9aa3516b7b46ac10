"""The GLB writer: quantisation, meshopt compression, packing and metadata."""
