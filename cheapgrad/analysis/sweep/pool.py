"""Running a sweep's cells, in this process or in a pool of worker processes that leave
Ctrl-C to the parent: results in grid order whatever the number of workers, and the cells
finished so far when Ctrl-C stops it.
"""

from __future__ import annotations

import multiprocessing
import signal
import threading
import time
from typing import Any, Protocol

from cheapgrad.analysis.sweep.cells import CellResult, FailedCell, SweepResult, try_cell
from cheapgrad.analysis.sweep.plan import Cell, SweepPlan, estimate_seconds


class ProgressSink(Protocol):
    """Receives progress: ``start`` once the workers are ready, with the number of cells
    and the estimated work (seconds); ``advance`` per finished cell with its share."""

    def start(self, cells: int, work: float) -> None: ...

    def advance(self, cell: CellResult | FailedCell, work: float) -> None: ...


def _run_indexed(args: tuple[Cell, str]) -> CellResult | FailedCell:
    # In a worker: an error comes back as a plain FailedCell, which always pickles (some
    # CheapgradError subclasses take constructor arguments that unpickling cannot supply).
    cell, engine = args
    return try_cell(cell, engine)


def _ignore_sigint() -> None:
    # Workers leave Ctrl-C to the parent, which stops them all.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _start_pool(ctx: Any, jobs: int) -> Any:
    """A worker pool whose workers never see Ctrl-C, not even while they start.

    SIGINT is blocked while the workers are forked, so they start with it blocked and
    then ignore it (a Ctrl-C can never kill a worker half-way through its start, which
    could leave the pool's queue locked). In the parent a Ctrl-C that came meanwhile is
    only delayed: it is delivered when the mask is restored, and then stops the pool.
    """
    if (threading.current_thread() is not threading.main_thread()
            or not hasattr(signal, "pthread_sigmask")):
        return ctx.Pool(jobs, initializer=_ignore_sigint)
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    pool = None
    try:
        pool = ctx.Pool(jobs, initializer=_ignore_sigint)
    finally:
        try:
            signal.pthread_sigmask(signal.SIG_SETMASK, previous)
        except KeyboardInterrupt:
            if pool is not None:
                pool.terminate()
                pool.join()
            raise
    return pool


def _stop_pool(pool: Any) -> None:
    """Terminate the workers and wait for them, deaf to further Ctrl-Cs meanwhile (a
    second one inside terminate() would leave live workers and a parent waiting on them
    forever)."""
    if pool is None:
        return
    in_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN) if in_main else None
    try:
        pool.terminate()
        pool.join()
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def run_sweep(
    plan: SweepPlan,
    *,
    jobs: int | None = None,
    progress: ProgressSink | None = None,
) -> SweepResult:
    """Run every cell of ``plan``; ``jobs`` > 1 runs them in worker processes.

    Results come back in grid order whatever the number of jobs. A cell whose run raises
    a :class:`~cheapgrad.errors.CheapgradError` becomes a :class:`FailedCell` with the
    reason; the other cells still run. Ctrl-C
    (KeyboardInterrupt) stops the workers and returns the cells finished so far with
    ``interrupted`` set.
    """
    jobs = plan.jobs if jobs is None else jobs
    jobs = max(1, min(jobs, len(plan.cells)))
    work = {c.index: estimate_seconds(plan.engine, c.predicted_ops, c.spec.parameters)
            for c in plan.cells}
    done: list[CellResult | FailedCell] = []
    interrupted = False
    start = time.perf_counter()
    if jobs == 1:
        if progress is not None:
            progress.start(len(plan.cells), sum(work.values()))
        try:
            for cell in plan.cells:
                r = try_cell(cell, plan.engine)
                done.append(r)
                if progress is not None:
                    progress.advance(r, work[r.index])
        except KeyboardInterrupt:
            interrupted = True
    else:
        methods = multiprocessing.get_all_start_methods()
        ctx = multiprocessing.get_context("fork" if "fork" in methods else None)
        # Biggest cells first keeps both workers busy to the end; the order of the
        # results is restored below.
        order = sorted(plan.cells, key=lambda c: -c.predicted_ops)
        pool = None
        try:
            pool = _start_pool(ctx, jobs)
            if progress is not None:
                progress.start(len(plan.cells), sum(work.values()))
            for r in pool.imap_unordered(_run_indexed, [(c, plan.engine) for c in order]):
                done.append(r)
                if progress is not None:
                    progress.advance(r, work[r.index])
            pool.close()
            pool.join()
        except KeyboardInterrupt:
            interrupted = True
            _stop_pool(pool)
        except BaseException:
            _stop_pool(pool)
            raise
    done.sort(key=lambda r: r.index)
    return SweepResult(plan, [r for r in done if isinstance(r, CellResult)], interrupted,
                       time.perf_counter() - start, jobs,
                       [r for r in done if isinstance(r, FailedCell)])
