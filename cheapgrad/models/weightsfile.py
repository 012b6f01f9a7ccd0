"""Weights files: the cost per op kind of the ``weighted`` cost model, as JSON.

``cheapgrad calibrate --out FILE`` writes one; ``--weights FILE`` (on ``run``, ``sweep``
and ``circuit``) and a spec's ``cost_weights: FILE`` read one. The file is a JSON object
whose ``weights`` maps **every** op kind of the op table to a finite number >= 0; other
keys (``method``, ``machine``, ``date``...) describe the measurement and are not read.
A file that is missing, not JSON, names an unknown op, gives a negative or non-finite
weight or leaves an op out is a :class:`~cheapgrad.errors.SpecError` naming the file
and the field: an op left out is never free.

Example::

    >>> import json, tempfile, os
    >>> from cheapgrad.core.ops import OP_NAMES
    >>> d = tempfile.mkdtemp()
    >>> path = os.path.join(d, "w.json")
    >>> with open(path, "w") as fh:
    ...     json.dump({"weights": {k: 2.0 for k in OP_NAMES}}, fh)
    >>> read_weights_file(path)["tanh"]
    2.0
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from cheapgrad.core.ops import OP_NAMES
from cheapgrad.errors import SpecError
from cheapgrad.models.yamlio import read_text, shown
from cheapgrad.util import did_you_mean

__all__ = ["check_weights", "read_weights_file"]


def read_weights_file(path: str | Path) -> dict[str, float]:
    """The complete, validated weights (op kind -> weight) of the weights file ``path``."""
    source = str(path)
    text = read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise SpecError(f"not a JSON weights file: {exc.msg}", path=source,
                        line=exc.lineno) from None
    except RecursionError:
        raise SpecError("not a JSON weights file: nested too deeply", path=source) from None
    if not isinstance(data, dict) or "weights" not in data:
        raise SpecError("not a weights file: expected a JSON object with 'weights' (op kind "
                        "-> cost), as `cheapgrad calibrate --out FILE` writes", path=source)
    return check_weights(data["weights"], source, "weights")


def check_weights(raw: Any, source: str | None, field: str) -> dict[str, float]:
    """Validate a complete mapping of every op kind to a finite weight >= 0.

    >>> check_weights({"add": 1}, None, "weights")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cheapgrad.errors.SpecError: weights: no weight for sub, mul, ...
    """
    if not isinstance(raw, dict):
        raise SpecError(f"must be a mapping of op kind to cost, got {shown(raw)}",
                        path=source, field=field)
    weights: dict[str, float] = {}
    for kind, w in raw.items():
        name = f"{field}.{kind}"
        if kind not in OP_NAMES:
            raise SpecError("unknown op kind" + did_you_mean(str(kind), OP_NAMES)
                            + f"; known: {', '.join(OP_NAMES)}", path=source, field=name)
        if isinstance(w, bool) or not isinstance(w, (int, float)):
            raise SpecError(f"must be a number >= 0, got {shown(w)}", path=source, field=name)
        if not (w >= 0 and math.isfinite(w)):
            raise SpecError(f"must be a finite number >= 0, got {w!r}", path=source,
                            field=name)
        weights[kind] = float(w)
    missing = [k for k in OP_NAMES if k not in weights]
    if missing:
        raise SpecError(f"no weight for {', '.join(missing)}: a weights file prices every op "
                        "kind (an op left out would be free)", path=source, field=field)
    return {k: weights[k] for k in OP_NAMES}
