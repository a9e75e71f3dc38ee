"""The command-line interface: `python -m engine <command> ...`."""
