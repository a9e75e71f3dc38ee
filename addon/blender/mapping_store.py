"""What a target mesh keeps on itself (custom properties, saved with the .blend): the Mapping the user
edited, and the names of its character's meshes the user unticked. Main thread only."""

from __future__ import annotations

from ..engine_link import retarget

MAPPING_PROP = "talking_head_mapping"  # custom property of a target mesh: its Mapping as JSON
SKIP_MESHES_PROP = "talking_head_skip_meshes"  # custom property of a target mesh: names of its character's
                                               # meshes the user unticked (Animate leaves them unkeyed)


def stored_mapping(obj):
    """The Mapping the user keeps on `obj` (JSON in the `MAPPING_PROP` custom property), or None."""
    text = obj.get(MAPPING_PROP) if obj is not None else None
    return retarget.Mapping.from_json(text) if text else None

def store_mapping(obj, mapping) -> None:
    """Keep `mapping` on `obj` as editable JSON (custom property `MAPPING_PROP`)."""
    obj[MAPPING_PROP] = mapping.to_json()

def skipped_meshes(mesh_obj) -> set:
    """Names of the character's meshes the user unticked on `mesh_obj` (custom property `SKIP_MESHES_PROP`)."""
    value = mesh_obj.get(SKIP_MESHES_PROP) if mesh_obj is not None else None
    return {str(n) for n in value} if isinstance(value, (list, tuple)) or hasattr(value, "to_list") else set()

def set_skipped(mesh_obj, other, skipped: bool) -> None:
    """Untick (`skipped`) or tick the character's mesh `other` on the target `mesh_obj`."""
    names = skipped_meshes(mesh_obj) - {other.name}
    names |= {other.name} if skipped else set()
    if names:
        mesh_obj[SKIP_MESHES_PROP] = sorted(names)
    elif SKIP_MESHES_PROP in mesh_obj:
        del mesh_obj[SKIP_MESHES_PROP]
