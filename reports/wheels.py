"""The terminal table of ``interp-audit wheel``: per wheel tag, what each extension module declares.

One table per wheel tag, one row per extension module (one per pure-Python wheel):
init kind, ``Py_mod_multiple_interpreters`` (the declared value, or CPython's
default marked ``(default)``), ``Py_mod_gil``, framework, and the wheel's
predicted tier.  Unknown values say ``unknown`` and the reason is listed below.
"""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from interp_audit.model import ExtensionInfo, ScanReport

UNKNOWN = "unknown"


def declared_interpreters(info: ExtensionInfo) -> str:
    """``Py_mod_multiple_interpreters`` as declared, ``X (default)``, ``-`` (single-phase) or ``unknown``."""
    if info.init == "single-phase":
        return "-"
    if info.multiple_interpreters:
        return info.multiple_interpreters
    if info.multiple_interpreters_effective:
        return f"{info.multiple_interpreters_effective} (default)"
    return UNKNOWN if info.init == "multi-phase" else "-"


def declared_gil(info: ExtensionInfo) -> str:
    if info.gil:
        return info.gil
    if info.init == "multi-phase" and "slots" not in info.method:
        return UNKNOWN
    return "-"


def render(report: ScanReport, console: Console) -> None:
    """Print one table per wheel tag of ``report``, then the reasons for unknown values."""
    reasons = []
    for run in report.interpreters:
        table = Table(title=run.python.executable, title_justify="left",
                      box=box.SIMPLE_HEAVY if console.is_terminal else box.ASCII)
        for heading in ("distribution", "module", "init", "multiple interpreters", "gil", "framework",
                        "predicted tier"):
            table.add_column(heading, overflow="fold")
        for dist in run.distributions:
            tier = dist.tier or UNKNOWN
            for index, info in enumerate(dist.extensions or [None]):
                first = index == 0
                cells = [f"{dist.name} {dist.version}" if first else ""]
                if info is None:
                    cells += ["(pure Python)", "", "", "", ""]
                else:
                    framework = info.framework.name if info.framework else ""
                    if info.framework and info.framework.version:
                        framework += " " + info.framework.version
                    cells += [info.module, info.init, declared_interpreters(info), declared_gil(info), framework]
                    if info.reason:
                        reasons.append(f"{run.python.executable} {info.module}: {info.reason}")
                table.add_row(*cells, tier if first else "")
        console.print(table)
    console.print("Tiers are predicted from the declarations in the binaries: nothing was installed or run.")
    for reason in reasons:
        console.print(reason, highlight=False, markup=False)
