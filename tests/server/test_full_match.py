"""Every pattern that validates input matches the whole text: `$` alone also matches before a
final newline, so "en\\n" or "demo\\n" slipped through `re.match(r"^...$")`."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from vrculture.cli import main
from vrculture.exhibition.fields import LANG
from vrculture.exhibition.rights import parse_rights
from vrculture.server.rooms.messages import ProtocolError, check_color, check_id, check_lang

SCHEMAS = Path(__file__).resolve().parents[2] / "vrculture" / "schemas"


@pytest.mark.parametrize(("check", "good", "bad"), [
    (check_color, "#aabbcc", "#aabbcc\n"),
    (check_lang, "en", "en\n"),
    (lambda v: check_id(v, "pick.object"), "vase", "vase\n"),
])
def test_room_messages_refuse_a_trailing_newline(check, good, bad) -> None:
    check(good)
    with pytest.raises(ProtocolError):
        check(bad)


def test_collection_language_tags_and_rights_refuse_a_trailing_newline() -> None:
    assert LANG.fullmatch("sv") and not LANG.fullmatch("sv\n")
    assert parse_rights("http://rightsstatements.org/vocab/InC/1.0/") is not None
    assert parse_rights("http://rightsstatements.org/vocab/InC/1.0/\nx") is None


@pytest.mark.parametrize(("field", "value"), [
    ("id", "demo\n"), ("default_language", "en\n"),
])
def test_exhibition_schema_refuses_a_trailing_newline(field: str, value: str) -> None:
    schema = json.loads((SCHEMAS / "exhibition.schema.json").read_text(encoding="utf-8"))
    definition = {"id": "#/$defs/id", "default_language": "#/$defs/lang"}[field]
    sub = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": definition})
    assert sub.is_valid(value.strip()) and not sub.is_valid(value)


async def test_search_refuses_a_language_with_a_newline(client) -> None:
    response = await client.get("/api/search", params={"q": "vase", "lang": "en\n"})
    assert response.status == 400


async def test_feed_ids_refuse_a_trailing_newline(client) -> None:
    response = await client.get("/api/feeds/lamps%0A/readings")
    assert response.status == 404
    assert "feed ids are" in (await response.json())["message"]  # refused as an id, not looked up


def test_cli_guides_refuse_an_exhibition_id_with_a_newline(tmp_path, capsys) -> None:
    code = main(["guides", "add", "demo\n", "--data", str(tmp_path / "data")])
    assert code == 2 and "not an exhibition id" in capsys.readouterr().err
