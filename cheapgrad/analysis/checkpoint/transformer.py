"""A transformer as a chain: step 1 is the embedding (wte[idx] + wpe), steps 2 … L + 1
the blocks, step L + 2 ln_f with the head and the loss, so l = n_layer + 2, every step
the functions :func:`~cheapgrad.models.transformer.gpt_loss` is made of
(:mod:`cheapgrad.models.transformer`) run on the counted arrays
(:class:`~cheapgrad.core.array.CArray`), recorded (taped) or not.

A state is the residual stream x (B × T × C, a float array; the tokens for step 1). A
taped step keeps its graph: its tape is every array of it but the parameters (its input,
its intermediate values, its output). Its reverse rule is the array reverse sweep
(:func:`cheapgrad.core.array_sweep.backward`) of that graph seeded with the adjoint of
its output, so every schedule runs the same reverse ops in the same order, and their
sum is the reverse sweep of the whole program: a seed is one contribution and costs no
op, and the adjoint of a state is summed (its adds counted) in the sweep of the step
that reads it. The one gradient summed across steps, wte's when the head is tied to
it, is summed here with one counted ``add`` per element both steps reached, as the
whole program's sweep counts it; the head's reverse runs first, as in that sweep.

Example::

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=2, d_ff=8)
    >>> chain = transformer_chain(s)
    >>> chain, [step.name for step in chain.steps]
    (Chain('transformer', 4 steps), ['embedding', 'block 1', 'block 2', 'ln_f, head and loss'])
"""

from __future__ import annotations

from contextlib import nullcontext
from dataclasses import replace
from typing import Any

import numpy as np

from cheapgrad.analysis.checkpoint.chain import Chain, Step
from cheapgrad.analysis.transformer_shapes import shape_counts, total_ops
from cheapgrad.core.array import CArray
from cheapgrad.core.array_masks import Mask, both, charge, either, tally, tracing
from cheapgrad.core.array_sweep import backward
from cheapgrad.core.counter import Counter
from cheapgrad.models.transformer import (
    block,
    embedding,
    head_loss,
    init_params,
    param_shapes,
    step_names,
    tokens,
)
from cheapgrad.models.transformer_spec import TransformerSpec


class _Graph:
    """A taped step's graph: its output and the leaves its reverse sweep differentiates
    by (the input, when it is a counted state, then the parameters). Not itself a stored
    block: the values it holds are listed beside it (:meth:`TransformerStep.run`)."""

    __slots__ = ("out", "leaves")

    def __init__(self, out: CArray, leaves: list[CArray]) -> None:
        self.out = out
        self.leaves = leaves


class Gradients:
    """The parameters' gradients as the reverse sweeps leave them: the first gradient a
    parameter gets is assigned, a further one summed with a counted ``add`` per element
    both reached (:data:`reached`: which elements have a contribution so far)."""

    __slots__ = ("names", "shapes", "values", "reached")

    def __init__(self, shapes: dict[str, tuple[int, ...]]) -> None:
        self.names = list(shapes)
        self.shapes = shapes
        self.values: dict[str, np.ndarray] = {}
        self.reached: dict[str, Mask] = {}

    def clear(self) -> None:
        self.values.clear()
        self.reached.clear()

    def add(self, name: str, g: np.ndarray, mask: Mask, counter: Counter) -> None:
        old = self.values.get(name)
        if old is None:
            self.values[name], self.reached[name] = g, mask
            return
        with counter.scope("backward", "accumulate", "add"):
            charge("add", tally(both(self.reached[name], mask), self.shapes[name]))
        self.values[name] = old + g
        self.reached[name] = either(self.reached[name], mask)

    def flat(self) -> np.ndarray:
        """Every gradient in :func:`~cheapgrad.models.transformer.param_shapes` order."""
        return np.concatenate([self.values.get(n, np.zeros(self.shapes[n])).ravel()
                               for n in self.names])


class TransformerStep:
    """One step of the chain (see the module docstring); ``index`` 0 is the embedding,
    1 … n_layer the blocks, n_layer + 1 the head with the loss."""

    __slots__ = ("name", "spec", "index", "names", "params", "idx", "targets", "grads")

    def __init__(self, spec: TransformerSpec, index: int, params: dict[str, np.ndarray],
                 idx: np.ndarray, targets: np.ndarray, grads: Gradients) -> None:
        last = spec.n_layer + 1
        self.name = ("embedding" if index == 0 else "ln_f, head and loss" if index == last
                     else f"block {index}")
        self.spec = spec
        self.index = index
        self.names = step_names(spec, index)
        self.params = {n: params[n] for n in self.names}
        self.idx = idx
        self.targets = targets
        self.grads = grads

    def run(self, state: np.ndarray, counter: Counter, tape: bool) -> tuple[np.ndarray, Any]:
        leaves = [CArray(self.params[n], dep=True) for n in self.names]
        p = dict(zip(self.names, leaves, strict=True))
        x = None if self.index == 0 else CArray(state, dep=True)
        with tracing() if tape else nullcontext(), counter.scope("forward"):
            if x is None:
                out = embedding(p, self.idx)
            elif self.index <= self.spec.n_layer:
                out = block(self.spec, p, self.index - 1, x)
            else:
                out = head_loss(self.spec, p, x, self.targets)
        if not tape:
            return out.v, None
        graph = _Graph(out, ([] if x is None else [x]) + leaves)
        return out.v, (graph, _values(out, set(map(id, leaves)), state))

    def reverse(self, record: Any, adjoint: Any, counter: Counter) -> Any:
        graph: _Graph = record[0]
        if adjoint is None:  # the head's sweep runs first in every schedule
            self.grads.clear()
        reached: list[Mask] = []
        found = backward(graph.out, graph.leaves, counter, seed=adjoint, reached=reached)
        start = 0 if self.index == 0 else 1
        for name, g, mask in zip(self.names, found[start:], reached[start:], strict=True):
            self.grads.add(name, g, mask, counter)
        return None if self.index == 0 else found[0]


def _values(out: CArray, params: set[int], state: np.ndarray) -> list[np.ndarray]:
    """The arrays a taped step's graph holds, each once, the parameters left out: its
    input (the state itself), its intermediate values and its output."""
    seen: dict[int, CArray] = {}
    stack = [out]
    while stack:
        n = stack.pop()
        if id(n) in seen or id(n) in params:
            continue
        seen[id(n)] = n
        if n.node is not None:
            stack.extend(n.node[1])
    arrays = {id(a.v): a.v for a in seen.values()}
    arrays.setdefault(id(state), state)
    return list(arrays.values())


def transformer_chain(spec: TransformerSpec, params: dict[str, np.ndarray] | None = None,
                      idx: np.ndarray | None = None, targets: np.ndarray | None = None
                      ) -> Chain:
    """The chain of ``spec``'s transformer on ``params`` and the tokens ``idx`` →
    ``targets`` (default: drawn from the spec's seed). Its initial state is ``idx``."""
    params = init_params(spec) if params is None else params
    if idx is None or targets is None:
        idx, targets = tokens(spec)
    grads = Gradients(dict(param_shapes(spec)))
    steps: list[Step] = [TransformerStep(spec, i, params, idx, targets, grads)
                         for i in range(spec.n_layer + 2)]
    return Chain(spec.name, idx, steps, grads.flat)


def predicted_ops(spec: TransformerSpec) -> tuple[int, list[int]]:
    """cost(f, ∇f) and each step's forward ops, from the closed form of
    :mod:`cheapgrad.analysis.transformer_shapes` (a ReLU model estimated by the GELU
    one of the same shapes; the blocks share their ops equally).

    >>> from cheapgrad.models.transformer_spec import TransformerSpec
    >>> s = TransformerSpec(vocab=5, n_ctx=3, d_model=4, n_head=2, n_layer=2, d_ff=8)
    >>> total, steps = predicted_ops(s)
    >>> total, steps[0], len(steps)
    (8335, 12, 4)
    """
    counts = shape_counts(replace(spec, activation="gelu"))

    def forward(comps: tuple[str, ...]) -> int:
        return sum(n for c in comps for n, _ in counts[c]["forward"].values())

    blocks = forward(tuple(c for c in counts if c not in ("embedding", "ln_f", "head",
                                                           "loss")))
    per_block = -(-blocks // spec.n_layer)
    return (total_ops(counts), [forward(("embedding",))] + [per_block] * spec.n_layer
            + [forward(("ln_f", "head", "loss"))])
