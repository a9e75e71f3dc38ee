"""The bpy<->numpy seam: engine results become keys, Actions, strips, images, the built-in head and the scene camera here (and Blender data becomes engine input here), nowhere else."""
