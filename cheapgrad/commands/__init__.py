"""Command modules: each defines one click command named ``command``; ``cheapgrad.cli``
adds them all to the ``cheapgrad`` group."""
