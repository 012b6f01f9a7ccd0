"""cheapgrad: verify the cheap-gradient theorem by counting every op.

The core imports neither click nor rich: only ``cli``, ``cli_common``, ``commands`` and
the ``*tables`` modules (the terminal renderers) do. ::

    from cheapgrad.models.spec import spec_from_dict
    from cheapgrad.analysis.run import run

    result = run(spec_from_dict({"input_dim": 4, "hidden": [8, 8], "activation": "tanh"}))
    print(result.cost_f, result.cost_f_and_grad, result.ratio, result.gradient_check.passed)

    from cheapgrad import grad, sin
    r = grad(lambda x, y: x * sin(y))(2.0, 0.5)
    print(r.value, r.gradient, r.ratio)
"""

from __future__ import annotations

from typing import Any

from cheapgrad.version import __version__

__all__ = [
    "Circuit", "CircuitResult", "__version__", "analyze", "cos", "exp", "grad", "hessian",
    "hvp", "jacobian", "log", "sin", "sqrt", "tanh",
]


def __getattr__(name: str) -> Any:
    # The circuit API is loaded on first use, so that importing the package (as the
    # command line does first) loads no numpy before the command line has set it up.
    if name in __all__ and name != "__version__":
        from cheapgrad import api

        return getattr(api, name)
    raise AttributeError(f"module 'cheapgrad' has no attribute {name!r}")
