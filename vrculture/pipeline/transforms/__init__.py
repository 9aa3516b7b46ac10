"""Transforms: small functions `Model -> Model` with explicit options, composed by `convert.py`.

One file per transform: its options dataclass, its defaults and one function, with a note at the
top recording the approaches tried and their measured times (2-core machine, nefertiti 100k
triangles unless stated otherwise).
"""
