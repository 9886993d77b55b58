"""The installed distributions of the target environment."""

from __future__ import annotations

import hashlib
import os
from typing import Iterable, Optional

from packaging.utils import canonicalize_name

from interp_audit.model import PythonInfo
from interp_audit.source.interface import AuditItem, AuditSource, SourceError
from interp_audit.source.inventory import run_inventory


def _files_fingerprint(record_hash: Optional[str], extensions: Iterable[tuple[str, str]]) -> str:
    digest = hashlib.sha256((record_hash or "no-record").encode())
    for module, path in extensions:
        try:
            stat = os.stat(path)
            digest.update(f"{module}:{stat.st_size}:{stat.st_mtime_ns}".encode())
        except OSError:
            digest.update(f"{module}:missing".encode())
    return digest.hexdigest()


class EnvironmentSource(AuditSource):
    """Distributions installed for the target interpreter, optionally only some of them."""

    scope = "environment"

    def __init__(self, python: str, names: Iterable[str] = (), document: Optional[dict] = None) -> None:
        """``document``: the inventory of ``python`` if already at hand (else the probe runs)."""
        self._document = document if document is not None else run_inventory(python)
        wanted = {canonicalize_name(n): n for n in names}
        items = [self._item(d) for d in self._document["distributions"]]
        self._owners: dict[str, str] = {}
        for item in items:
            for name in item.import_names:
                self._owners.setdefault(name.split(".")[0], item.name)
        if wanted:
            have = {canonicalize_name(i.name) for i in items}
            missing = [wanted[w] for w in wanted if w not in have]
            if missing:
                raise SourceError(f"not installed in {python}: {', '.join(missing)}")
            items = [i for i in items if canonicalize_name(i.name) in wanted]
        self._items = items

    @staticmethod
    def _item(dist: dict) -> AuditItem:
        extensions = [tuple(e) for e in dist.get("extensions", [])]
        return AuditItem(
            name=dist["name"],
            version=dist.get("version", ""),
            import_names=list(dist.get("top_level", [])),
            extensions=extensions,
            summary=dist.get("summary", ""),
            fingerprint=_files_fingerprint(dist.get("record_hash"), extensions),
            problems=list(dist.get("problems", [])),
        )

    def python(self) -> PythonInfo:
        return PythonInfo(**self._document["python"])

    def items(self) -> list[AuditItem]:
        return list(self._items)

    def owner_of(self, module: str) -> Optional[str]:
        return self._owners.get(module.split(".")[0])
