"""chalkboard's operator commands: ``python -m ops <command>`` from the repository root.

Never part of the Lambda zip (Chalice packages only app.py, chalicelib/ and
vendor/). One module per command, each with ``main(argv) -> int``; ``stage``
reads a stage's settings from .chalice/config.json for all of them.
"""
