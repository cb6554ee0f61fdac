"""Run a chunk kernel on Numba's threads without compiling it, or the parallel loop, again.

A chunk kernel computes part t of nt of a batch: `kernel(t, nt, *args)`, returning
nothing. The obvious way to run its parts in parallel is a `prange` that calls it. But
Numba builds every compiled function as one self-contained piece of machine code: a
parallel function that calls a kernel copies the kernel (and all it calls) into itself and
optimises and compiles the copy again, three times over (the loop body, its thread
wrapper, the function itself). For the Winograd convolution that was 42 of the 195
processor seconds a first-ever launch spent compiling (`benchmarks/compile_times.py`).

So nothing here calls a kernel by name; everything goes through addresses of machine code
compiled once:

- `_fan_erased(thunk, kernel, nt, argp)` is the one parallel loop. Its arguments are four
  integers whatever the kernel, so it is compiled once (~0.5 s), not once per kernel
  signature as a loop taking the kernel's arguments would be (14 of them: 8.5 processor
  seconds of a first launch). Each thread calls `thunk(kernel, t, nt, argp)`.
- a thunk (`_thunk`, one small function per tuple of argument types) reads the kernel's
  arguments from `argp`, the address where `fan` stored them, and calls the kernel's
  machine code with them.
- `fan(addr, tag, nt, args)` stores `args`, then calls `_fan_erased` by name: its address
  is in the process's symbol table (`_ensure_fan`), so compiled code that calls `fan`,
  cached or not, links to the one loop instead of copying it. `fan_or_here` runs a single
  part on the calling thread instead (no parallel launch, no worker woken for nothing).

The call costs what a call of a parallel function costs (~2 us,
`benchmarks/fanout_overhead.py`); `in_turn` runs the parts one after another on the
caller's thread (no parallel launch), calling the kernel itself.

Safety: `addr` is the address of a pair (thunk, kernel) compiled for one tuple of argument
types, and it comes with the tag of those types (`address_for`, `with_address`). `fan` is
compiled per tuple of argument types too and knows its own tag: it stores and calls only when
the two agree (otherwise it returns its own tag, and `with_address` looks up or compiles the
pair for those types and calls again). A wrong address can never be called with arguments it
does not expect.
"""
from __future__ import annotations

import threading
import zlib

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import njit, prange, typeof, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import _threads

#: what fan returns when every part ran (a mismatch returns a positive tag)
RAN = 0
#: a part raised (an allocation failed, say): Numba's threads cannot say which exception
FAILED = -1

#: the name `_fan_erased` has in the process's symbol table (versioned with its arguments)
_FAN_SYMBOL = "backprop_lab_fanout_fan_erased_v1"
_I64x4 = (types.int64,) * 4


def signature_tag(argtypes) -> int:
    """A positive number naming a tuple of Numba types (stable across processes: it is
    what a cached `fan` compares with)."""
    return (zlib.crc32(repr(tuple(argtypes)).encode()) & 0x7FFFFFFF) or 1


def _call_kernel(context, builder, kernel_v, t_v, nt_v, values, argtypes):
    """Code calling the kernel at address kernel_v as kernel(t, nt, *values): RAN or FAILED."""
    i64 = ir.IntType(64)
    full = (types.int64, types.int64) + tuple(argtypes)
    fnty = context.call_conv.get_function_type(types.none, full)
    fn = builder.inttoptr(kernel_v, fnty.as_pointer())
    status, _ = context.call_conv.call_function(builder, fn, types.none, full,
                                                [t_v, nt_v] + list(values))
    return builder.select(status.is_error, ir.Constant(i64, FAILED), ir.Constant(i64, RAN))


def _call_int64s(context, builder, fn, values):
    """Code calling a compiled int64 function of int64s: its result, or FAILED if it raised."""
    argtypes = (types.int64,) * len(values)
    status, out = context.call_conv.call_function(builder, fn, types.int64, argtypes, values)
    return builder.select(status.is_error, ir.Constant(ir.IntType(64), FAILED), out)


def _int64_function_type(context, n):
    return context.call_conv.get_function_type(types.int64, (types.int64,) * n)


@intrinsic
def _call_thunk(typingctx, thunk, kernel, t, nt, argp):
    """thunk(kernel, t, nt, argp, 0): the thunk at address `thunk` (int64 arguments only)."""
    def codegen(context, builder, sig, llargs):
        fnty = _int64_function_type(context, 5)
        values = [context.cast(builder, v, ty, types.int64) for v, ty in zip(llargs, sig.args)]
        fn = builder.inttoptr(values[0], fnty.as_pointer())
        zero = ir.Constant(ir.IntType(64), 0)
        return _call_int64s(context, builder, fn, values[1:] + [zero])

    return types.int64(thunk, kernel, t, nt, argp), codegen


@njit(cache=True, nogil=True, parallel=True)
def _fan_erased(thunk, kernel, nt, argp):
    """thunk(kernel, t, nt, argp) for t < nt on Numba's threads: RAN or the first failure."""
    status = np.zeros(nt, dtype=np.int64)
    for t in prange(nt):
        status[t] = _call_thunk(thunk, kernel, t, nt, argp)
    for t in range(nt):
        if status[t] != RAN:
            return status[t]
    return RAN


#: {tag: tuple type of the kernel's arguments after (t, nt)}, for compiling thunks
_PACKED: dict[int, types.BaseTuple] = {}


def _borrowed(context, builder, value, ty):
    """An array without its reference count (meminfo: null), borrowed for the call: every
    view a part takes would otherwise add to and take from the one count its array has, an
    atomic both threads fight over (the LSTM's backward pass spent ~16 % of its time there,
    perf). Safe because the caller holds the arrays until every part has returned, and a
    part returns nothing and keeps no reference to them."""
    if not isinstance(ty, types.Array):
        return value
    ary = context.make_array(ty)(context, builder, value=value)
    ary.meminfo = context.get_constant_null(types.MemInfoPointer(ty.dtype))
    return ary._getvalue()


@intrinsic(prefer_literal=True)
def _unpack_and_call(typingctx, kernel, t, nt, argp, tag):
    """The kernel at `kernel` called with the arguments stored at `argp` (their tuple type is
    the one registered for the literal `tag`)."""
    if not isinstance(tag, types.IntegerLiteral):
        return None
    packed = _PACKED[tag.literal_value]

    def codegen(context, builder, sig, llargs):
        kernel_v, t_v, nt_v, argp_v, _ = llargs
        ptr = builder.inttoptr(argp_v, context.get_value_type(packed).as_pointer())
        tup = builder.load(ptr)
        values = [_borrowed(context, builder, builder.extract_value(tup, i), ty)
                  for i, ty in enumerate(packed.types)]
        return _call_kernel(context, builder, kernel_v, t_v, nt_v, values, packed.types)

    return types.int64(kernel, t, nt, argp, tag), codegen


@njit(cache=True, nogil=True)
def _thunk(kernel, t, nt, argp, tag):
    """Compiled once per tuple of argument types, `tag` a literal naming it."""
    return _unpack_and_call(kernel, t, nt, argp, tag)


def _pair(addr_v, builder):
    """(thunk, kernel) read from the pair at address addr_v."""
    i64 = ir.IntType(64)
    pair = builder.inttoptr(addr_v, i64.as_pointer())
    return builder.load(pair), builder.load(builder.gep(pair, [ir.Constant(i64, 1)]))


def _tag_check(builder, tag_v, expected, body):
    """Code: `expected` unless tag_v equals it, else what body() stores."""
    i64 = ir.IntType(64)
    out = cgutils.alloca_once(builder, i64)  # in the entry block: no stack growth in a loop
    builder.store(ir.Constant(i64, expected), out)
    agree = builder.icmp_signed("==", tag_v, ir.Constant(tag_v.type, expected))
    with builder.if_then(agree, likely=True):
        builder.store(body(), out)
    return builder.load(out)


@intrinsic
def _launch(typingctx, addr, tag, nt, args):
    """Store args and run _fan_erased over the pair at addr, if tag names args' types."""
    expected = signature_tag((types.int64, types.int64) + tuple(args.types))

    def codegen(context, builder, sig, llargs):
        addr_v, tag_v, nt_v, tup = llargs

        def body():
            thunk, kernel = _pair(addr_v, builder)
            slot = cgutils.alloca_once(builder, tup.type)
            builder.store(tup, slot)
            argp = builder.ptrtoint(slot, ir.IntType(64))
            fan_fn = cgutils.get_or_insert_function(builder.module,
                                                    _int64_function_type(context, 4),
                                                    _FAN_SYMBOL)
            nt64 = context.cast(builder, nt_v, sig.args[2], types.int64)
            return _call_int64s(context, builder, fan_fn, [thunk, kernel, nt64, argp])

        return _tag_check(builder, tag_v, expected, body)

    return types.int64(addr, tag, nt, args), codegen


@intrinsic
def _here(typingctx, addr, tag, args):
    """Part 0 of 1 of the kernel of the pair at addr, on this thread, if tag names args' types."""
    expected = signature_tag((types.int64, types.int64) + tuple(args.types))

    def codegen(context, builder, sig, llargs):
        addr_v, tag_v, tup = llargs

        def body():
            _, kernel = _pair(addr_v, builder)
            i64 = ir.IntType(64)
            values = [builder.extract_value(tup, i) for i in range(len(args.types))]
            return _call_kernel(context, builder, kernel, ir.Constant(i64, 0),
                                ir.Constant(i64, 1), values, args.types)

        return _tag_check(builder, tag_v, expected, body)

    return types.int64(addr, tag, args), codegen


@njit(cache=True, nogil=True)
def fan(addr, tag, nt, args):
    """kernel(t, nt, *args) for t < nt on Numba's threads, the kernel given by the address
    and tag `with_address` or `address_for` gave: RAN, FAILED, or the tag these argument
    types have."""
    return _launch(addr, tag, nt, args)


@njit(cache=True, nogil=True)
def fan_or_here(addr, tag, nt, args):
    """`fan` from compiled code; one part runs here, on the calling thread alone (no
    parallel launch, no worker woken for nothing)."""
    if nt > 1:
        return fan(addr, tag, nt, args)
    return _here(addr, tag, args)


_FAN_LOCK = threading.Lock()
_fan_address: list[int] = []


def _ensure_fan() -> None:
    """Compile (or load) the one parallel loop and give its address the name `fan` calls it
    by; before any code calling `fan` is compiled or loaded in this process."""
    if _fan_address:
        return
    with _FAN_LOCK:
        if _fan_address:
            return
        _fan_erased.compile(_I64x4)
        cres = _fan_erased.overloads[_I64x4]
        address = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
        llvm.add_symbol(_FAN_SYMBOL, address)
        _fan_address.append(address)


class _Kernel:
    """A chunk kernel's (thunk, kernel) address pairs, one per signature tag."""

    __slots__ = ("kernel", "addresses", "_alive", "last")

    def __init__(self, kernel):
        self.kernel = kernel
        self.addresses: dict[int, int] = {}  # tag: address of its (thunk, kernel) pair
        self._alive: list[np.ndarray] = []     # the pairs those addresses point into
        self.last = (0, 0)  # (address, tag) of the latest call: the usual next one

    def address(self, args):
        """(address, tag) of the kernel compiled for these arguments (compiled or loaded
        from Numba's cache the first time)."""
        return self.address_of_types(tuple(typeof(a) for a in args))

    def address_of_types(self, argtypes):
        packed = types.BaseTuple.from_types(tuple(argtypes))
        argtypes = (types.int64, types.int64) + tuple(argtypes)
        tag = signature_tag(argtypes)
        addr = self.addresses.get(tag)
        if addr is None:
            _ensure_fan()
            self.kernel.compile(argtypes)
            cres = self.kernel.overloads[argtypes]
            kernel = cres.library.get_pointer_to_function(cres.fndesc.llvm_func_name)
            _PACKED.setdefault(tag, packed)
            thunk_sig = _I64x4 + (types.IntegerLiteral(tag),)
            _thunk.compile(thunk_sig)
            tres = _thunk.overloads[thunk_sig]
            thunk = tres.library.get_pointer_to_function(tres.fndesc.llvm_func_name)
            pair = np.array([thunk, kernel], dtype=np.int64)
            self._alive.append(pair)
            addr = self.addresses[tag] = pair.ctypes.data
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
