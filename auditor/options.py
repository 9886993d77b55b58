"""What to scan and how: the options every stage of a scan reads."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Optional

from interp_audit.rules.config import ConfigError, RuleConfig, find_config, read_table
from interp_audit.smoke_config import SnippetTable

_MODULE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")


@dataclass
class ScanOptions:
    """What to scan and how."""

    names: list[str] = field(default_factory=list)
    stdlib: bool = False
    jobs: int = os.cpu_count() or 2
    timeout: float = 60.0
    static_only: bool = False
    smoke: bool = True
    snippets: Optional[SnippetTable] = None
    rules: Optional[RuleConfig] = None
    ignore_modules: list[str] = field(default_factory=list)  # modules (and their submodules) not audited

    def excluded(self, module: str) -> bool:
        """True when ``module`` is in ``ignore_modules`` or inside one of them."""
        return any(module == gone or module.startswith(gone + ".") for gone in self.ignore_modules)


def configured_ignore_modules(path: Optional[Path] = None) -> list[str]:
    """``ignore-modules`` of ``[tool.interp-audit]`` in ``path`` (``--config``) or ./pyproject.toml."""
    found = path or find_config()
    table = (read_table(found) if found else None) or {}
    value = table.get("ignore-modules", [])
    where = f"{found} [tool.interp-audit] ignore-modules"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{where}: expected a list of module names like [\"fontTools.cu2qu\"], got {value!r}")
    return check_module_names(value, where)


def check_module_names(names: Iterable[str], where: str) -> list[str]:
    """Dotted module names as given, or :class:`ConfigError` naming the first bad one."""
    for name in names:
        if not _MODULE.fullmatch(name):
            raise ConfigError(f"{where}: {name!r} is not a dotted module name such as fontTools.cu2qu")
    return list(names)
