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

from cheapgrad.sweep import CellResult, SweepResult
from cheapgrad.sweep_report import (
    engines_used,
    headline,
    limits_summary,
    overall_verdict,
    verdict_mark,
)


def ratio_style(cell: CellResult) -> str:
    """Colour by the margin to the bound: red over it (or a failed check), yellow within
    10% of it, green below that."""
    if not cell.passed:
        return "bold red"
    if cell.margin < 0.10:
        return "yellow"
    return "green"


def grid_tables(result: SweepResult) -> list[RenderableType]:
    """Per activation, a heading and a table: rows depth, columns width, cells the
    measured ratio coloured by its margin to the bound (✗ marks a failed cell)."""
    grid = result.plan.grid
    by_key = {(c.depth, c.width, c.activation): c for c in result.cells}
    out: list[RenderableType] = []
    for act in grid.activations:
        out.append(Text(f"\n{act}: ratio cost(f, ∇f) / cost(f) by depth (rows) and hidden "
                        f"width (columns); bound {result.bound:g}", style="bold"))
        t = Table()
        t.add_column("depth", justify="right", style="bold")
        for w in grid.widths:
            t.add_column(str(w), justify="right")
        for d in grid.depths:
            row: list[RenderableType] = [str(d)]
            for w in grid.widths:
                c = by_key.get((d, w, act))
                if c is None:
                    row.append(Text("·", style="dim"))
                else:
                    mark = "" if c.passed else " ✗"
                    row.append(Text(f"{c.ratio:.3f}{mark}", style=ratio_style(c)))
            t.add_row(*row)
        out.append(t)
    return out


def cells_table(result: SweepResult) -> Table:
    """Every cell: parameters, nodes, cost of f, of f and ∇f, ratio, verdict, gradient error
    and the kind of gradient check."""
    t = Table(title="every cell (check: central = every partial by central differences, "
                    "directional = random directions)",
              title_justify="left", box=box.SIMPLE_HEAD, pad_edge=False, collapse_padding=True)
    rows = []
    for c in result.cells:
        g = c.gradient_check
        rows.append((
            str(c.depth), str(c.width), c.activation, f"{c.parameters:,}", f"{c.nodes:,}",
            f"{c.cost_f:,}", f"{c.cost_f_and_grad:,}",
            Text(f"{c.ratio:.4f}", style=ratio_style(c)),
            Text(verdict_mark(c), style="green" if c.passed else "bold red"),
            Text(f"{g.max_rel_error:.1e}", style="" if g.passed else "bold red"),
            g.method,
        ))
    headers = (("depth", "right"), ("width", "right"), ("activation", "left"),
               ("params", "right"), ("nodes", "right"), ("cost f", "right"),
               ("cost f,∇f", "right"), ("ratio", "right"), ("verdict", "left"),
               ("grad. error", "right"), ("check", "left"))
    for col, just in headers:
        # Numbers are never cut: on a narrow terminal they fold onto a second line.
        t.add_column(col, justify=just, overflow="fold")  # type: ignore[arg-type]
    for r in rows:
        t.add_row(*r)
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
        ratios = [f"{r:.3f}" for _, r in lim.trend]
        if len(ratios) > 4:
            text = f"{' → '.join(ratios[:2])} … {' → '.join(ratios[-2:])}"
        else:
            text = " → ".join(ratios)
        widest = lim.widest
        t.add_row(str(lim.depth), lim.activation, text or "not run",
                  "" if widest is None else f"{widest[1]:.4f} at {widest[0]}",
                  f"{float(lim.limit):.4g}")
    return t


def summary_panel(result: SweepResult) -> Panel:
    """The headline, the verdict, the grid and the time."""
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
    g.add_row("engine", f"{engines_used(result)}; {result.jobs} "
                        f"process{'es' if result.jobs > 1 else ''}, {result.seconds:.1f} s")
    g.add_row("cells", headline(result))
    g.add_row("wide limit", f"{limits_summary(result)}  (closed form, as the width grows; "
                            "measured trend below)")
    ok = s.all_passed
    g.add_row("verdict", Text(overall_verdict(result),
                              style="bold green" if ok else "bold red"))
    return Panel(g, title="cheapgrad sweep", border_style="green" if ok else "red")


def sweep_tables(result: SweepResult) -> Group:
    """Summary, ratio grids, limits and every cell."""
    return Group(summary_panel(result), *grid_tables(result), limits_table(result),
                 cells_table(result))


class SweepProgress:
    """A rich progress bar (cells done, elapsed, estimate of the time left) that the sweep
    advances. The bar moves by each cell's estimated work, not by cell count, so the
    estimate stays sensible when cells of very different sizes finish in any order.

    Use as a context manager; pass it as ``progress`` to :func:`cheapgrad.sweep.run_sweep`.
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

    def advance(self, cell: CellResult, work: float) -> None:
        """One more cell finished; ``work`` is its share of the estimate."""
        self._done += 1
        if self._task is not None:
            self._progress.update(self._task, advance=work, done=self._done)
