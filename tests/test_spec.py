"""Spec reading: valid specs, and every mistake a student makes gets one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import spec_error

from cheapgrad.errors import SpecError
from cheapgrad.models.spec import load_spec, spec_from_dict, spec_from_yaml
from cheapgrad.models.transformer_spec import load_any_spec

GOOD = """\
name: t
input_dim: 4
hidden: [8, 8]
activation: tanh
outputs: 1
bias: false
loss: squared
seed: 0
"""


def test_a_valid_spec_reads_with_defaults():
    s = spec_from_yaml("input_dim: 3\nhidden: [2]\nactivation: relu\n", source="x.yaml")
    assert s.name == "x" and s.widths == (3, 2, 1) and s.activations == ("relu",)
    assert (s.outputs, s.bias, s.loss, s.seed, s.batch) == (1, False, "squared", 0, 1)
    assert s.parameters == 3 * 2 + 2 and s.nodes == 3


def test_parameters_and_nodes_count_biases():
    s = spec_from_yaml(GOOD.replace("bias: false", "bias: true"))
    assert s.parameters == 4 * 8 + 8 * 8 + 8 + (8 + 8 + 1)
    assert s.nodes == 17


def test_empty_hidden_is_a_linear_model_and_null_is_empty():
    assert spec_from_yaml("input_dim: 2\nhidden: []\nactivation: identity\n").depth == 0
    assert spec_from_yaml("input_dim: 2\nhidden:\nactivation: identity\n").depth == 0


def test_one_activation_per_layer():
    s = spec_from_yaml("input_dim: 2\nhidden: [3, 4]\nactivation: [tanh, relu]\n")
    assert s.activations == ("tanh", "relu")


def test_bundled_specs_are_valid():
    folder = Path(__file__).parent.parent / "cheapgrad" / "configs"
    names = sorted(p.name for p in folder.glob("*.yaml"))
    assert "lecture.yaml" in names and len(names) >= 4
    for name in names:
        load_any_spec(folder / name)  # MLP specs, and transformer specs (model: transformer)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (GOOD.replace("hidden: [8, 8]", "hidden: [8, 0]"),
         "s.yaml:3: hidden[1]: must be a positive integer, got 0"),
        (GOOD.replace("hidden: [8, 8]", "hidden: [8, -2]"),
         "s.yaml:3: hidden[1]: must be a positive integer, got -2"),
        (GOOD.replace("hidden: [8, 8]", "hidden: [8, 2.5]"),
         "s.yaml:3: hidden[1]: must be an integer, got 2.5"),
        (GOOD.replace("hidden: [8, 8]", "hidden: [8, 8.0]"),
         "s.yaml:3: hidden[1]: must be a whole number (write 8), got 8.0"),
        (GOOD.replace("hidden: [8, 8]", "hidden: 8"),
         "s.yaml:3: hidden: must be a list of widths, e.g. [8], got 8"),
        (GOOD.replace("input_dim: 4", "input_dim: four"),
         "s.yaml:2: input_dim: must be an integer, got the text 'four'"),
        (GOOD.replace("activation: tanh", "activation: tanhh"),
         "s.yaml:4: activation: unknown activation 'tanhh' (did you mean 'tanh'?); "
         "known: identity, tanh, sigmoid, relu, square"),
        (GOOD.replace("activation: tanh", "activation: [tanh]"),
         "s.yaml:4: activation: a list of activations needs one per hidden layer: "
         "got 1 for 2 hidden layers"),
        (GOOD.replace("activation: tanh", "activation: [tanh, 3]"),
         "s.yaml:4: activation[1]: must be an activation name, got 3"),
        (GOOD.replace("bias: false", "bias: yes please"),
         "s.yaml:6: bias: must be true or false, got the text 'yes please'"),
        (GOOD.replace("loss: squared", "loss: hinge"),
         "s.yaml:7: loss: unknown loss 'hinge'; known: squared"),
        (GOOD.replace("seed: 0", "seed: -1"),
         "s.yaml:8: seed: must be an integer >= 0, got -1"),
        (GOOD + "widht: 3\n",
         "s.yaml:9: widht: unknown key; known keys: name, description, input_dim, hidden, "
         "activation, outputs, bias, loss, seed, batch, sweep, cost_weights"),
        (GOOD + "hiden: [3]\n",
         "s.yaml:9: hiden: unknown key (did you mean 'hidden'?); known keys: name, "
         "description, input_dim, hidden, activation, outputs, bias, loss, seed, batch, sweep, "
         "cost_weights"),
        (GOOD + "seed: 1\n", "s.yaml:9: seed: duplicate key"),
        (GOOD.replace("outputs: 1", "outputs: 0"),
         "s.yaml:5: outputs: must be a positive integer, got 0"),
        (GOOD.replace("hidden: [8, 8]", "hidden: [100000000]"),
         "s.yaml:3: hidden[0]: must be at most 10,000,000, got 100,000,000"),
        (GOOD.replace("hidden: [8, 8]", "hidden: [100000, 100000, 100000]"),
         "s.yaml:3: hidden: 20,000,500,000 parameters is more than the 200,000,000 "
         "cheapgrad can hold"),
        ("input_dim: 3\nactivation: tanh\n", "s.yaml: hidden: missing required key 'hidden'"),
        ("", "s.yaml: the spec is empty"),
        ("- 1\n- 2\n", "s.yaml:1: a spec must be a mapping of keys to values, got a list"),
    ],
)
def test_bad_specs_name_file_line_and_field(text: str, expected: str) -> None:
    assert spec_error(text) == expected


def test_yaml_syntax_error_names_the_line():
    message = spec_error("input_dim: 4\nhidden: [8, 8\nactivation: tanh\n")
    assert message.startswith("s.yaml:")
    assert "YAML syntax error" in message


def test_missing_file_and_directory(tmp_path: Path):
    with pytest.raises(SpecError, match=r"nope\.yaml: no such file"):
        load_spec(tmp_path / "nope.yaml")
    with pytest.raises(SpecError, match="is a directory"):
        load_spec(tmp_path)


def test_non_utf8_file(tmp_path: Path):
    p = tmp_path / "bin.yaml"
    p.write_bytes(b"\xff\xfe\x00binary")
    with pytest.raises(SpecError, match="not a UTF-8 text file"):
        load_spec(p)


def test_dict_specs_validate_too():
    with pytest.raises(SpecError, match="hidden\\[0\\]: must be a positive integer"):
        spec_from_dict({"input_dim": 1, "hidden": [0], "activation": "tanh"})
    with pytest.raises(SpecError, match="must be an integer, got True"):
        spec_from_dict({"input_dim": True, "hidden": [], "activation": "tanh"})
