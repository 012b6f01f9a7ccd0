"""The specs and circuits shipped inside the package, and finding a spec by path or name.

Example::

    >>> "lecture" in spec_names() and "logistic" in circuit_names()
    True
    >>> load_config("lecture").widths
    (4, 8, 8, 1)
"""

from __future__ import annotations

from collections.abc import Callable
from importlib import resources
from importlib.abc import Traversable
from pathlib import Path
from typing import Any

from cheapgrad.errors import SpecError
from cheapgrad.models.spec import Spec, load_spec, spec_from_yaml
from cheapgrad.models.transformer_spec import TransformerSpec, any_spec_from_yaml, load_any_spec
from cheapgrad.util import closest

#: The folders of the bundled files, inside the package.
SPECS = ("configs",)
CIRCUITS = ("configs", "circuits")


def _folder(folder: tuple[str, ...]) -> Traversable:
    path = resources.files("cheapgrad")
    for part in folder:
        path = path / part
    return path


def _names(folder: tuple[str, ...]) -> list[str]:
    path = _folder(folder)
    if not path.is_dir():
        return []
    return sorted(p.name[:-5] for p in path.iterdir() if p.name.endswith(".yaml"))


def _text(folder: tuple[str, ...], name: str) -> str:
    return (_folder(folder) / f"{name}.yaml").read_text("utf-8")


def spec_names() -> list[str]:
    """Names of the specs shipped inside the package (``cheapgrad example --list``)."""
    return _names(SPECS)


def spec_text(name: str) -> str:
    """The YAML text of a bundled spec."""
    return _text(SPECS, name)


def circuit_names() -> list[str]:
    """Names of the example circuit files shipped inside the package."""
    return _names(CIRCUITS)


def circuit_text(name: str) -> str:
    """The YAML text of a bundled example circuit."""
    return _text(CIRCUITS, name)


def load_config(config: str | None, default: str = "lecture") -> Spec:
    """A spec from a file path, or by name: ``NAME.yaml`` in the working folder if there
    is one, else the bundled spec of that name; without one, the bundled ``default``."""
    spec: Spec = _find(config, default, spec_from_yaml, load_spec)
    return spec


def load_any_config(config: str | None, default: str = "lecture") -> Spec | TransformerSpec:
    """As :func:`load_config`, an MLP or a transformer spec (``model: transformer``).

    >>> load_any_config("gpt2-small").parameters
    124439808
    """
    spec: Spec | TransformerSpec = _find(config, default, any_spec_from_yaml, load_any_spec)
    return spec


def _find(config: str | None, default: str, from_yaml: Callable[..., Any],
          load: Callable[[Path], Any]) -> Any:
    if config is None:
        return from_yaml(spec_text(default), source=f"{default} (bundled)")
    if not config.strip():
        raise SpecError("the spec's path is empty; name a file or a bundled spec "
                        f"({', '.join(spec_names())})")
    path = Path(config)
    names = spec_names()
    local = Path(f"{config}.yaml")
    if not path.exists() and not path.suffix and local.is_file():
        return load(local)  # ./wide.yaml wins over the bundled wide
    if not path.exists() and config in names:
        return from_yaml(spec_text(config), source=f"{config} (bundled)")
    if not path.exists():
        hint = _closest_bundled(config, names)
        if hint is not None:
            raise SpecError(f"no such file (a bundled spec is named '{hint}': "
                            f"use that name)", path=config)
    return load(path)


def _closest_bundled(config: str, names: list[str]) -> str | None:
    """The bundled name a missing path most likely meant (configs/wide.yaml, Lecture...)."""
    stem = Path(config).name.rsplit(".", 1)[0].lower()
    if stem in names:
        return stem
    return closest(stem, names, cutoff=0.7)
