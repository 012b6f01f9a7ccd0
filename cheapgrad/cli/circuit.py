"""``cheapgrad circuit``: the cheap-gradient theorem on any arithmetic circuit."""

from __future__ import annotations

import dataclasses
import sys
import textwrap
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import click

from cheapgrad.analysis.circuit import DEFAULT_METHOD_MAX_OPS, analyze
from cheapgrad.analysis.program import ENGINES, run_program
from cheapgrad.cli import derivative as _derivative
from cheapgrad.cli.common import TABLE_WIDTH, InputError, emit, exits_cleanly, load_config
from cheapgrad.cli.options import cost_model_option, format_option, weights_option
from cheapgrad.models.bundled import circuit_names
from cheapgrad.models.circuits import BUILTINS, VECTOR_BUILTINS, resolve, vector_builtin
from cheapgrad.models.programs import EXAMPLES, example_listing, load_program
from cheapgrad.render.circuit import to_csv, to_dict, to_markdown
from cheapgrad.render.circuit_tables import circuit_tables
from cheapgrad.render.program import to_csv as program_csv
from cheapgrad.render.program import to_dict as program_dict
from cheapgrad.render.program import to_markdown as program_markdown
from cheapgrad.render.program_tables import program_tables


def _listing() -> str:
    lines = ["built-in circuits (--n N sets the size, --seed S the random inputs):"]
    for b in BUILTINS.values():
        size = f"default n={b.default_n}" if b.default_n else "size from --spec"
        lines.append(f"  {b.name:<11} {b.summary}; inputs {b.inputs} ({size})")
    lines.append("vector built-ins (--derivative jacobian):")
    lines += [f"  {name:<11} {entry[4]} (default n={entry[1]})"
              for name, entry in VECTOR_BUILTINS.items()]
    names = circuit_names()
    if names:
        lines.append("example circuit files (cheapgrad circuit NAME, or copy one):")
        lines += [f"  {n}" for n in names]
    lines.append("example numpy programs (cheapgrad circuit NAME, or FILE.py:FUNC of yours):")
    lines += [f"  {n:<14} {summary}" for n, summary in example_listing()]
    # Within 80 columns: a long line wraps under its description.
    return "\n".join(_fit(line) for line in lines)


def _fit(line: str) -> str:
    """A listing line wrapped to :data:`TABLE_WIDTH`, under its description."""
    if len(line) <= TABLE_WIDTH:
        return line
    name = line.lstrip().split(" ", 1)[0]
    indent = len(line) - len(line.lstrip()) + len(name)
    indent += len(line[indent:]) - len(line[indent:].lstrip())
    return textwrap.fill(line, width=TABLE_WIDTH, subsequent_indent=" " * indent)


#: A check's progress is shown once it has run this long (short runs show nothing).
PROGRESS_AFTER_SECONDS = 0.5


@contextmanager
def check_progress() -> Iterator[Callable[[str, int, int], None] | None]:
    """A progress bar on stderr for the long loops of the analysis (the per-partial
    gradient check, the counted central differences), when stderr is a terminal; it
    appears only after :data:`PROGRESS_AFTER_SECONDS` and is erased when done."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskID, TextColumn

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TextColumn("evaluations"), console=Console(stderr=True), transient=True)
    tasks: dict[str, TaskID] = {}
    start = time.perf_counter()

    def report(stage: str, done: int, total: int) -> None:
        if not tasks and time.perf_counter() - start < PROGRESS_AFTER_SECONDS:
            return
        if not tasks:
            bar.start()
        if stage not in tasks:
            tasks[stage] = bar.add_task(stage, total=total)
        bar.update(tasks[stage], completed=done, total=total)

    try:
        yield report
    finally:
        bar.stop()


def _is_program(target: str) -> bool:
    return target in EXAMPLES or target.endswith(".py") or ".py:" in target


@click.command("circuit")
@click.argument("target", metavar="NAME|FILE.yaml|FILE.py:FUNC", required=False)
@click.option("--n", "n", type=int, metavar="N",
              help="Size of a built-in: inputs of product and softmax-ce, degree of horner, "
                   "matrix order of det.")
@click.option("--seed", type=click.IntRange(min=0, max=2**32 - 1), metavar="S",
              help="Seed of a built-in's random inputs (default 0; for mlp, the spec's).")
@click.option("--spec", "spec_name", metavar="CONFIG",
              help="MLP spec of the mlp built-in: a YAML file or a bundled name "
                   "(default: lecture).")
@format_option()
@click.option("--max-ops", type=click.IntRange(min=0), default=DEFAULT_METHOD_MAX_OPS,
              show_default=True, metavar="N",
              help="Run forward mode and counted central differences only when they "
                   "count at most N ops (they cost O(d) evaluations of f).")
@cost_model_option("Cost model(s) the tables and Markdown show ('all': every model and the "
                   "published constants); JSON always carries every model; the exit code "
                   "follows the unit bound.")
@weights_option()
@click.option("--engine", type=click.Choice(ENGINES), default="array", show_default=True,
              help="FILE.py:FUNC: count on counted arrays (array) or on object arrays of "
                   "counted scalars (scalar, the reference); both count the same ops. "
                   "--derivative hvp on array: forward over reverse only.")
@click.option("--inputs", "inputs_path", metavar="DATA.npz",
              help="FILE.py:FUNC: the arrays to run FUNC on (default: the file's inputs()).")
@_derivative.derivative_option()
@_derivative.direction_option()
@click.option("--list", "list_only", is_flag=True, help="List the built-ins and examples.")
@exits_cleanly
def command(target: str | None, n: int | None, seed: int | None, spec_name: str | None,
            fmt: str, max_ops: int, cost_model: str, weights: dict[str, float] | None,
            engine: str, inputs_path: str | None, derivative: str, direction: str | None,
            list_only: bool) -> None:
    """Count f and its gradient on any arithmetic circuit, by generic reverse mode.

    NAME is a built-in (product, horner, det, softmax-ce, mlp) or a bundled example;
    FILE.yaml defines a circuit by named inputs and `let` expressions (see
    `cheapgrad circuit --list`). FILE.py:FUNC counts an ordinary numpy function FUNC:
    the file is Python code and RUNS, like a test file (run only files you trust); FUNC
    is called on the dict of arrays its inputs() returns (or --inputs DATA.npz), must
    return a scalar, and is counted op by op and line by line, with its gradient by
    reverse mode (docs/arrays.md). The circuit is traced as it runs, then walked backward
    with each op's rule from the op table; every op of both passes is counted. Forward
    mode (one dual-number pass per input) and central differences (2d evaluations) are
    counted beside it. Exit code 0 when the ratio is within the bound 5 and the gradient
    matches an independent derivative (complex step, every partial up to 500 inputs,
    random directions above; and the closed form of a built-in); 1 otherwise; 2 for bad
    input.

    --derivative hvp|hessian|jacobian computes second derivatives and Jacobians
    instead, every mode counted side by side and checked (docs/second-order.md).

    \b
    Examples:
      cheapgrad circuit product --n 1000
      cheapgrad circuit det --n 30 --format json
      cheapgrad circuit mlp --spec lecture
      cheapgrad circuit my-circuit.yaml --format markdown
      cheapgrad circuit product --n 100 --cost-model all
      cheapgrad circuit model.py:loss --engine array --format json
      cheapgrad circuit np-attention
      cheapgrad circuit rosen --derivative hvp --direction 1,0,0,0,0,0,0,0,0,0
      cheapgrad circuit banded --n 50 --derivative jacobian
    """
    if list_only:
        click.echo(_listing())
        return
    if target is None:
        raise InputError("name a circuit: a built-in (" + ", ".join(BUILTINS)
                         + "), an example, or a YAML file; see cheapgrad circuit --list")
    if direction is not None and derivative != "hvp":
        raise InputError("--direction applies to --derivative hvp only")
    if target in VECTOR_BUILTINS:
        if derivative != "jacobian":
            raise InputError(f"{target} is a vector function: use --derivative jacobian")
        vf = vector_builtin(target, n, 0 if seed is None else seed)
        _derivative.run(derivative, vf.name, vf.fn, vf.values, vf.inputs, fmt=fmt,
                        cost_model=cost_model, weights=weights, direction=direction,
                        seed=seed, jacobian=vf.jacobian)
        return
    if _is_program(target):
        if n is not None or seed is not None or spec_name is not None:
            raise InputError("--n, --seed and --spec apply to built-in circuits only")
        name, f, arrays = load_program(target, inputs_path)
        if derivative != "grad":
            _derivative.program_run(derivative, name, f, arrays, engine, fmt=fmt,
                                    cost_model=cost_model, weights=weights,
                                    direction=direction)
            return
        program = run_program(f, arrays, engine=engine, name=name)
        program.cost_weights = weights
        emit(fmt, document=lambda: program_dict(program),
             markdown=lambda: program_markdown(program, cost_model),
             csv=lambda: program_csv(program),
             table=lambda: program_tables(program, cost_model))
        if not program.passed:
            sys.exit(1)
        return
    if inputs_path is not None:
        raise InputError("--inputs applies to FILE.py:FUNC only")
    if spec_name is not None and target != "mlp":
        raise InputError("--spec applies to the mlp circuit only")
    spec = load_config(spec_name) if target == "mlp" else None
    circuit = resolve(target, n=n, seed=seed, spec=spec)
    if derivative != "grad":
        if weights is None and spec is not None:
            weights = spec.cost_weights
        _derivative.run(derivative, circuit.name, circuit.fn, circuit.values, circuit.inputs,
                        fmt=fmt, cost_model=cost_model, weights=weights, direction=direction,
                        seed=seed, hessian=circuit.hessian)
        return
    with check_progress() as progress:
        result = analyze(circuit, max_ops=max_ops, progress=progress)
    if weights is None and spec is not None:
        weights = spec.cost_weights
    if weights is not None:
        result = dataclasses.replace(result, cost_weights=weights)
    # The published constants of a built-in are about it (Speelpenning's: product).
    subject = target if target in BUILTINS else None
    emit(fmt, document=lambda: to_dict(result),
         markdown=lambda: to_markdown(result, cost_model, subject),
         csv=lambda: to_csv(result), table=lambda: circuit_tables(result, cost_model, subject))
    if not result.passed:
        sys.exit(1)
