"""Panels of the 3D View sidebar: they draw the settings and call operators by bl_idname; they never run the engine or write scene data."""
