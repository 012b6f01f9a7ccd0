"""Reading and writing ``.npz`` files of named arrays, each failure one line.

:func:`write_npz` writes arrays (``--save-arrays`` of ``cheapgrad run``, MLP or
transformer); :func:`read_npz` reads one back (``--load-weights``): a file that is
missing, a folder, not an ``.npz`` archive (a ``.npy`` array, text, a damaged zip),
holds pickled objects or cannot be read is a :class:`~cheapgrad.errors.SpecError`
naming the file. Refusing to overwrite is the caller's (``cli.common.check_writable``).

Example::

    >>> import os, tempfile
    >>> import numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "a.npz")
    >>> write_npz(path, {"w": np.ones(2)})
    >>> read_npz(path)["w"]
    array([1., 1.])
    >>> read_npz(os.path.join(os.path.dirname(path), "nope.npz"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    cheapgrad.errors.SpecError: ...nope.npz: no such file
"""

from __future__ import annotations

import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from cheapgrad.errors import CheapgradError, SpecError

__all__ = ["read_npz", "write_npz"]


def read_npz(path: str | Path) -> dict[str, np.ndarray]:
    """Every array of the ``.npz`` file ``path`` by name (no pickled objects)."""
    source = str(path)
    p = Path(path)
    if p.is_dir():
        raise SpecError("is a directory, not an .npz file", path=source)
    try:
        data = np.load(p, allow_pickle=False)
    except FileNotFoundError:
        raise SpecError("no such file", path=source) from None
    except PermissionError:
        raise SpecError("cannot read: permission denied", path=source) from None
    except (OSError, ValueError, EOFError, zipfile.BadZipFile):
        raise SpecError("not an .npz file (write one with numpy.savez)", path=source) from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise SpecError("a single .npy array, not an .npz file of named arrays "
                        "(write one with numpy.savez)", path=source)
    out = {}
    with data:
        for name in data.files:
            try:
                out[name] = data[name]
            except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
                reason = "holds Python objects" if "pickle" in str(exc) else "is damaged"
                raise SpecError(f"array {reason}: {exc}".split("\n")[0], path=source,
                                field=name) from None
    return out


def write_npz(path: str | Path, arrays: Mapping[str, np.ndarray]) -> None:
    """Write ``arrays`` to ``path`` (uncompressed ``numpy.savez``)."""
    try:
        with open(path, "wb") as fh:
            np.savez(fh, **arrays)  # type: ignore[arg-type]
    except OSError as exc:
        raise CheapgradError(f"{path}: cannot write: {exc.strerror or exc}") from None
