"""The neural light field (NLDF) student: its ray inputs in torch (`rays`), tested against
the numpy reference `engine.render.rays`."""
