"""Operators and handlers: each reads the settings, builds one engine job, runs it in the child process (engine_link/), and writes its result back through blender/ as one undo step."""
