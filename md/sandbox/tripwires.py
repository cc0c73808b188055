"""Tripwires: detect a program that could leave state behind for the next one in the same worker.

A tripped wire does not stop the program (the process-level limits contain it either way); it
makes the worker retire after answering, so the next program runs in a fresh fork. Wires:

- importing anything outside SAFE_MODULES (os, sys, ctypes, socket, builtins, gc, ...);
- a dunder name in the code outside ALLOWED_DUNDERS (`__dict__`, `__globals__`, `__class__`,
  `__subclasses__`, `__builtins__`, ...), and getattr/setattr/delattr/vars with such a name;
- setting or deleting an attribute of any preloaded module, or reading a module's `__dict__`;
- any audit event (PEP 578) raised while the program runs: open, os.*, subprocess, socket,
  ctypes, gc, sys._getframe, exec/eval of a string, ...;
- a change to the builtins module or to math/fractions/decimal/statistics, or a replaced entry
  of sys.modules (and the safe stdlib modules' classes are made immutable in the zygote);
- a module imported for the first time.
"""

from __future__ import annotations

import builtins
import sys
import types

SAFE_MODULES = frozenset({
    "math", "cmath", "fractions", "decimal", "numpy", "sympy", "itertools", "collections",
    "functools", "operator", "datetime", "re", "statistics", "random", "string", "heapq",
    "bisect", "numbers", "typing", "dataclasses", "enum", "copy", "calendar", "time",
})
_PROTOCOL = "init repr str format hash bool len iter next reversed contains getitem setitem " \
    "delitem call enter exit eq ne lt le gt ge add sub mul truediv floordiv mod pow neg pos abs " \
    "radd rsub rmul rtruediv rfloordiv rmod rpow iadd isub imul itruediv ifloordiv imod ipow " \
    "and or xor rand ror rxor invert round floor ceil trunc int float index divmod rdivmod " \
    "lshift rshift name main module qualname doc slots post_init annotations missing"
ALLOWED_DUNDERS = frozenset(f"__{name}__" for name in _PROTOCOL.split())
# stdlib modules whose classes are frozen (typing, enum and dataclasses change their own)
FROZEN_CLASS_MODULES = SAFE_MODULES - {"numpy", "sympy", "typing", "enum", "dataclasses"}
WATCHED_MODULES = ("math", "fractions", "decimal", "statistics")
_IMMUTABLE = 1 << 8  # Py_TPFLAGS_IMMUTABLETYPE
_MODULE_DICT = types.ModuleType.__dict__["__dict__"]
_trip = None  # set by Tripwires(): the callback guarded modules call


class _GuardedModule(types.ModuleType):
    """A module that reports writes to itself and reads of its namespace dict."""

    def __setattr__(self, name, value):
        _trip(f"set {self.__name__}.{name}")
        super().__setattr__(name, value)

    def __delattr__(self, name):
        _trip(f"del {self.__name__}.{name}")
        super().__delattr__(name)

    @property
    def __dict__(self):  # noqa: PLE0301 - guarding the real namespace is the point
        _trip(f"read {_MODULE_DICT.__get__(self).get('__name__')}.__dict__")
        return _MODULE_DICT.__get__(self)


class Tripwires:
    """Installed once per worker, after every module the programs may use has been imported."""

    def __init__(self) -> None:
        global _trip
        self.tripped: str | None = None
        self.active = False
        self._code = None
        _trip = self._trip_if_active
        for module in list(sys.modules.values()):
            if type(module) is types.ModuleType:
                module.__class__ = _GuardedModule
        self._n_modules = len(sys.modules)
        # comparing every safe namespace would cost ~100 us a program (numpy and sympy: 400 us);
        # writes to modules are caught by _GuardedModule, so only the hottest are re-checked
        self._watched = [builtins.__dict__] + [_MODULE_DICT.__get__(sys.modules[m]) for m in
                                               WATCHED_MODULES if m in sys.modules]
        self._snapshots = [dict(d) for d in self._watched]
        self._safe_modules = {m: sys.modules[m] for m in SAFE_MODULES if m in sys.modules}
        self._builtins = self._program_builtins()
        sys.addaudithook(self._audit)

    def trip(self, reason: str) -> None:
        if self.tripped is None:
            self.tripped = reason

    def _trip_if_active(self, reason: str) -> None:
        if self.active:
            self.trip(reason)

    def fresh_builtins(self) -> dict:
        return self._builtins.copy()

    def arm(self, code: types.CodeType) -> None:
        """Watch the program while it runs (its own top-level exec is the one event allowed)."""
        self._code, self.active = code, True

    def disarm(self) -> None:
        self.active, self._code = False, None

    def check_code(self, code: types.CodeType) -> None:
        for name in code.co_names:
            if name.startswith("__") and name.endswith("__") and name not in ALLOWED_DUNDERS:
                self.trip(f"uses {name}")
        for const in code.co_consts:
            if isinstance(const, types.CodeType):
                self.check_code(const)

    def check_state(self) -> None:
        """After a program: trip on any change to the watched namespaces or to sys.modules."""
        if len(sys.modules) != self._n_modules:
            self.trip("a module was imported for the first time")
        for name, module in self._safe_modules.items():
            if sys.modules.get(name) is not module:
                self.trip(f"sys.modules[{name!r}] was replaced")
        for live, snapshot in zip(self._watched, self._snapshots, strict=True):
            if live != snapshot:
                self.trip("a library namespace or class was modified")
                break

    def _audit(self, event: str, args: tuple) -> None:
        if self.active and not (event == "exec" and args and args[0] is self._code):
            self.trip(f"audit event {event}")

    def _program_builtins(self) -> dict:
        real_import, real_getattr = builtins.__import__, builtins.getattr

        def guarded_import(name, globals=None, locals=None, fromlist=(), level=0):
            if level:
                raise ImportError("relative imports are not allowed in the sandbox")
            if name.partition(".")[0] not in SAFE_MODULES:
                self._trip_if_active(f"import {name}")
            module = real_import(name, globals, locals, fromlist, level)
            if fromlist and "*" in fromlist and not hasattr(module, "__all__"):
                return _public_copy(module)  # `from math import *` need not read math.__dict__
            return module

        def checked_getattr(obj, name, *default):
            if isinstance(name, str) and name.startswith("__") and name not in ALLOWED_DUNDERS:
                self._trip_if_active(f"getattr {name}")
            return real_getattr(obj, name, *default)

        def tripping(fn):
            def wrapper(*args, **kwargs):
                self._trip_if_active(f"calls {fn.__name__}")
                return fn(*args, **kwargs)
            return wrapper

        names = dict(builtins.__dict__)
        for name in ("breakpoint", "input", "help", "copyright", "credits", "license"):
            names.pop(name, None)
        names.update(__import__=guarded_import, getattr=checked_getattr)
        for name in ("setattr", "delattr", "vars", "globals", "locals"):
            names[name] = tripping(names[name])
        return names


def _public_copy(module: types.ModuleType) -> types.ModuleType:
    copy = types.ModuleType(module.__name__)
    namespace = _MODULE_DICT.__get__(module)
    copy.__dict__.update({k: v for k, v in namespace.items() if not k.startswith("_")})
    return copy


def freeze_stdlib_classes() -> int:
    """Make the Python classes of the safe stdlib modules immutable (like int); returns how many.

    `fractions.Fraction.limit_denominator = f` then raises TypeError instead of poisoning the
    next program. Done once in the zygote by setting Py_TPFLAGS_IMMUTABLETYPE in tp_flags,
    after checking that the field really sits where CPython 3.10-3.13 puts it. numpy's and
    sympy's classes are left alone: sympy changes its own class attributes at run time.
    """
    import ctypes

    offset = 21 * ctypes.sizeof(ctypes.c_void_p)  # PyTypeObject.tp_flags (not free-threaded)
    frozen = 0
    for name in sorted(FROZEN_CLASS_MODULES):
        module = sys.modules.get(name)
        for value in list(_MODULE_DICT.__get__(module).values()) if module else ():
            if not isinstance(value, type) or value.__flags__ & _IMMUTABLE:
                continue
            flags = ctypes.c_ulong.from_address(id(value) + offset)
            if flags.value == value.__flags__:
                flags.value |= _IMMUTABLE
                frozen += 1
    return frozen
