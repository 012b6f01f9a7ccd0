"""Checkpointing a transformer: the chain of embedding, blocks and head on counted arrays,
every strategy bit for bit against store-all and the ordinary run, its evaluations,
memory and ops; the CLI in every format and its bad input."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from conftest import invoke_json, one_line_error

from cheapgrad.analysis import checkpoint as ck
from cheapgrad.analysis.checkpoint import (
    checkpoint,
    default_strategies,
    estimated_ops,
    run_strategies,
)
from cheapgrad.analysis.checkpoint.binomial import untaped
from cheapgrad.analysis.checkpoint.schedules import Strategy, actions, parse_strategy
from cheapgrad.analysis.checkpoint.transformer import predicted_ops, transformer_chain
from cheapgrad.cli.app import main
from cheapgrad.core.counter import Counter
from cheapgrad.errors import TooLargeError
from cheapgrad.models.bundled import load_any_config
from cheapgrad.models.transformer_spec import TransformerSpec

#: A deeper toy (l = 8) and variants: relu, no bias, an untied head.
DEEP = TransformerSpec(vocab=11, n_ctx=5, d_model=8, n_head=2, n_layer=6, d_ff=16,
                       name="deep-toy", seed=3)
VARIANTS = [
    TransformerSpec(vocab=7, n_ctx=4, d_model=6, n_head=3, n_layer=3, d_ff=10,
                    activation="relu", bias=False, tied_embeddings=False, batch=3, seed=5),
    TransformerSpec(vocab=9, n_ctx=3, d_model=4, n_head=1, n_layer=1, d_ff=8, batch=1),
]


def step_ops(chain: object) -> list[int]:
    """Each step's forward ops, every step run once untaped."""
    out, state = [], chain.initial  # type: ignore[attr-defined]
    for step in chain.steps:  # type: ignore[attr-defined]
        c = Counter()
        state, _ = step.run(state, c, False)
        out.append(c.totals().total)
    return out


@pytest.fixture(scope="module")
def tiny() -> ck.CheckpointResult:
    spec = load_any_config("gpt-tiny")
    assert isinstance(spec, TransformerSpec)
    return checkpoint(spec, default_strategies(spec.n_layer + 2))


def test_gpt_tiny_every_strategy_bit_for_bit(tiny: ck.CheckpointResult) -> None:
    assert tiny.steps == 4 and tiny.run_identical is True and tiny.all_identical
    names = [r.strategy for r in tiny.rows]
    assert names == default_strategies(4)
    assert all(r.identical for r in tiny.rows)


def test_gpt_tiny_evaluations_memory_and_ops(tiny: ck.CheckpointResult) -> None:
    spec = load_any_config("gpt-tiny")
    assert isinstance(spec, TransformerSpec)
    per_step = step_ops(transformer_chain(spec))
    assert sum(per_step) == tiny.cost_f
    l = tiny.steps  # noqa: E741
    reference = tiny.reference
    assert reference is not None
    for row in tiny.rows:
        strategy = parse_strategy(row.strategy, l)
        run = row.run
        assert run.taped == l
        # the extra cost is the re-run forward steps, nothing else: reverse ops as store-all
        assert run.counts["reverse"].total == reference.counts["reverse"].total
        assert run.counts["taped"].total == tiny.cost_f
        rerun = [i for kind, i in actions(strategy, l) if kind == "advance"]
        assert run.counts["untaped"].total == sum(per_step[i] for i in rerun)
        assert len(rerun) == run.untaped
        if strategy.kind == "revolve":
            assert strategy.number is not None
            assert run.untaped == untaped(l, min(strategy.number, l)) == row.bound
            assert run.peak_values <= tiny.memory_bound(strategy.number)
            assert run.snapshots <= strategy.number
        if strategy.kind == "segments":
            k = strategy.number
            assert k is not None
            assert run.evaluations == l + (k - 1) * (l // k)
        assert run.peak_values <= tiny.store_all_peak
    rows = {r.strategy: r for r in tiny.rows}
    assert rows["revolve:1"].run.peak_values < rows["store-all"].run.peak_values
    assert rows["store-all"].ratio < rows["sqrt"].ratio < rows["recompute-all"].ratio


@pytest.mark.parametrize("spec", [DEEP, *VARIANTS], ids=lambda s: s.name + s.activation)
def test_deeper_and_variant_chains(spec: TransformerSpec) -> None:
    """l = n_layer + 2 steps, every S and K; relu, no bias, an untied head, batch 1."""
    l = spec.n_layer + 2  # noqa: E741
    result = checkpoint(spec, default_strategies(l, range(1, l + 1)))
    assert result.steps == l and result.run_identical is True and result.all_identical
    reference = result.reference
    assert reference is not None
    for row in result.rows:
        strategy = parse_strategy(row.strategy, l)
        assert row.run.counts["reverse"].total == reference.counts["reverse"].total
        if strategy.kind == "revolve":
            assert strategy.number is not None
            assert row.run.untaped == untaped(l, strategy.number)
            assert row.run.peak_values <= result.memory_bound(strategy.number)
        if strategy.kind == "segments":
            assert strategy.number is not None
            assert row.run.evaluations == l + (strategy.number - 1) * (l // strategy.number)


def test_the_chain_is_the_ordinary_run_on_given_weights() -> None:
    """On other weights and tokens than the seed's, store-all is still the run bit for
    bit; a changed gradient is caught."""
    from cheapgrad.analysis.transformer import run_transformer
    from cheapgrad.models.transformer import init_params
    from cheapgrad.models.transformer_weights import TransformerWeights

    spec = VARIANTS[1]
    params = {k: v * 1.5 + 0.01 for k, v in init_params(spec).items()}
    idx = np.array([[2, 2, 8]])
    targets = np.array([[0, 2, 5]])
    run = run_transformer(spec, "array", check=False,
                          weights=TransformerWeights(params, idx, targets, "test", True))
    assert run.gradients is not None and run.loss is not None
    result = run_strategies(transformer_chain(spec, params, idx, targets), spec,
                            [Strategy("revolve", 2)])
    fwd, bwd = run.phases["forward"].total, run.phases["backward"].total
    ck.compare_with_run(result, spec, run.gradients, run.loss, fwd, bwd)
    assert result.run_identical is True
    bad = dict(run.gradients)
    bad["transformer.wte.weight"] = bad["transformer.wte.weight"] * (1 + 1e-15)
    ck.compare_with_run(result, spec, bad, run.loss, fwd, bwd)
    assert result.run_identical is False and not result.all_identical
    ck.compare_with_run(result, spec, run.gradients, run.loss, fwd, bwd + 1)
    assert result.run_identical is False


def test_estimate_is_the_closed_form() -> None:
    spec = load_any_config("gpt-tiny")
    assert isinstance(spec, TransformerSpec)
    total, per = predicted_ops(spec)
    assert per == step_ops(transformer_chain(spec))
    assert estimated_ops(spec, Strategy("store-all")) == total
    assert estimated_ops(spec, Strategy("revolve", 1)) == total + 6 * max(per)
    with pytest.raises(TooLargeError, match=r"gpt2-small: .*over the limit of 1,000,000,000"):
        checkpoint(load_any_config("gpt2-small"), ["sqrt"])  # type: ignore[arg-type]
    with pytest.raises(TooLargeError, match="raise --max-ops"):
        checkpoint(spec, ["sqrt"], max_ops=1000)


# --- the CLI ----------------------------------------------------------------------------


def test_checkpoint_command_every_format(cli: CliRunner, tmp_path: Path) -> None:
    table = cli.invoke(main, ["checkpoint", "gpt-tiny", "--snapshots", "1,2"])
    assert table.exit_code == 0, table.output
    assert "gpt-tiny: a chain of 4 steps" in table.output
    assert "equal the ordinary run's" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 80
    doc = invoke_json(cli, "checkpoint", "gpt-tiny", "--format", "json")
    assert doc["steps"] == 4 and doc["run_identical"] is True and doc["all_identical"]
    assert len(doc["rows"]) == len(default_strategies(4))
    rows = list(csv.DictReader(io.StringIO(cli.invoke(
        main, ["checkpoint", "gpt-tiny", "--strategy", "revolve:2", "--format", "csv"]).stdout)))
    assert [(r["strategy"], r["untaped"], r["identical"]) for r in rows] == [
        ("revolve:2", "4", "True")]
    out = tmp_path / "t.md"
    md = cli.invoke(main, ["checkpoint", "gpt-tiny", "--strategy", "sqrt", "--format",
                           "markdown", "-o", str(out)])
    assert md.exit_code == 0 and "| sqrt | 1 | 4 | 2 | 6 | 6 |" in out.read_text()
    assert invoke_json(cli, "checkpoint", "lecture", "--format", "json")[
        "run_identical"] is None


def test_run_with_checkpoint_every_format(cli: CliRunner) -> None:
    doc = invoke_json(cli, "run", "gpt-tiny", "--checkpoint", "revolve:2", "--format", "json")
    assert doc["passed"] and doc["checkpoint"]["run_identical"] is True
    (row,) = doc["checkpoint"]["rows"]
    assert row["strategy"] == "revolve:2" and row["untaped"] == 4 and row["identical"]
    md = cli.invoke(main, ["run", "gpt-tiny", "--checkpoint", "sqrt", "--format", "markdown"])
    assert md.exit_code == 0 and "## Checkpointing: gpt-tiny" in md.stdout
    table = cli.invoke(main, ["run", "gpt-tiny", "--checkpoint", "segments:2"])
    assert table.exit_code == 0 and "segments:2" in table.output
    plain = invoke_json(cli, "run", "gpt-tiny", "--format", "json")
    assert "checkpoint" not in plain


def test_run_with_checkpoint_on_loaded_weights(cli: CliRunner, tmp_path: Path) -> None:
    path = tmp_path / "w.npz"
    saved = cli.invoke(main, ["run", "gpt-tiny", "--save-arrays", str(path), "--format", "csv"])
    assert saved.exit_code == 0, saved.output
    doc = invoke_json(cli, "run", "gpt-tiny", "--load-weights", str(path), "--checkpoint",
                      "revolve:1", "--format", "json")
    assert doc["passed"] and doc["checkpoint"]["run_identical"] is True
    assert doc["checkpoint"]["all_identical"]


@pytest.mark.parametrize("args, needle", [
    (["run", "gpt-tiny", "--checkpoint", "revolve:0"], "revolve:0: S must be at least 1"),
    (["run", "gpt-tiny", "--engine", "shapes", "--checkpoint", "sqrt"],
     "use --engine array or auto, not shapes"),
    (["run", "gpt-tiny", "--engine", "scalar", "--checkpoint", "sqrt"],
     "use --engine array or auto, not scalar"),
    (["run", "gpt2-small", "--checkpoint", "sqrt"], "over the limit of 1,000,000,000"),
    (["checkpoint", "gpt-tiny", "--strategy", "segments:5"],
     "K = 5 segments is more than the chain's 4 steps"),
    (["checkpoint", "gpt-tiny", "--strategy", "revolv:2"], "did you mean 'revolve'?"),
    (["checkpoint", "gpt-tiny", "--max-ops", "1000"], "over the limit of 1,000;"),
    (["checkpoint", "gpt2-small"], "gpt2-small: these strategies would count about"),
])
def test_bad_input_is_one_line(cli: CliRunner, args: list[str], needle: str) -> None:
    one_line_error(cli.invoke(main, args), needle)


def test_exit_1_when_the_run_differs(cli: CliRunner, monkeypatch: pytest.MonkeyPatch
                                     ) -> None:
    def differ(result: ck.CheckpointResult, *args: object) -> None:
        result.run_identical = False

    monkeypatch.setattr(ck, "compare_with_run", differ)
    result = cli.invoke(main, ["checkpoint", "gpt-tiny", "--strategy", "sqrt"])
    assert result.exit_code == 1 and "DIFFER from the ordinary run's" in result.output
