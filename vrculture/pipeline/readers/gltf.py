"""glTF 2.0 reader (.gltf with external or data: buffers and images, and .glb), Draco included.

Our own reader over the JSON rather than trimesh's: every accessor and buffer view is checked
against the bytes actually present before numpy touches them (gltf_data.py), the JSON is
type-checked first (gltf_document.py), external URIs are confined to the source's folder, node
transforms are baked exactly (normals by the inverse transpose, winding flipped under
mirroring) and the PBR material maps come through as PIL images. Draco primitives
(KHR_draco_mesh_compression) are decoded with DracoPy.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from vrculture.pipeline.errors import ConversionError
from vrculture.pipeline.model import Material, Model, Node, Primitive, Texture
from vrculture.pipeline.readers.common import SourceBudget, check_counts, checked_primitive
from vrculture.pipeline.readers.georef import crs_in_extras
from vrculture.pipeline.readers.gltf_data import GltfData, normalise
from vrculture.pipeline.readers.gltf_document import floats, load_document
from vrculture.pipeline.readers.images import decode_image
from vrculture.pipeline.readers.tristrips import fan_to_triangles, strips_to_triangles


def read_gltf(source: Path, data: bytes, budget: SourceBudget, *, binary: bool) -> Model:
    try:
        document, bin_chunk = load_document(source, data, budget, binary=binary)
        return _GltfReader(source, document, bin_chunk, budget).read()
    except ConversionError:
        raise
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ConversionError(source, f"malformed glTF JSON ({type(exc).__name__}: {exc})") from exc


@dataclass
class _Decoded:
    """One glTF primitive decoded, before any node transform."""

    positions: np.ndarray
    triangles: np.ndarray
    normals: np.ndarray | None
    uvs: np.ndarray | None
    colors: np.ndarray | None
    material: int


@dataclass
class _GltfReader(GltfData):
    """Scene, meshes and materials on top of GltfData's accessors."""

    _textures: dict[tuple[int, bool], Texture | None] = field(default_factory=dict)
    _images: dict[tuple[int, bool], Texture] = field(default_factory=dict)
    _meshes: dict[int, list[_Decoded]] = field(default_factory=dict)
    _uv_transforms: dict[int, np.ndarray] = field(default_factory=dict)

    # ------------------------------------------------------------ structure

    def read(self) -> Model:
        model = Model(warnings=self.warnings)
        model.materials = [self._material(i) for i in range(len(self.doc.get("materials", [])))]
        default_material: int | None = None
        total_triangles = total_vertices = 0
        for node_index, world in self._scene_nodes():
            node = self.doc.get("nodes", [])[node_index]
            if "mesh" not in node:
                continue
            mesh_index = self._index(node["mesh"], "meshes", f"node {node_index} mesh")
            mesh = self.doc.get("meshes", [])[mesh_index]
            name = node.get("name") or mesh.get("name") or f"node{node_index}"
            out = Node(name=str(name))
            for decoded in self._decoded_mesh(mesh_index):
                # Instancing multiplies work: bound the vertices baked, not just the triangles.
                total_vertices += decoded.positions.shape[0]
                check_counts(self.source, self.budget.limits, total_vertices, 0)
                material = decoded.material
                if material < 0:
                    if default_material is None:
                        default_material = len(model.materials)
                        model.materials.append(Material(name="default"))
                    material = default_material
                prim = self._bake(decoded, world, material, f"mesh {mesh_index}")
                if prim is not None:
                    total_triangles += prim.triangle_count
                    check_counts(self.source, self.budget.limits, 0, total_triangles)
                    out.primitives.append(prim)
            if out.primitives:
                model.nodes.append(out)
        if not model.nodes:
            raise ConversionError(self.source, "glTF has zero triangles in its scene")
        model.roots = list(range(len(model.nodes)))
        # No standard says where a glTF names its CRS: `extras.crs` is read where tools put it.
        model.crs = crs_in_extras(self.doc.get("asset"), *self.doc.get("scenes", []),
                                  *self.doc.get("nodes", []))
        return model

    def _scene_nodes(self) -> list[tuple[int, np.ndarray]]:
        """(node index, world matrix) for every node reachable from the scene, cycles refused."""
        nodes = self.doc.get("nodes", [])
        scenes = self.doc.get("scenes", [])
        if scenes:
            scene_index = self.doc.get("scene", 0)
            scene_index = self._index(scene_index, "scenes", "scene")
            roots = scenes[scene_index].get("nodes", [])
        else:  # no scene: every node that is nobody's child is a root
            children = {c for n in nodes for c in n.get("children", [])}
            roots = [i for i in range(len(nodes)) if i not in children]
        out: list[tuple[int, np.ndarray]] = []
        visited: set[int] = set()
        stack = [(self._index(r, "nodes", "scene root"), np.eye(4)) for r in reversed(roots)]
        while stack:
            index, parent = stack.pop()
            if index in visited:
                raise ConversionError(self.source, f"glTF node {index} appears twice (a cycle?)")
            visited.add(index)
            world = parent @ self._local_matrix(index)
            out.append((index, world))
            for child in reversed(nodes[index].get("children", [])):
                stack.append((self._index(child, "nodes", f"node {index} child"), world))
        return out

    def _local_matrix(self, index: int) -> np.ndarray:
        node = self.doc.get("nodes", [])[index]
        if "matrix" in node:
            m = floats(self.source, node["matrix"], 16, f"node {index} matrix")
            return m.reshape(4, 4).T  # glTF stores column-major
        t = floats(self.source, node.get("translation", [0, 0, 0]), 3, f"node {index} translation")
        r = floats(self.source, node.get("rotation", [0, 0, 0, 1]), 4, f"node {index} rotation")
        s = floats(self.source, node.get("scale", [1, 1, 1]), 3, f"node {index} scale")
        x, y, z, w = r / (np.linalg.norm(r) or 1.0)
        rot = np.array(
            [
                [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
                [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
                [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
            ]
        )
        m = np.eye(4)
        m[:3, :3] = rot * s[None, :]
        m[:3, 3] = t
        return m

    def _bake(self, d: _Decoded, world: np.ndarray, material: int, label: str) -> Primitive | None:
        linear = world[:3, :3]
        positions = d.positions.astype(np.float64) @ linear.T + world[:3, 3]
        normals = d.normals
        triangles = d.triangles
        if not np.allclose(world, np.eye(4)):
            if normals is not None:
                try:
                    normal_matrix = np.linalg.inv(linear).T
                except np.linalg.LinAlgError:
                    normal_matrix = None
                normals = None if normal_matrix is None else normals @ normal_matrix.T
            if np.linalg.det(linear) < 0:  # mirrored: keep front faces counter-clockwise
                triangles = triangles[:, [0, 2, 1]]
        uvs = d.uvs
        transform = self._uv_transforms.get(material)
        if uvs is not None and transform is not None:
            uvs = uvs.astype(np.float64) @ transform[:2, :2].T + transform[:2, 2]
        return checked_primitive(
            self.source, self.warnings, positions, triangles,
            normals=normals, uvs=uvs, colors=d.colors, material=material, label=label,
        )  # fmt: skip

    # ------------------------------------------------------------ meshes

    def _decoded_mesh(self, mesh_index: int) -> list[_Decoded]:
        if mesh_index not in self._meshes:
            mesh = self.doc.get("meshes", [])[mesh_index]
            primitives = mesh.get("primitives", [])
            decoded = []
            for p_index, prim in enumerate(primitives):
                item = self._decode_primitive(prim, f"mesh {mesh_index} primitive {p_index}")
                if item is not None:
                    decoded.append(item)
            self._meshes[mesh_index] = decoded
        return self._meshes[mesh_index]

    def _decode_primitive(self, prim: dict, where: str) -> _Decoded | None:
        mode = prim.get("mode", 4)
        if mode not in (4, 5, 6):
            self.warnings.append(f"{where}: points/lines (mode {mode}) skipped")
            return None
        attributes = prim.get("attributes", {})
        if not isinstance(attributes, dict) or "POSITION" not in attributes:
            raise ConversionError(self.source, f"glTF {where} has no POSITION attribute")
        if prim.get("targets"):
            self.warnings.append(f"{where}: morph targets ignored (base shape used)")
        draco = (prim.get("extensions") or {}).get("KHR_draco_mesh_compression")
        if draco is not None:
            values, indices = self._draco(draco, attributes, where)
        else:
            values = {
                name: self._accessor(attributes[name], f"{where} {name}")
                for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0")
                if name in attributes
            }
            indices = None
            if "indices" in prim:
                indices = self._accessor(prim["indices"], f"{where} indices", indices=True)
        positions = values["POSITION"]
        if positions.ndim != 2 or positions.shape[1] != 3:
            raise ConversionError(self.source, f"glTF {where}: POSITION must be VEC3")
        n = positions.shape[0]
        for name, value in values.items():
            if value.shape[0] != n:
                raise ConversionError(
                    self.source, f"glTF {where}: {name} has {value.shape[0]} items, POSITION {n}"
                )
        flat = np.arange(n, dtype=np.int64) if indices is None else indices.reshape(-1)
        if mode == 4:
            if flat.size % 3:
                flat = flat[: flat.size - flat.size % 3]
                self.warnings.append(f"{where}: index count not a multiple of 3; tail dropped")
            triangles = flat.reshape(-1, 3).astype(np.int64)
        elif mode == 5:
            triangles = strips_to_triangles(flat)
        else:
            triangles = fan_to_triangles(flat)
        if triangles.size and (triangles.max() >= n):
            raise ConversionError(
                self.source,
                f"glTF {where}: vertex index {int(triangles.max())} out of range ({n} vertices)",
            )
        colors = values.get("COLOR_0")
        if colors is not None and colors.shape[1] not in (3, 4):
            raise ConversionError(self.source, f"glTF {where}: COLOR_0 must be VEC3 or VEC4")
        normals = values.get("NORMAL")
        if normals is not None and normals.shape[1] != 3:
            raise ConversionError(self.source, f"glTF {where}: NORMAL must be VEC3")
        uvs = values.get("TEXCOORD_0")
        if uvs is not None and uvs.shape[1] != 2:
            raise ConversionError(self.source, f"glTF {where}: TEXCOORD_0 must be VEC2")
        material = -1
        if "material" in prim:
            material = self._index(prim["material"], "materials", f"{where} material")
        return _Decoded(positions, triangles, normals, uvs, colors, material)

    def _draco(
        self, ext: dict, attributes: dict, where: str
    ) -> tuple[dict[str, np.ndarray], np.ndarray]:
        import DracoPy

        data = self._buffer_view(ext.get("bufferView"), f"{where} Draco")
        try:
            mesh = DracoPy.decode(bytes(data))
        except Exception as exc:  # DracoPy raises its own types, and ValueError/RuntimeError
            raise ConversionError(
                self.source, f"glTF {where}: Draco data cannot be decoded ({exc})"
            ) from exc
        faces = getattr(mesh, "faces", None)
        if faces is None or len(faces) == 0:
            raise ConversionError(self.source, f"glTF {where}: Draco data has no faces")
        ids = ext.get("attributes", {})
        values: dict[str, np.ndarray] = {}
        for name in ("POSITION", "NORMAL", "TEXCOORD_0", "COLOR_0"):
            if name not in ids:
                continue
            attribute = mesh.get_attribute_by_unique_id(int(ids[name]))
            if attribute is None:
                raise ConversionError(
                    self.source, f"glTF {where}: Draco attribute {name} (id {ids[name]}) missing"
                )
            array = np.asarray(attribute["data"])
            if array.ndim == 1:
                array = array.reshape(len(mesh.points), -1)
            accessor = self._accessor_json(attributes.get(name), f"{where} {name}")
            if array.dtype.kind in "ui":
                # Quantised integers: normalised per the accessor, as the glTF spec defines.
                normalized = bool(accessor.get("normalized", False)) or name == "COLOR_0"
                array = normalise(array) if normalized else array.astype(np.float32)
            values[name] = array.astype(np.float32)
        if "POSITION" not in values:
            raise ConversionError(self.source, f"glTF {where}: Draco data has no POSITION")
        return values, np.asarray(faces, dtype=np.int64)

    # ------------------------------------------------------------ accessors & buffers

    # ------------------------------------------------------------ materials

    def _material(self, index: int) -> Material:
        m = self.doc.get("materials", [])[index]
        where = f"material {index}"
        pbr = m.get("pbrMetallicRoughness", {}) or {}
        out = Material(name=str(m.get("name") or f"material{index}"))
        base = floats(self.source, pbr.get("baseColorFactor", [1, 1, 1, 1]), 4, where)
        r, g, b, a = (float(v) for v in np.clip(base, 0, 1))
        out.base_color_factor = (r, g, b, a)
        out.metallic_factor = float(np.clip(pbr.get("metallicFactor", 1.0), 0, 1))
        out.roughness_factor = float(np.clip(pbr.get("roughnessFactor", 1.0), 0, 1))
        emissive = floats(self.source, m.get("emissiveFactor", [0, 0, 0]), 3, where)
        strength = (m.get("extensions") or {}).get("KHR_materials_emissive_strength")
        if isinstance(strength, dict):
            (factor,) = floats(self.source, [strength.get("emissiveStrength", 1.0)], 1, where)
            emissive = emissive * factor
            if emissive.max() > 1.0:
                self.warnings.append(
                    f"glTF {where}: emissive strength {factor:g} capped at 1 (core glTF range)"
                )
        er, eg, eb = (float(v) for v in np.clip(emissive, 0, 1))
        out.emissive_factor = (er, eg, eb)
        out.base_color_texture = self._texture_info(pbr.get("baseColorTexture"), True, where)
        out.metallic_roughness_texture = self._texture_info(
            pbr.get("metallicRoughnessTexture"), False, where
        )
        out.normal_texture = self._texture_info(m.get("normalTexture"), False, where)
        out.occlusion_texture = self._texture_info(m.get("occlusionTexture"), False, where)
        out.emissive_texture = self._texture_info(m.get("emissiveTexture"), True, where)
        alpha_mode = m.get("alphaMode", "OPAQUE")
        if alpha_mode not in ("OPAQUE", "MASK", "BLEND"):
            raise ConversionError(self.source, f"glTF {where}: unknown alphaMode {alpha_mode!r}")
        out.alpha_mode = alpha_mode
        out.alpha_cutoff = float(m.get("alphaCutoff", 0.5))
        out.double_sided = bool(m.get("doubleSided", False))
        out.unlit = "KHR_materials_unlit" in (m.get("extensions") or {})
        self._collect_uv_transform(index, [
            pbr.get("baseColorTexture"), pbr.get("metallicRoughnessTexture"),
            m.get("normalTexture"), m.get("occlusionTexture"), m.get("emissiveTexture"),
        ])  # fmt: skip
        return out

    def _collect_uv_transform(self, index: int, infos: list[object]) -> None:
        """KHR_texture_transform is baked into TEXCOORD_0 (the Model has one UV set and no
        per-texture transform). The base colour map's transform wins if the maps disagree."""
        transforms = []
        for info in infos:
            if isinstance(info, dict):
                ext = (info.get("extensions") or {}).get("KHR_texture_transform")
                transforms.append(None if ext is None else self._uv_matrix(ext, index))
        present = [t for t in transforms if t is not None]
        if not present:
            return
        chosen = present[0]
        if any(not np.allclose(t if t is not None else np.eye(3), chosen) for t in transforms):
            self.warnings.append(
                f"glTF material {index}: its textures use different KHR_texture_transform "
                "values; the first one is applied to all"
            )
        self._uv_transforms[index] = chosen

    def _uv_matrix(self, ext: object, index: int) -> np.ndarray:
        where = f"material {index} KHR_texture_transform"
        if not isinstance(ext, dict):
            raise ConversionError(self.source, f"glTF {where} must be an object")
        ox, oy = floats(self.source, ext.get("offset", [0, 0]), 2, f"{where} offset")
        sx, sy = floats(self.source, ext.get("scale", [1, 1]), 2, f"{where} scale")
        (angle,) = floats(self.source, [ext.get("rotation", 0)], 1, f"{where} rotation")
        c, s = np.cos(angle), np.sin(angle)
        translation = np.array([[1, 0, ox], [0, 1, oy], [0, 0, 1]])
        rotation = np.array([[c, s, 0], [-s, c, 0], [0, 0, 1]])
        return translation @ rotation @ np.diag([sx, sy, 1.0])

    def _texture_info(self, info: object, color: bool, where: str) -> Texture | None:
        if info is None:
            return None
        if not isinstance(info, dict):
            raise ConversionError(self.source, f"glTF {where}: texture info must be an object")
        texture_index = self._index(info.get("index"), "textures", f"{where} texture")
        if info.get("texCoord", 0) not in (0, None):
            self.warnings.append(
                f"glTF {where}: texture uses TEXCOORD_{info['texCoord']}; "
                "only TEXCOORD_0 is kept, so it may look wrong"
            )
        key = (texture_index, color)
        if key not in self._textures:
            self._textures[key] = self._load_texture(texture_index, color, where)
        return self._textures[key]

    def _load_texture(self, texture_index: int, color: bool, where: str) -> Texture | None:
        texture = self.doc.get("textures", [])[texture_index]
        source = texture.get("source")
        webp = (texture.get("extensions") or {}).get("EXT_texture_webp")
        if webp is not None and "source" in webp:
            source = webp["source"]
        if source is None:
            self.warnings.append(f"glTF {where}: texture {texture_index} has no image; ignored")
            return None
        image_index = self._index(source, "images", f"texture {texture_index} source")
        # Cached per image: many textures (or samplers) may share one, and decoding it once per
        # texture would let a small file demand thousands of decodes of a large image.
        key = (image_index, color)
        if key not in self._images:
            self._images[key] = self._decode_image(image_index, color)
        return self._images[key]

    def _decode_image(self, image_index: int, color: bool) -> Texture:
        image = self.doc.get("images", [])[image_index]
        label = str(image.get("uri") or image.get("name") or f"image {image_index}")
        if "bufferView" in image:
            data = bytes(self._buffer_view(image["bufferView"], f"image {image_index}"))
        elif "uri" in image:
            data = self._uri_bytes(str(image["uri"]), f"image {image_index}")
        else:
            raise ConversionError(self.source, f"glTF image {image_index} has no data")
        decoded = decode_image(
            self.source, data, label, self.budget, color=color
        )
        return Texture(image=decoded, name=str(image.get("name") or f"image{image_index}"))
