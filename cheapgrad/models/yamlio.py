"""YAML read with line numbers: every spec and circuit file goes through here.

:func:`parse_yaml` returns the data and, for every field (``hidden[1]``,
``sweep.depths``, ``let.u``...), the line it stands on; :func:`field_error` makes the
one-line :class:`~cheapgrad.errors.SpecError` that names file, line and field. Hostile
input (deep nesting, alias bombs, huge files, merge keys, foreign tags) is refused.

Example::

    >>> data, lines = parse_yaml("a: 1\\nb:\\n  - 2\\n  - x\\n", "f.yaml")
    >>> data, lines["b[1]"]
    ({'a': 1, 'b': [2, 'x']}, 4)
    >>> str(field_error("must be a number", "f.yaml", lines, "b[1].c"))
    'f.yaml:4: b[1].c: must be a number'
"""

from __future__ import annotations

import re
import stat
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import yaml

from cheapgrad.errors import SpecError


class _Loader(yaml.SafeLoader):
    """The safe loader, reading ``1e-3`` and ``2E5`` as numbers as YAML 1.2 does (PyYAML
    follows YAML 1.1, which wants a point: ``1.0e-3``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+$"),
    list("-+0123456789."),
)

#: Limits on what a spec file may hold: its size, its nesting, and its number of values
#: once YAML aliases are expanded (a few aliases can stand for billions of values).
MAX_FILE_BYTES = 1 << 20
MAX_DEPTH = 50
MAX_VALUES = 100_000


class _Reader:
    """Turns composed YAML nodes into plain data, recording the line of every field."""

    def __init__(self, path: str | None) -> None:
        self.path = path
        self.lines: dict[str, int] = {}
        self.values = 0
        self.constructor = _Loader("")

    def read(self, node: yaml.Node, prefix: str, depth: int) -> Any:
        self.values += 1
        if self.values > MAX_VALUES:
            raise SpecError(f"more than {MAX_VALUES:,} values (counting what YAML aliases "
                            "repeat): not a spec", path=self.path, line=node.start_mark.line + 1)
        if depth > MAX_DEPTH:
            raise SpecError(f"nested more than {MAX_DEPTH} levels deep", path=self.path,
                            line=node.start_mark.line + 1, field=prefix or None)
        if isinstance(node, yaml.MappingNode):
            out: dict[str, Any] = {}
            for key_node, value_node in node.value:
                key = self.read(key_node, prefix, depth + 1)
                if not isinstance(key, str):
                    raise SpecError(
                        f"keys must be names, got {key!r}", path=self.path,
                        line=key_node.start_mark.line + 1, field=prefix or None,
                    )
                name = f"{prefix}.{key}" if prefix else key
                if key in out:
                    raise SpecError("duplicate key", path=self.path,
                                    line=key_node.start_mark.line + 1, field=name)
                self.lines.setdefault(name, key_node.start_mark.line + 1)
                out[key] = self.read(value_node, name, depth + 1)
            return out
        if isinstance(node, yaml.SequenceNode):
            items = []
            for i, v in enumerate(node.value):
                self.lines.setdefault(f"{prefix}[{i}]", v.start_mark.line + 1)
                items.append(self.read(v, f"{prefix}[{i}]", depth + 1))
            return items
        # A scalar: the loader's constructor resolves its type (int, float, bool, null, str).
        try:
            return self.constructor.construct_object(node)
        except yaml.YAMLError:
            what = ("a merge key (<<)" if node.tag == "tag:yaml.org,2002:merge"
                    else f"the tag {node.tag}")
            raise SpecError(f"{what} is not supported in a spec", path=self.path,
                            line=node.start_mark.line + 1, field=prefix or None) from None


def parse_yaml(text: str, path: str | None = None) -> tuple[Any, dict[str, int]]:
    """Parse YAML text; return the data and a map from dotted field names to lines.

    Raises :class:`SpecError` for a syntax error (with its line), and for input that is
    nested too deeply or expands (through aliases) to too many values.
    """
    if len(text) > MAX_FILE_BYTES:
        raise SpecError(f"larger than {MAX_FILE_BYTES // 1024} KiB: not a spec", path=path)
    try:
        node = yaml.compose(text, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "invalid YAML"
        raise SpecError(f"YAML syntax error: {problem}", path=path, line=line) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", path=path) from None
    except RecursionError:
        raise SpecError(f"nested more than {MAX_DEPTH} levels deep", path=path) from None
    reader = _Reader(path)
    if node is None:
        return None, reader.lines
    return reader.read(node, "", 0), reader.lines


def read_text(path: str | Path) -> str:
    """Read a spec or circuit file, raising SpecError when it cannot be read, is not a
    regular file (a device such as ``/dev/zero`` or a FIFO would never end) or is larger
    than :data:`MAX_FILE_BYTES` (only that much is read)."""
    p = Path(path)
    try:
        if not stat.S_ISREG(p.stat().st_mode):
            if p.is_dir():
                raise SpecError("is a directory, not a spec file", path=str(path))
            raise SpecError("not a regular file (a device, FIFO or socket): name a spec "
                            "file", path=str(path))
        with p.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
        if len(data) > MAX_FILE_BYTES:
            raise SpecError(f"larger than {MAX_FILE_BYTES // 1024} KiB: not a spec",
                            path=str(path))
        # Universal newlines, as text mode reads them.
        return data.decode("utf-8").replace("\r\n", "\n").replace("\r", "\n")
    except FileNotFoundError:
        raise SpecError("no such file", path=str(path)) from None
    except IsADirectoryError:
        raise SpecError("is a directory, not a spec file", path=str(path)) from None
    except UnicodeDecodeError:
        raise SpecError("not a UTF-8 text file", path=str(path)) from None
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", path=str(path)) from None


def line_of(lines: Mapping[str, int], field: str | None) -> int | None:
    """The line of ``field``, else of the nearest enclosing field that has one
    (``sweep.depths[1]`` → ``sweep.depths`` → ``sweep``)."""
    while field:
        if field in lines:
            return lines[field]
        cut = max(field.rfind("."), field.rfind("["))
        field = field[:cut] if cut > 0 else ""
    return None


def field_error(message: str, source: str | None, lines: Mapping[str, int],
                field: str | None) -> SpecError:
    """A :class:`SpecError` naming ``source``, the line of ``field`` and the field."""
    return SpecError(message, path=source, line=line_of(lines, field), field=field or None)


def shown(value: Any) -> str:
    """A value as an error message names it: ``the text 'x'``, ``a list``, ``3``..."""
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the text {value!r}"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return repr(value)


def name_and_description(data: dict[str, Any], source: str | None, default: str,
                         fail: Callable[[str, str], SpecError]) -> tuple[str, str]:
    """The ``name`` (default: the file's stem, else ``default``) and ``description`` keys
    of a spec or circuit file, checked; ``fail(field, message)`` makes the error."""
    name = data.get("name", Path(source).stem if source else default)
    if not isinstance(name, str) or not name:
        raise fail("name", f"must be a non-empty text, got {shown(name)}")
    description = data.get("description", "")
    if not isinstance(description, str):
        raise fail("description", f"must be text, got {shown(description)}")
    return name, description
