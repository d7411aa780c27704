"""Atomics and a spin barrier for a team of threads that stays in one parallel region.

numba's CPU target has no atomic operations; these intrinsics emit LLVM's atomic
instructions on an ``int64`` array element (portable: LLVM lowers them on every CPU
it targets, and they use no host library). They let the engine keep its threads in one
parallel region for a whole chunk of steps (:func:`neuromorph.kernels.engine.run_steps`)
and meet at a barrier twice a step (~0.1-0.3 us on two cores) instead of opening a
parallel region per step (~4 us).

Layout of a team's control array ``sync`` (int64, :func:`team_size` entries): word
``CHECK_IN`` counts the threads that joined (or holds ``ABORTED``), words ``SHARED``
onwards carry values the team's leader publishes, and thread ``t``'s barrier flag is
word ``FLAGS + 8 t`` (one 64-byte cache line per thread, so the spinning threads read
lines that only their owner writes).
"""
from __future__ import annotations

from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

CHECK_IN = 0
SHARED = 8  # 8 words: values the leader publishes to the team
FLAGS = 16
ABORTED = -1
#: spins a thread waits at check-in for the others before the team gives up (the
#: threading layer did not run every member at once): ~0.1-1 s
CHECK_IN_SPINS = 200_000_000


def team_size(n_threads):
    """Length of the ``sync`` array of a team of ``n_threads``."""
    return FLAGS + 8 * n_threads


def _element_pointer(context, builder, arr_type, arr, idx):
    ary = context.make_array(arr_type)(context, builder, arr)
    return cgutils.get_item_pointer(context, builder, arr_type, ary, [idx])


def _check_int64_array(arr):
    if not (isinstance(arr, types.Array) and arr.dtype == types.int64 and arr.ndim == 1):
        raise TypeError("sync intrinsics take a 1-d int64 array")


@intrinsic
def atomic_load(typingctx, arr, idx):
    """``arr[idx]`` read with acquire ordering."""
    _check_int64_array(arr)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        return builder.load_atomic(ptr, ordering="acquire", align=8)

    return types.int64(arr, types.intp), codegen


@intrinsic
def atomic_store(typingctx, arr, idx, value):
    """``arr[idx] = value`` with release ordering."""
    _check_int64_array(arr)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        val = context.cast(builder, args[2], sig.args[2], types.int64)
        builder.store_atomic(val, ptr, ordering="release", align=8)
        return context.get_dummy_value()

    return types.void(arr, types.intp, types.int64), codegen


@intrinsic
def compare_and_swap(typingctx, arr, idx, expected, value):
    """Atomically: if ``arr[idx] == expected``, set it to ``value``. Returns whether it did."""
    _check_int64_array(arr)

    def codegen(context, builder, sig, args):
        ptr = _element_pointer(context, builder, sig.args[0], args[0], args[1])
        exp = context.cast(builder, args[2], sig.args[2], types.int64)
        val = context.cast(builder, args[3], sig.args[3], types.int64)
        res = builder.cmpxchg(ptr, exp, val, "acq_rel", "acquire")
        return builder.zext(builder.extract_value(res, 1), context.get_value_type(types.boolean))

    return types.boolean(arr, types.intp, types.int64, types.int64), codegen


@njit(cache=True, nogil=True)
def check_in(sync, n_threads):
    """Join the team; returns False if the team gave up (then no member does any work).

    Every member increments ``sync[CHECK_IN]`` and waits until all ``n_threads`` are in.
    A member that waits :data:`CHECK_IN_SPINS` spins marks the team ``ABORTED`` -- only
    while it is incomplete, so either every member works or none does.
    """
    while True:
        c = atomic_load(sync, CHECK_IN)
        if c == ABORTED:
            return False
        if compare_and_swap(sync, CHECK_IN, c, c + 1):
            break
    spins = 0
    while True:
        c = atomic_load(sync, CHECK_IN)
        if c == n_threads:
            return True
        if c == ABORTED:
            return False
        spins += 1
        if spins > CHECK_IN_SPINS and compare_and_swap(sync, CHECK_IN, c, ABORTED):
            return False


@njit(cache=True, nogil=True, inline="always")
def barrier(sync, t, n_threads, epoch):
    """Thread ``t`` waits until all ``n_threads`` members reached barrier number ``epoch``
    (1, 2, ... within a team's life); writes before it are visible to all after it."""
    atomic_store(sync, FLAGS + 8 * t, epoch)
    for o in range(n_threads):
        while atomic_load(sync, FLAGS + 8 * o) < epoch:
            pass
