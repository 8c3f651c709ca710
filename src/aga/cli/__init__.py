"""The ``aga`` command line. ``main.app`` is the Typer root; each sub-command lives in its own module."""
