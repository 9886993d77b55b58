"""The target's standard-library modules (``scan --stdlib``)."""

from __future__ import annotations

from typing import Iterable, Optional

from interp_audit.model import PythonInfo
from interp_audit.source.interface import AuditItem, AuditSource, SourceError
from interp_audit.source.inventory import run_inventory


class StdlibSource(AuditSource):
    """Every name in ``sys.stdlib_module_names`` that exists on the target.

    Names that do not import in the main interpreter are dropped from the
    results by the scan (they are not a sub-interpreter problem).
    """

    scope = "stdlib"

    def __init__(self, python: str, names: Iterable[str] = (), document: Optional[dict] = None) -> None:
        """``document``: the ``--stdlib`` inventory of ``python`` if already at hand (else the probe runs)."""
        self._document = document if document is not None else run_inventory(python, stdlib=True)
        version = self._document["python"]["version"]
        modules = self._document["stdlib"]
        wanted = set(names)
        if wanted:
            known = {m["name"] for m in modules}
            missing = sorted(wanted - known)
            if missing:
                raise SourceError(f"not standard-library modules of {python}: {', '.join(missing)}")
            modules = [m for m in modules if m["name"] in wanted]
        self._names = {m["name"] for m in self._document["stdlib"]}
        self._items = [
            AuditItem(
                name=m["name"],
                version=version,
                import_names=[m["name"]],
                extensions=[(m["name"], m["extension"])] if m["extension"] else [],
                fingerprint=version,
            )
            for m in modules
        ]

    def watched_extensions(self, item: AuditItem) -> list[str]:
        """Every standard-library extension module: ``datetime`` silently falling
        back to ``_pydatetime`` is as much a finding as a third-party fallback."""
        return sorted(m["name"] for m in self._document["stdlib"] if m["extension"])

    def python(self) -> PythonInfo:
        return PythonInfo(**self._document["python"])

    def items(self) -> list[AuditItem]:
        return list(self._items)

    def owner_of(self, module: str) -> Optional[str]:
        top = module.split(".")[0]
        return top if top in self._names else None
