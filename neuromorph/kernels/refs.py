"""Borrowed views: arrays the engine reads without numba's reference counting.

numba counts references to every array: each copy of an array (a slice, an argument
of an inlined helper, a bundle passed on) costs an atomic increment and decrement
that numba's pruning pass cannot remove from a function as large as the engine's
loop -- a quarter of a step at 4,000 neurons. The engine's bundles stay alive for a
whole :func:`~neuromorph.kernels.engine.run_steps` call (its caller holds them), so
inside it the arrays can be *borrowed*: the same arrays with no memory-info pointer,
for which numba's increment and decrement are a null test. A borrowed array must not
outlive the call that borrowed it (never returned or stored).
"""
from __future__ import annotations

from numba import types
from numba.core import cgutils
from numba.extending import intrinsic


@intrinsic
def borrow(typingctx, bundle):
    """The tuple (or named tuple) ``bundle`` with each array borrowed (see the module
    docstring); other fields are copied."""
    if not isinstance(bundle, types.BaseTuple):
        return None

    def codegen(context, builder, sig, args):
        (value,) = args
        for i, ty in enumerate(sig.args[0].types):
            if isinstance(ty, types.Array):
                ary = context.make_array(ty)(context, builder,
                                             value=builder.extract_value(value, i))
                ary.meminfo = cgutils.get_null_value(ary.meminfo.type)
                value = builder.insert_value(value, ary._getvalue(), i)
        return value

    return bundle(bundle), codegen


__all__ = ["borrow"]
