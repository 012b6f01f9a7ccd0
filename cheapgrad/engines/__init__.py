"""Engines: the counted forward pass, loss and backprop of a net, and their registry.

``scalar`` (:mod:`cheapgrad.engines.scalar`) runs every op on a counted scalar; ``array``
(:mod:`cheapgrad.engines.array`) counts numpy operations by shape; ``auto`` picks one by
the predicted size. Each one is an :class:`Engine`; :data:`ENGINES` lists them.
"""

from cheapgrad.engines.registry import (
    AUTO_SCALAR_MAX_OPS,
    DEFAULT_ENGINE,
    ENGINES,
    Engine,
    EngineError,
    EngineInfo,
    resolve_engine,
)

__all__ = [
    "AUTO_SCALAR_MAX_OPS", "DEFAULT_ENGINE", "ENGINES", "Engine", "EngineError", "EngineInfo",
    "resolve_engine",
]
