"""The package version, from its installed metadata (works for editable installs too)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version

try:
    VERSION = version("vrculture")
except PackageNotFoundError:  # running from a checkout that is not installed
    VERSION = "0.0.0+checkout"
