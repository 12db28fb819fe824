"""A registry of ruleset versions for hosts that assess many cases: list cheaply, compile once.

Listing countries and versions reads only each file's metadata; a compiled :class:`Ruleset` is kept
per file content, so ``get("nl", as_of=...)`` costs a folder check and a dictionary look-up once the
version is compiled. Changes on disk are picked up: a country's listing is read again when its
folder changes (publishing writes files by renaming them into place), and a file whose bytes changed
is compiled again. Like ``load_ruleset``, it respects the manifest: a published file is served only
when the manifest vouches for it, and a shadow or misplaced published file is an error.
"""

from __future__ import annotations

import datetime as dt
import os
import threading
from collections import OrderedDict
from pathlib import Path

from .api import DateLike, Ruleset, to_date
from .compile import compile_source
from .load import (
    VersionInfo,
    choose_version,
    display_path,
    list_countries,
    logger,
    read_bytes,
    require_country,
    scan_versions,
    shipped_rulesets_dir,
    vouch_for,
)
from .record import Provenance
from .refs import is_country_code


class Registry:
    """Ruleset versions of one rulesets folder (the shipped one by default). Thread-safe."""

    def __init__(self, rulesets_dir: str | os.PathLike[str] | None = None, *, max_compiled: int = 32):
        self._folder = Path(rulesets_dir) if rulesets_dir is not None else shipped_rulesets_dir()
        self._max_compiled = max_compiled
        self._lock = threading.Lock()
        self._listings: dict[str, tuple[int, list[VersionInfo]]] = {}
        self._compiled: OrderedDict[tuple[object, ...], Ruleset] = OrderedDict()

    @property
    def folder(self) -> Path:
        return self._folder

    def countries(self) -> list[str]:
        """Country codes with a folder of rulesets, sorted."""
        return list_countries(self._folder)

    def versions(self, country: str) -> list[VersionInfo]:
        """Every version of a country, oldest first, read from metadata only (no compiling)."""
        if not is_country_code(country):
            return []  # never a path: "../x" or "nl/.." must not reach the file system
        folder = self._folder / country
        stamp = folder.stat().st_mtime_ns if folder.is_dir() else -1
        with self._lock:
            cached = self._listings.get(country)
            if cached is not None and cached[0] == stamp:
                return list(cached[1])
        listing, warnings = scan_versions(country, self._folder, strict=True) if stamp != -1 else ([], [])
        for warning in warnings:
            logger.warning("%s", warning)
        with self._lock:
            self._listings[country] = (stamp, listing)
        return list(listing)

    def in_force(self, country: str, as_of: DateLike = None) -> VersionInfo:
        """The published version in force on ``as_of`` (default today); RulesetNotFoundError if none."""
        return choose_version(country, self._known_versions(country), as_of=to_date(as_of, default=dt.date.today()))

    def get(self, country: str, *, as_of: DateLike = None, version: str | None = None) -> Ruleset:
        """The compiled version in force on ``as_of`` (default today), or an exact ``version``.

        Raises :class:`RulesetNotFoundError` with a hint when there is no such country or version.
        """
        day = to_date(as_of, default=dt.date.today())
        path = choose_version(country, self._known_versions(country), as_of=day, version=version).path
        try:
            stat = path.stat()
            key: tuple[object, ...] = (path, stat.st_mtime_ns, stat.st_size, stat.st_ino)
        except OSError:
            key = (path,)  # read_bytes below raises the positioned error
        with self._lock:
            ruleset = self._compiled.get(key)
            if ruleset is not None:
                self._compiled.move_to_end(key)
                return ruleset
        data = read_bytes(path)
        compiled = compile_source(data, display_path(path))
        state, signed_by = vouch_for(path, compiled.metadata, compiled.digest, self._folder)  # the manifest must vouch for it
        ruleset = Ruleset(compiled, data, Provenance(state, signed_by))  # type: ignore[arg-type]
        with self._lock:
            self._compiled[key] = ruleset
            while len(self._compiled) > self._max_compiled:
                self._compiled.popitem(last=False)
        return ruleset

    def _known_versions(self, country: str) -> list[VersionInfo]:
        versions = self.versions(country)
        if not versions:
            require_country(country, self._folder)
        return versions
