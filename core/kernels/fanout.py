"""Run a chunk kernel on Numba's threads without compiling it a second time.

A chunk kernel computes part t of nt of a batch: `kernel(t, nt, *args)`, returning
nothing. The obvious way to run its parts in parallel is a `prange` that calls it. But
Numba builds every compiled function as one self-contained piece of machine code: a
parallel function that calls a kernel copies the kernel (and all it calls) into itself and
optimises and compiles the copy again, three times over (the loop body, its thread
wrapper, the function itself). For the Winograd convolution that was 42 of the 195
processor seconds a first-ever launch spent compiling (`benchmarks/compile_times.py`).

`run` instead hands one small parallel function (`fan`) the address of the kernel's
already compiled machine code; `fan` calls it through that address on each thread. So
`fan` compiles in well under a second for any kernel, and the kernel compiles once. The
call costs what a call of a parallel function costs (~2 us,
`benchmarks/fanout_overhead.py`); `in_turn` runs the parts one after another on the
caller's thread instead (no parallel launch), `fan_or_here` does so in compiled code.

Safety: the kernel is compiled for exactly the argument types `fan` was compiled for,
and `fan` checks that at every call. Each specialisation of `fan` carries a tag of its
argument types; an address comes with the tag of the types it was compiled for, and `fan`
calls it only when the two agree (otherwise it returns its own tag, and `with_address` looks up
or compiles the kernel for those types and calls again). A wrong address can never be
called with arguments it does not expect.
"""
from __future__ import annotations

import zlib

import numpy as np
from llvmlite import ir
from numba import njit, prange, typeof, types
from numba.extending import intrinsic

from . import _threads

#: what fan returns when every part ran (a mismatch returns a positive tag)
RAN = 0
#: a part raised (an allocation failed, say): Numba's threads cannot say which exception
FAILED = -1


def signature_tag(argtypes) -> int:
    """A positive number naming a tuple of Numba types (stable across processes: it is
    what a cached `fan` compares with)."""
    return (zlib.crc32(repr(tuple(argtypes)).encode()) & 0x7FFFFFFF) or 1


@intrinsic
def _call_at(typingctx, addr, tag, t, nt, args):
    """Call the kernel at `addr` as kernel(t, nt, *args) if `tag` names these argument
    types: RAN, FAILED, or (nothing called) the tag this call expected."""
    argtypes = (types.int64, types.int64) + tuple(args.types)
    expected = signature_tag(argtypes)

    def codegen(context, builder, sig, llargs):
        addr_v, tag_v, t_v, nt_v, tup = llargs
        i64 = ir.IntType(64)
        out = builder.alloca(i64)
        builder.store(ir.Constant(i64, expected), out)
        agree = builder.icmp_signed("==", tag_v, ir.Constant(tag_v.type, expected))
        with builder.if_then(agree, likely=True):
            fnty = context.call_conv.get_function_type(types.none, argtypes)
            fn = builder.inttoptr(addr_v, fnty.as_pointer())
            values = [context.cast(builder, t_v, sig.args[2], types.int64),
                      context.cast(builder, nt_v, sig.args[3], types.int64)]
            values += [builder.extract_value(tup, i) for i in range(len(args.types))]
            status, _ = context.call_conv.call_function(builder, fn, types.none, argtypes,
                                                        values)
            builder.store(builder.select(status.is_error, ir.Constant(i64, FAILED),
                                         ir.Constant(i64, RAN)), out)
        return builder.load(out)

    return types.int64(addr, tag, t, nt, args), codegen


@njit(cache=True, nogil=True, parallel=True)
def fan(addr, tag, nt, args):
    """kernel(t, nt, *args) for t < nt on Numba's threads, the kernel given by its address
    and tag (`with_address`): RAN, FAILED, or the tag these argument types have."""
    status = np.zeros(nt, dtype=np.int64)
    for t in prange(nt):
        status[t] = _call_at(addr, tag, t, nt, args)
    for t in range(nt):
        if status[t] != RAN:
            return status[t]
    return RAN


@njit(cache=True, nogil=True)
def fan_or_here(addr, tag, nt, args):
    """`fan` from compiled code; one part runs here, on the calling thread alone (no
    parallel launch, no worker woken for nothing)."""
    if nt > 1:
        return fan(addr, tag, nt, args)
    return _call_at(addr, tag, 0, 1, args)


class _Kernel:
    """A chunk kernel's compiled addresses, one per signature tag."""

    __slots__ = ("kernel", "addresses", "last")

    def __init__(self, kernel):
        self.kernel = kernel
        self.addresses: dict[int, int] = {}
        self.last = (0, 0)  # (address, tag) of the latest call: the usual next one

    def address(self, args):
        """(address, tag) of the kernel compiled for these arguments (compiled or loaded
        from Numba's cache the first time)."""
        return self.address_of_types(tuple(typeof(a) for a in args))

    def address_of_types(self, argtypes):
        argtypes = (types.int64, types.int64) + tuple(argtypes)
        tag = signature_tag(argtypes)
        addr = self.addresses.get(tag)
        if addr is None:
            self.kernel.compile(argtypes)
            cres = self.kernel.overloads[argtypes]
            addr = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
            self.addresses[tag] = addr
        return addr, tag


_kernels: dict = {}


def _entry(kernel) -> _Kernel:
    k = _kernels.get(kernel)
    if k is None:
        k = _kernels[kernel] = _Kernel(kernel)
    return k


def address_for(kernel, argtypes) -> tuple[int, int]:
    """(address, tag) of kernel(t, nt, *args) compiled for args of these Numba types, for
    compiled code that calls `fan` (or `fan_or_here`) itself."""
    return _entry(kernel).address_of_types(argtypes)


def run(kernel, nt: int, args: tuple) -> None:
    """kernel(t, nt, *args) for every t in range(nt), on Numba's threads (one part each;
    call under _threads.PARALLEL_LOCK, or through `_threads.one_thread` for one thread).
    `kernel` is an @njit function returning nothing; args a tuple."""
    with_address(kernel, args, lambda addr, tag: fan(addr, tag, nt, args))


def with_address(kernel, args: tuple, call) -> None:
    """call(addr, tag) with the address of `kernel` compiled for kernel(t, nt, *args) and
    its tag: call passes them on to `fan` (from Python, or from a compiled loop that calls
    `fan` several times and returns the first status that is not RAN at once).

    The address of the kernel's latest call is tried first, without looking at the
    arguments; if `fan` expected other types it ran nothing and said which, and the call
    is repeated with the address for those (compiled the first time they are seen)."""
    k = _entry(kernel)
    addr, tag = k.last
    if addr:
        status = call(addr, tag)
        if status <= 0:
            _check(kernel, status)
            return
        addr, tag = k.addresses.get(status, 0), status
    if not addr:
        addr, tag = k.address(args)
    k.last = (addr, tag)
    status = call(addr, tag)
    if status > 0:
        raise TypeError(f"{kernel.__name__}: Numba typed its arguments differently "
                        "from the parallel call (no part ran)")
    _check(kernel, status)


def _check(kernel, status):
    if status == FAILED:
        raise RuntimeError(f"{kernel.__name__} failed on one of Numba's threads "
                           "(out of memory?)")


def in_turn(kernel, nt: int, args: tuple) -> None:
    """The same parts one after another on the calling thread: the same kernel, compiled for
    the same types as `run`'s (no second copy), and no parallel launch, so no lock."""
    for t in range(nt):
        kernel(t, nt, *args)


def parts(key, kernel, nt: int, args: tuple, mode=None) -> None:
    """kernel(t, nt, *args) for t < nt: on Numba's threads (`run`) or in turn on this one
    (`in_turn`), whichever _threads.run finds faster for `key` (mode forces one); a single
    part runs here."""
    if nt > 1:
        _threads.run(key, run, in_turn, kernel, nt, args, mode=mode)
    else:
        kernel(0, 1, *args)


@njit(cache=True, nogil=True)
def part(t, nt, n):
    """(i0, i1): part t of nt of n samples or rows, the same split on any thread count."""
    step = (n + nt - 1) // nt
    return min(n, t * step), min(n, (t + 1) * step)
