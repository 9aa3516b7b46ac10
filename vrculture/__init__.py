"""vrculture: museum collections as WebXR exhibitions, with live smart-city exhibits."""

__version__ = "0.1.0"
