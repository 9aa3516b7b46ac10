"""Names and metadata from a curator's browser are hostile input: whatever arrives, the answer
is a path inside sources/ or a refusal in words, never an exception of another kind."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from vrculture.server.jsonreply import JSONError
from vrculture.server.studio.names import RefusedName, object_id_for, safe_relative
from vrculture.server.studio.tus import encode_metadata, parse_metadata

ROOT = Path("/srv/data/studio/exhibitions/x/sources")
PIECES = st.sampled_from(["..", ".", "/", "\\", "a", "ä", "a\u0308", "\x00", "\n", " ", "C:",
                          ".hidden", "x.obj", "\u202e", "~", "%2e%2e"])


@settings(max_examples=400, deadline=None)
@given(st.one_of(st.text(max_size=300), st.lists(PIECES, max_size=12).map("".join)))
def test_a_name_is_a_path_inside_sources_or_refused(name: str) -> None:
    try:
        relative = safe_relative(name)
    except RefusedName as refused:
        assert str(refused)
        return
    assert not relative.is_absolute()
    assert all(part not in ("", ".", "..") and not part.startswith(".")
               for part in relative.parts)
    joined = (ROOT / relative).resolve()
    assert joined.is_relative_to(ROOT)
    assert unicodedata.is_normalized("NFC", relative.as_posix())


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=400))
def test_metadata_parses_or_is_refused_with_400(raw: str) -> None:
    try:
        parse_metadata(raw)
    except JSONError as refused:
        assert refused.status == 400


@given(st.dictionaries(st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True),
                       st.text(max_size=50), max_size=8))
def test_metadata_round_trips(values: dict[str, str]) -> None:
    assert parse_metadata(encode_metadata(values)) == values


@given(st.text(max_size=80), st.sets(st.text(max_size=10), max_size=5))
def test_object_ids_are_collection_ids_and_unique(stem: str, taken: set[str]) -> None:
    from vrculture.exhibition.fields import ID

    object_id = object_id_for(Path(f"{stem.replace('/', '_')}.obj"), taken)
    assert ID.fullmatch(object_id)
    assert object_id not in taken
