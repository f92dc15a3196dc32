"""One registry helper for every place where variants plug in (models, methods, importers, steps, ...).

A :class:`Registry` is a read-only mapping from a name to what was registered under it. Plugin
modules add themselves with :meth:`Registry.register` (a decorator) or :meth:`Registry.add`. When
the registry is given its ``package``, the package's modules are imported the first time the
registry is read, so importing the package costs nothing until an entry is needed, and adding a
variant is one new file::

    MODELS = Registry("model", package=__name__, skip=("weights",))

    @MODELS.register("resnet18")
    def resnet18(num_classes: int) -> nn.Module: ...

    MODELS["resnet18"]        # imports the package's modules once, then looks up
    MODELS["resnet81"]        # DataError: unknown model 'resnet81'; choose one of: ...
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Generic, TypeVar

from trainers.common.errors import DataError

T = TypeVar("T")


class Registry(Mapping[str, T], Generic[T]):
    """Name -> registered object, filled by plugin modules of a package.

    Parameters
    ----------
    kind
        What an entry is, for messages (``"model"``, ``"dataset format"``, ...).
    package
        Dotted name of the package whose modules register entries; they are imported on the
        first read of the registry. ``None`` when entries are added explicitly.
    skip
        Modules of ``package`` that register nothing (shared bases), never imported for it.
    """

    def __init__(self, kind: str, package: str | None = None, skip: Iterable[str] = ()) -> None:
        self.kind = kind
        self.package = package
        self.skip = frozenset(skip)
        self._entries: dict[str, T] = {}
        self._origins: dict[str, str] = {}
        self._loaded = package is None

    def add(self, name: str, value: T, origin: object = None) -> T:
        """Register ``value`` under ``name``.

        ``origin`` says where the entry comes from: a string, or the class or function that
        defines it (default: ``value`` itself). Registering a name again from the same origin (its
        module reloaded) replaces the entry; from another origin it raises ``ValueError``.
        """
        origin = origin if isinstance(origin, str) else _origin(value if origin is None else origin)
        if name in self._entries and self._origins[name] != origin:
            raise ValueError(f"{self.kind} {name!r} is registered twice ({self._origins[name]} and {origin})")
        self._entries[name] = value
        self._origins[name] = origin
        return value

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator registering a class or function under ``name`` (default: its ``name`` attribute)."""

        def decorator(value: T) -> T:
            key = name if name is not None else getattr(value, "name", None)
            if not isinstance(key, str):
                raise ValueError(f"{value!r} needs a name to be registered as a {self.kind}")
            self.add(key, value)
            return value

        return decorator

    def module_names(self) -> list[str]:
        """Names of the plugin modules of ``package`` (without importing them)."""
        if self.package is None:
            return []
        path = importlib.import_module(self.package).__path__
        return sorted(info.name for info in pkgutil.iter_modules(path) if info.name not in self.skip)

    def load(self, names: Iterable[str] | None = None) -> None:
        """Import the plugin modules ``names`` (default: all of them) so that they register."""
        if self.package is None:
            return
        if names is None:
            if self._loaded:
                return
            self._loaded = True  # set first: a plugin that reads the registry while importing must not recurse
            try:
                for module in self.module_names():
                    importlib.import_module(f"{self.package}.{module}")
            except BaseException:
                self._loaded = False  # a plugin failed to import: the next read tries again and fails loudly
                raise
            return
        for module in names:
            importlib.import_module(f"{self.package}.{module}")

    def lookup(self, name: str) -> T:
        """The entry ``name``; ``DataError`` naming the choices when there is none."""
        if name not in self._entries:
            self.load()
        if name not in self._entries:
            raise DataError(f"unknown {self.kind} {name!r}; choose one of: {', '.join(sorted(self._entries))}")
        return self._entries[name]

    def __getitem__(self, name: str) -> T:
        return self.lookup(name)

    def get(self, name: str, default: T | None = None) -> T | None:  # type: ignore[override]
        """The entry ``name``, or ``default`` when there is none."""
        return self.lookup(name) if name in self else default

    def __contains__(self, name: object) -> bool:
        if name not in self._entries:
            self.load()
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        self.load()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self.load()
        return len(self._entries)

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {sorted(self._entries)})"


def _origin(value: object) -> str:
    owner = value if isinstance(value, type) or callable(value) else type(value)
    return f"{getattr(owner, '__module__', '?')}.{getattr(owner, '__qualname__', repr(owner))}"
