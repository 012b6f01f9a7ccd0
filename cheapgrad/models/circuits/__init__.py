"""Circuits to differentiate: the built-ins (:mod:`.builtins`, :mod:`.mlp`) and YAML
circuit files (:mod:`.files`), found by name or path with :func:`resolve`.

Example::

    >>> resolve("horner", n=2).inputs
    ('c0', 'c1', 'c2', 'x')
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from cheapgrad.errors import CheapgradError
from cheapgrad.models.circuit import Circuit
from cheapgrad.models.circuits.builtins import (
    BUILTINS,
    Builtin,
    builtin,
    det,
    horner,
    mlp2,
    product,
    rosenbrock,
    softmax_ce,
)
from cheapgrad.models.circuits.files import (
    EvaluationError,
    bundled_names,
    bundled_text,
    circuit_from_dict,
    circuit_from_yaml,
    load_circuit,
)
from cheapgrad.models.circuits.mlp import mlp, mlp_input_names
from cheapgrad.models.circuits.vector import (
    VECTOR_BUILTINS,
    VectorCircuit,
    vector_builtin,
)
from cheapgrad.models.spec import Spec
from cheapgrad.util import did_you_mean

__all__ = [
    "BUILTINS", "Builtin", "Circuit", "EvaluationError", "builtin", "bundled_names",
    "bundled_text", "circuit_from_dict", "circuit_from_yaml", "det", "horner",
    "load_circuit", "mlp", "mlp2", "mlp_input_names", "product", "resolve", "rosenbrock",
    "softmax_ce", "VECTOR_BUILTINS", "VectorCircuit", "vector_builtin",
]


def resolve(target: str, *, n: int | None = None, seed: int | None = None,
            spec: Spec | None = None) -> Circuit:
    """A circuit from a built-in name, a YAML file, or a bundled example's name.

    ``n`` and ``seed`` apply to built-ins (``seed`` also to ``mlp``, replacing the
    spec's); ``spec`` is the MLP spec of the ``mlp`` built-in (required for it).
    """
    if target in BUILTINS:
        if target == "mlp":
            if spec is None:
                raise CheapgradError("the mlp circuit needs a spec")
            if n is not None:
                raise CheapgradError("--n does not apply to mlp: its size comes from the "
                                     "spec (--spec)")
            if seed is not None:
                spec = dataclasses.replace(spec, seed=seed)
            return mlp(spec)
        return builtin(target, n, 0 if seed is None else seed)
    path = Path(target)
    stem = path.name.rsplit(".", 1)[0]
    if not path.exists() and target.endswith((".yaml", ".yml")) and stem in bundled_names():
        raise CheapgradError(f"{target}: no such file (a bundled example is named '{stem}': "
                             "use that name)")
    if path.exists() or target.endswith((".yaml", ".yml")):
        circuit = load_circuit(path)
    elif target in bundled_names():
        circuit = circuit_from_yaml(bundled_text(target), f"{target} (bundled)")
    else:
        hint = did_you_mean(target, [*BUILTINS, *bundled_names()])
        raise CheapgradError(
            f"no circuit '{target}'{hint}: not a file, a built-in ({', '.join(BUILTINS)}) "
            f"or a bundled example ({', '.join(bundled_names()) or 'none'})")
    if n is not None or seed is not None:
        raise CheapgradError("--n and --seed apply to built-in circuits only; a circuit "
                             "file gives its own input values")
    return circuit
