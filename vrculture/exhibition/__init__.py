"""`vrculture build`: a curator's collection folder becomes an exhibition bundle.

collection (TOML/CSV) -> validated records -> per-object conversion (cached, in parallel)
-> layout, architecture and smart-exhibit models -> exhibition.json + build-report.json,
written into a temporary folder that replaces the previous bundle in one rename.
"""
