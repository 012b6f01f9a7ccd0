"""``cheapgrad bench`` runs end to end on tiny nets (no timing is asserted)."""

from __future__ import annotations

import json
from typing import Any

from cheapgrad.analysis.baselines import bare_forward_backward, numpy_forward_backward
from cheapgrad.analysis.bench import tanh_spec
from cheapgrad.cli.app import main
from cheapgrad.core.counter import Counter
from cheapgrad.engines.scalar import scalar_engine
from cheapgrad.models.mlp import init_params


def test_bench_quick_json(cli: Any) -> None:
    res = cli.invoke(main, ["bench", "--quick", "--repeat", "1", "--format", "json"])
    assert res.exit_code == 0, res.output
    doc = json.loads(res.stdout)
    assert doc["checks_passed"] is True
    names = {row["name"] for row in doc["rows"]}
    assert {"scalar engine", "array engine", "bare counting wrapper"} <= names
    for row in doc["rows"]:
        assert row["ops"] > 0 and row["seconds"] > 0
    assert doc["machine"]["python"].startswith("3.")


def test_bench_quick_markdown(cli: Any) -> None:
    res = cli.invoke(main, ["bench", "--quick", "--repeat", "1", "--format", "markdown"])
    assert res.exit_code == 0, res.output
    assert "| scalar engine |" in res.stdout
    assert "cheapgrad bench --format markdown --repeat 1 --quick" in res.stdout


def test_baselines_compute_what_the_engine_computes() -> None:
    spec = tanh_spec(6, [5, 4], 1)
    params = init_params(spec)
    counter = Counter()
    out = scalar_engine(spec, params, counter)
    loss, grads = numpy_forward_backward(params)
    assert abs(loss - out.loss) <= 1e-12 * max(1.0, abs(loss))
    for g, h in zip(grads, out.grads.W, strict=True):
        assert abs(g - h).max() <= 1e-12
    # The bare wrapper executes as many ops as the counted engine.
    assert bare_forward_backward(params) == counter.totals().total
