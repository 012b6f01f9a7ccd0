"""Rich renderers of a sweep for the terminal, and its progress bar. They take result
objects and return rich renderables; they never compute a count themselves."""

from __future__ import annotations

from types import TracebackType

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from cheapgrad.analysis.result import within
from cheapgrad.analysis.sweep import CellResult, FailedCell, SweepResult
from cheapgrad.render import numbers
from cheapgrad.render.sweep import (
    MODEL_COLUMNS,
    engines_used,
    grid_mark,
    headline,
    limits_summary,
    model_rows,
    overall_verdict,
    shown_model,
    verdict_mark,
)


def ratio_style(cell: CellResult, model: str = "unit") -> str:
    """Colour by the margin to the bound: red over it (or a failed check), yellow within
    10% of it, green below that. Under another cost model than ``unit`` the margin is to
    that model's bound, and a ratio over it outside the model's hypothesis is yellow."""
    if not cell.passed:
        return "bold red"
    if model == "unit":
        return "yellow" if cell.margin < 0.10 else "green"
    ratio, bound = cell.model_ratio(model), cell.model_bound(model)
    if ratio is None or bound is None:
        return "dim"
    if not within(ratio, bound):
        return "bold red" if cell.model_applies(model) else "yellow"
    return "yellow" if (bound - ratio) / bound < 0.10 else "green"


def grid_tables(result: SweepResult, cost_model: str = "unit") -> list[RenderableType]:
    """Per activation, a heading and a table: rows depth, columns width, cells the
    measured ratio (under ``cost_model``; ``all`` shows the unit ratio) coloured by its
    margin to the model's bound (✗ marks a failed cell, * a ratio over the model's
    bound)."""
    model = shown_model(cost_model)
    grid = result.plan.grid
    by_key = {(c.depth, c.width, c.activation): c for c in result.cells}
    failed = {(c.depth, c.width, c.activation) for c in result.failed}
    bound = next((c.model_bound(model) for c in result.cells), None)
    under = "" if model == "unit" else f" under the {model} model"
    bound_text = "no bound" if bound is None else f"bound {bound:g}"
    out: list[RenderableType] = []
    for act in grid.activations:
        out.append(Text(f"\n{act}: ratio cost(f, ∇f) / cost(f){under}; rows depth, "
                        f"columns width; {bound_text}", style="bold"))
        t = Table()
        t.add_column("depth", justify="right", style="bold")
        for w in grid.widths:
            t.add_column(str(w), justify="right")
        for d in grid.depths:
            row: list[RenderableType] = [str(d)]
            for w in grid.widths:
                c = by_key.get((d, w, act))
                if c is None and (d, w, act) in failed:
                    row.append(Text("failed ✗", style="bold red"))
                elif c is None:
                    row.append(Text("·", style="dim"))
                else:
                    text = numbers.ratio(c.model_ratio(model))
                    row.append(Text(text + grid_mark(c, model), style=ratio_style(c, model)))
            t.add_row(*row)
        out.append(t)
    if model != "unit":
        out.append(Text(f"✗ the cell fails a check (unit bound, gradient, loss, counts); "
                        f"* the ratio exceeds the {model} bound (yellow: outside the "
                        "hypothesis of its theorem)", style="dim"))
    return out


def models_table(result: SweepResult) -> Table:
    """Per cost model: its bound, the cells within it, and the largest and smallest
    ratio over the grid with their cells."""
    t = Table(title="every cost model over the grid (the same counts, priced five ways)",
              title_justify="left")
    for col in MODEL_COLUMNS:
        t.add_column(col, justify="left" if col in ("model", "at") else "right")
    for m, row in zip(result.summary.models, model_rows(result), strict=True):
        style = "green" if m.holding == m.with_ratio else "yellow"
        t.add_row(*row[:2], Text(row[2], style=style), *row[3:])
    return t


def cells_table(result: SweepResult, cost_model: str = "unit") -> Table:
    """Every cell: parameters, cost of f, of f and ∇f, ratio (and the ratio under
    ``cost_model`` when it is another single model), verdict and gradient error. It fits
    80 columns: the nodes and the kind of gradient check are in ``--format json``/``csv``;
    only the verdict wraps, no number is ever cut or folded."""
    model = shown_model(cost_model)
    rows = []
    for c in result.cells:
        g = c.gradient_check
        rows.append((
            str(c.depth), str(c.width), c.activation, numbers.count(c.parameters),
            numbers.count(c.cost_f), numbers.count(c.cost_f_and_grad),
            Text(numbers.ratio(c.ratio), style=ratio_style(c)),
            *(() if model == "unit" else (Text(
                numbers.ratio(c.model_ratio(model)), style=ratio_style(c, model)),)),
            Text(verdict_mark(c), style="green" if c.passed else "bold red"),
            Text(f"{g.max_rel_error:.1e}", style="" if g.passed else "bold red"),
        ))
    headers = (("depth", "right"), ("width", "right"), ("act.", "left"),
               ("params", "right"), ("cost f", "right"), ("cost f,∇f", "right"),
               ("ratio", "right"), *(() if model == "unit" else ((model, "right"),)),
               ("verdict", "left"), ("grad err", "right"))
    widest = [max([len(str(row[i])) for row in rows] + [len(col)])
              for i, (col, _) in enumerate(headers)]
    # Left out, in this order, until the table fits (ratio × cost f gives cost f,∇f).
    dropped: list[str] = []
    for optional in ("cost f,∇f", "params", "cost f"):
        width = sum(min(w, 9) if col == "verdict" else w
                    for w, (col, _) in zip(widest, headers, strict=True)
                    if col not in dropped) + 2 * (len(headers) - len(dropped) - 1)
        if width <= TABLE_COLUMNS:
            break
        dropped.append(optional)
    detail = ", ".join(["nodes", *dropped, "kind of gradient check"])
    t = Table(title=f"every cell ({detail}: --format csv)", title_justify="left",
              box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    keep = [i for i, (col, _) in enumerate(headers) if col not in dropped]
    for i in keep:
        col, just = headers[i]
        if col == "verdict":
            t.add_column(col, justify=just, min_width=min(widest[i], 9), overflow="fold")
        else:
            t.add_column(col, justify=just, min_width=widest[i], no_wrap=True)
    for row in rows:
        t.add_row(*(row[i] for i in keep))
    return t


#: Every table fits this many columns.
TABLE_COLUMNS = 80


def failed_table(failed: list[FailedCell]) -> Table:
    """The cells whose run stopped with an error, and why."""
    t = Table(title="cells that failed to run", title_justify="left", box=box.SIMPLE_HEAD,
              pad_edge=False, collapse_padding=True)
    t.add_column("depth", justify="right", no_wrap=True)
    t.add_column("width", justify="right", no_wrap=True)
    t.add_column("act.", no_wrap=True)
    t.add_column("error", style="red")
    for f in failed:
        t.add_row(str(f.depth), str(f.width), f.activation, f.reason)
    return t


def limits_table(result: SweepResult) -> Table:
    """Per depth and activation: the measured ratios from narrow to wide and the limit the
    closed form predicts as the width grows."""
    t = Table(title="where the ratio goes as the width grows", title_justify="left")
    t.add_column("depth", justify="right")
    t.add_column("activation")
    t.add_column("measured, narrow → wide")
    t.add_column("widest", justify="right")
    t.add_column("limit (closed form)", justify="right", style="bold")
    for lim in result.summary.limits:
        ratios = [numbers.ratio(r) for _, r in lim.trend]
        if len(ratios) > 4:
            text = f"{' → '.join(ratios[:2])} … {' → '.join(ratios[-2:])}"
        else:
            text = " → ".join(ratios)
        widest = lim.widest
        t.add_row(str(lim.depth), lim.activation, text or "not run",
                  "" if widest is None else f"{numbers.ratio(widest[1])} at {widest[0]}",
                  numbers.limit(lim.limit))
    return t


def summary_panel(result: SweepResult, cost_model: str = "unit") -> Panel:
    """The headline (extremes under ``cost_model``), the verdict, the grid and the
    time."""
    plan = result.plan
    base = plan.base
    s = result.summary
    g = Table.grid(padding=(0, 2))
    g.add_column(style="bold")
    g.add_column()
    g.add_row("spec", base.name + (f" ({base.source})" if base.source else ""))
    g.add_row("base", f"input_dim {base.input_dim}, outputs {base.outputs}, "
                      f"bias {str(base.bias).lower()}, batch {base.batch}, seed {base.seed}")
    g.add_row("grid", f"depths {', '.join(map(str, plan.grid.depths))}; widths "
                      f"{', '.join(map(str, plan.grid.widths))}; activations "
                      f"{', '.join(plan.grid.activations)}")
    processes = numbers.plural(result.jobs, "process", "processes")
    g.add_row("engine", f"{engines_used(result)}; {processes}, "
                        f"{numbers.seconds(result.seconds)}")
    g.add_row("cells", headline(result, cost_model))
    unit = "" if shown_model(cost_model) == "unit" else "unit model: "
    g.add_row("wide limit", f"{unit}{limits_summary(result)}  (closed form, as the width "
                            "grows; measured trend below)")
    ok = s.all_passed
    g.add_row("verdict", Text(overall_verdict(result, cost_model),
                              style="bold green" if ok else "bold red"))
    return Panel(g, title="cheapgrad sweep", border_style="green" if ok else "red")


def sweep_tables(result: SweepResult, cost_model: str = "unit") -> Group:
    """Summary, ratio grids (under ``cost_model``), the table of every model (``all``),
    limits and every cell."""
    parts: list[RenderableType] = [summary_panel(result, cost_model),
                                   *grid_tables(result, cost_model)]
    if cost_model == "all":
        parts.append(models_table(result))
    parts += [limits_table(result), cells_table(result, cost_model)]
    if result.failed:
        parts.append(failed_table(result.failed))
    return Group(*parts)


class SweepProgress:
    """A rich progress bar (cells done, elapsed, estimate of the time left) that the sweep
    advances. The bar moves by each cell's estimated work, not by cell count, so the
    estimate stays sensible when cells of very different sizes finish in any order.

    Use as a context manager; pass it as ``progress`` to :func:`cheapgrad.analysis.sweep.run_sweep`.
    """

    def __init__(self, console: Console) -> None:
        self._progress = Progress(
            TextColumn("sweeping"), BarColumn(),
            TextColumn("{task.fields[done]}/{task.fields[cells]} cells"),
            TimeElapsedColumn(), TextColumn("left"), TimeRemainingColumn(),
            console=console, transient=True,
        )
        self._task: TaskID | None = None
        self._done = 0

    def __enter__(self) -> SweepProgress:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._progress.stop()

    def start(self, cells: int, work: float) -> None:
        """Show the bar (called once the workers exist)."""
        self._task = self._progress.add_task("sweep", total=max(work, 1e-9), done=0,
                                             cells=cells)
        self._progress.start()

    def advance(self, cell: CellResult | FailedCell, work: float) -> None:
        """One more cell finished; ``work`` is its share of the estimate."""
        self._done += 1
        if self._task is not None:
            self._progress.update(self._task, advance=work, done=self._done)
