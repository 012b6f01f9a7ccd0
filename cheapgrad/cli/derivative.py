"""``cheapgrad circuit --derivative hvp|hessian|jacobian``: second derivatives and
Jacobians of a circuit, a vector built-in or a numpy program, counted and checked."""

from __future__ import annotations

import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import click
import numpy as np

from cheapgrad.analysis import array_second
from cheapgrad.analysis.array_jacobian import array_jacobian_report
from cheapgrad.analysis.derivatives import (
    PRICES,
    hessian_report,
    hvp_report,
    jacobian_report,
    program_function,
)
from cheapgrad.analysis.second_order import Fn
from cheapgrad.cli.common import InputError, emit
from cheapgrad.render.derivative import Report, to_csv, to_dict, to_markdown
from cheapgrad.render.derivative_tables import derivative_tables

#: The choices of ``--derivative``.
DERIVATIVES = ("grad", "hvp", "hessian", "jacobian")


def derivative_option() -> Callable[[Any], Any]:
    return click.option(
        "--derivative", type=click.Choice(DERIVATIVES), default="grad", show_default=True,
        help="What to compute: the gradient; H·v by forward over reverse, reverse over "
             "forward and reverse over reverse (--direction); the Hessian (colored and "
             "dense passes); the Jacobian of a vector function (axx, banded, wide, or a "
             "program returning an array; forward, reverse and colored passes).")


def direction_option() -> Callable[[Any], Any]:
    return click.option(
        "--direction", metavar="V", help="The vector v of --derivative hvp: comma-separated "
        "numbers (one per input) or a .npy file; default a random normal vector (--seed, "
        "default 0).")


def direction_for(text: str | None, derivative: str, n: int) -> np.ndarray | None:
    """``--direction`` checked for ``derivative`` on ``n`` inputs: only an HVP takes one,
    with one number per input (a one-line error otherwise)."""
    v = parse_direction(text)
    if v is not None and derivative != "hvp":
        raise InputError("--direction applies to --derivative hvp only")
    if v is not None and v.size != n:
        raise InputError(f"--direction: expected {n} numbers (one per input), got {v.size}")
    return v


def parse_direction(text: str | None) -> np.ndarray | None:
    """``--direction``: comma-separated floats or a ``.npy`` file (a one-line error)."""
    if text is None:
        return None
    if text.endswith(".npy"):
        path = Path(text)
        try:
            arr = np.load(path, allow_pickle=False)
        except FileNotFoundError:
            raise InputError(f"--direction {text}: no such file") from None
        except (OSError, ValueError) as exc:
            raise InputError(f"--direction {text}: not a numpy .npy file ({exc})") from None
        if not (np.issubdtype(arr.dtype, np.floating) or np.issubdtype(arr.dtype, np.integer)):
            raise InputError(f"--direction {text}: expected numbers, got {arr.dtype}")
        return np.asarray(arr, dtype=np.float64).ravel()
    values = []
    for part in text.split(","):
        try:
            values.append(float(part))
        except ValueError:
            raise InputError(f"--direction: {part.strip()!r} is not a number (give "
                             "comma-separated numbers or a .npy file)") from None
    return np.array(values)


def models_for(cost_model: str) -> tuple[str, ...]:
    """The cost models a derivative table shows for ``--cost-model``."""
    if cost_model == "all":
        return PRICES
    if cost_model not in PRICES:
        raise InputError(f"--cost-model {cost_model} applies to --derivative grad; "
                         f"derivatives are priced in {', '.join(PRICES)} or all")
    return ("unit",) if cost_model == "unit" else ("unit", cost_model)


def program_target(f: Callable[..., Any], arrays: Mapping[str, np.ndarray], engine: str,
                   derivative: str) -> tuple[Fn, np.ndarray, tuple[str, ...]]:
    """A numpy program as a function of its flat inputs, on the scalar engine."""
    if engine != "scalar":
        raise InputError(f"--derivative {derivative} on a numpy program: unknown engine "
                         f"{engine!r}")
    inputs = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
    names = tuple(f"{k}[{i}]" for k, a in inputs.items() for i in range(a.size))
    x = np.concatenate([a.ravel() for a in inputs.values()])
    return program_function(f, inputs), x, names


def program_run(derivative: str, name: str, f: Callable[..., Any],
                arrays: Mapping[str, np.ndarray], engine: str, *, fmt: str, cost_model: str,
                weights: Mapping[str, float] | None, direction: str | None) -> None:
    """A derivative of a numpy program on either engine: on the array engine the
    Jacobian by forward mode on counted arrays, H·v and the Hessian by forward over
    reverse (the scalar engine runs the three HVP modes)."""
    if derivative in ("hvp", "hessian") and engine == "array":
        models = models_for(cost_model)
        inputs = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        names = tuple(f"{k}[{i}]" for k, a in inputs.items() for i in range(a.size))
        v = direction_for(direction, derivative, len(names))
        report: Report = (array_second.hvp_report(name, f, inputs, v, inputs=names)
                          if derivative == "hvp"
                          else array_second.hessian_report(name, f, inputs, inputs=names))
        _emit(report, fmt, models, weights)
        return
    if derivative == "jacobian" and engine == "array":
        models = models_for(cost_model)
        direction_for(direction, derivative, 0)  # refused: not an HVP
        inputs = {k: np.asarray(v, dtype=np.float64) for k, v in arrays.items()}
        report = array_jacobian_report(name, f, inputs)
        report.inputs = tuple(f"{k}[{i}]" for k, a in inputs.items() for i in range(a.size))
        _emit(report, fmt, models, weights)
        return
    fn, x, names = program_target(f, arrays, engine, derivative)
    run(derivative, name, fn, x, names, fmt=fmt, cost_model=cost_model, weights=weights,
        direction=direction, seed=None)


def _emit(report: Report, fmt: str, models: tuple[str, ...],
          weights: Mapping[str, float] | None) -> None:
    emit(fmt, document=lambda: to_dict(report, weights),
         markdown=lambda: to_markdown(report, models, weights),
         csv=lambda: to_csv(report, weights),
         table=lambda: derivative_tables(report, models, weights))
    if not report.passed:
        sys.exit(1)


def run(derivative: str, name: str, fn: Fn, x: Any, inputs: tuple[str, ...], *, fmt: str,
        cost_model: str, weights: Mapping[str, float] | None, direction: str | None,
        seed: int | None, hessian: Any = None, jacobian: Any = None) -> None:
    """Compute, check and write one derivative report; exit 1 when a check fails."""
    models = models_for(cost_model)
    v = direction_for(direction, derivative, len(inputs))
    report: Report
    if derivative == "hvp":
        report = hvp_report(name, fn, x, v, inputs=inputs, reference=hessian,
                            seed=0 if seed is None else seed)
    elif derivative == "hessian":
        report = hessian_report(name, fn, x, inputs=inputs, reference=hessian)
    else:
        report = jacobian_report(name, fn, x, inputs=inputs, reference=jacobian)
    _emit(report, fmt, models, weights)

