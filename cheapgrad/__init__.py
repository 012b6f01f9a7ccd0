"""cheapgrad: verify the cheap-gradient theorem by counting every op.

The core (this package minus ``cli`` and ``tables``) imports neither click nor rich::

    from cheapgrad.spec import spec_from_dict
    from cheapgrad.runner import run

    result = run(spec_from_dict({"input_dim": 4, "hidden": [8, 8], "activation": "tanh"}))
    print(result.cost_f, result.cost_f_and_grad, result.ratio, result.gradient_check.passed)
"""

__version__ = "0.1.0"

from cheapgrad.api import Circuit, CircuitResult, analyze, cos, exp, grad, log, sin, sqrt, tanh

__all__ = [
    "Circuit", "CircuitResult", "__version__", "analyze", "cos", "exp", "grad", "log", "sin",
    "sqrt", "tanh",
]
