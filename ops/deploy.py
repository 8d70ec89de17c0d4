"""``python -m ops deploy --stage S``: `chalice deploy`, after checking the runtime and the package.

See ``ops.package``: the same checks, then Chalice deploys (reusing the build just checked).
"""

from ops.package import deploy_main as main

__all__ = ["main"]
