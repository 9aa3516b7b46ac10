"""The cache key covers every conversion setting, and a job converts with the settings its key
was made from (a setting left out of the key would give stale cache hits, silently)."""

from __future__ import annotations

from dataclasses import fields, replace
from pathlib import Path

import pytest
import trimesh
from build_helpers import write_shape

from vrculture.exhibition.cache import Cache, generated_key, object_key
from vrculture.exhibition.collection import load_collection
from vrculture.exhibition.run import BuildOptions, object_job
from vrculture.exhibition.worker import generated_settings
from vrculture.pipeline.convert import ConvertSettings
from vrculture.pipeline.model import Material, Model, Node, Primitive

# A value other than the default for every field. A field added to ConvertSettings without an
# entry here fails test_changing_any_setting_changes_the_key until one is given.
CHANGED: dict[str, object] = {
    "levels": ("full", "low"),
    "textures": "webp",
    "units": "cm",
    "height_m": 1.5,
    "up": "+Z",
    "metadata": {"title": "Another title"},
    "compress": False,
}
SETTING_NAMES = [f.name for f in fields(ConvertSettings)]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_shape(tmp_path / "m.obj", "box")


def _generated() -> Model:
    box = trimesh.creation.box((1.0, 2.0, 0.5))
    prim = Primitive(box.vertices.astype("float32"), box.faces.astype("uint32"))
    return Model(nodes=[Node("box", [prim])], materials=[Material()], roots=[0])


@pytest.mark.parametrize("name", SETTING_NAMES)
def test_changing_any_setting_changes_the_key(name: str, source: Path) -> None:
    base = ConvertSettings()
    changed = replace(base, **{name: CHANGED[name]})
    assert getattr(changed, name) != getattr(base, name)
    root = source.parent
    assert object_key("m", changed, [source], root) != object_key("m", base, [source], root)
    model = _generated()
    assert generated_key(model, "m", changed) != generated_key(model, "m", base)


def test_equal_settings_give_equal_keys(source: Path) -> None:
    one = ConvertSettings(metadata={"title": "T", "creator": "C"})
    other = ConvertSettings(metadata={"creator": "C", "title": "T"})  # order is not content
    assert object_key("m", one, [source], source.parent) == \
        object_key("m", other, [source], source.parent)
    assert object_key("m", one, [source], source.parent) != \
        object_key("n", one, [source], source.parent)  # the stem names the output files


def test_a_job_is_keyed_on_the_settings_it_converts_with(tmp_path: Path) -> None:
    folder = tmp_path / "collection"
    write_shape(folder / "m.obj", "box")
    (folder / "collection.toml").write_text(
        '[[objects]]\nid = "m"\nsource = "m.obj"\ntitle = "M"\nrights = "CC0-1.0"\n'
        'up = "+Z"\nunits = "cm"\n')
    collection, _ = load_collection(folder)
    record = collection.objects[0]
    options = BuildOptions(folder, tmp_path / "bundle", levels=("full", "low"), compress=False)
    job = object_job(record, options, collection, Cache(tmp_path / "cache"), "medium")
    settings = job.settings
    assert (settings.up, settings.units, settings.levels, settings.compress) == \
        ("+Z", "cm", ("full", "low"), False)
    assert settings.metadata["title"] == "M"
    assert job.key == object_key(record.id, settings, [record.source], collection.root)


def test_generated_models_are_written_with_their_own_metadata() -> None:
    model = _generated()
    model.metadata = {"title": "Lamp"}
    settings = generated_settings(model, compress=True)
    assert settings.levels == ("full",) and settings.metadata == {"title": "Lamp"}


@pytest.mark.parametrize("text", ['{"files": []}', "[]", '{"key": 1}', "not json"])
def test_an_entry_of_another_shape_is_a_miss(tmp_path: Path, text: str) -> None:
    """An entry from an older build (or a damaged one) is rebuilt, never half-read."""
    cache = Cache(tmp_path)
    key = "ab" * 32
    cache.entry(key).mkdir(parents=True)
    (cache.entry(key) / "result.json").write_text(text)
    assert cache.lookup(key) is None
