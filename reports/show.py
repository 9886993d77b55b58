"""``interp-audit show DIST``: everything known about one distribution, as terminal text.

For each interpreter: every import name and public module per rung and
scenario (result, error chain, inference reasons), crashes with culprit and
stderr tail, the crash controls, each smoke check with its items, the cost
figures, the static evidence per extension module with the method behind each
value, the findings with their fixes, and the same "what to do" as the site's
package page (``reports/advice.py``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Optional

from rich.console import Console
from rich.text import Text

from interp_audit.model import MODES, SCENARIOS, Crash, DistributionResult, KnownProblem, ModeResult, ModuleResult, PythonInfo
from interp_audit.reports import smoke, why
from interp_audit.reports.advice import what_to_do
from interp_audit.reports.status import culprit_of, grouped, mode_status, tier_text
from interp_audit.reports.table import RUNG_SYMBOLS, TIER_STYLES, Style, console_width

#: Lines of a crash's stderr shown (the tail of the tail).
STDERR_LINES = 12
#: ExtensionInfo fields shown, with their labels; the method behind each comes from ``ExtensionInfo.method``.
EXTENSION_FIELDS = (
    ("init", "init"), ("multiple_interpreters", "Py_mod_multiple_interpreters"),
    ("multiple_interpreters_effective", "effective"), ("gil", "Py_mod_gil"), ("m_size", "m_size"),
    ("slots", "slots"), ("framework", "framework"),
)


@dataclass
class Shown:
    """One interpreter's result for the distribution."""

    python: PythonInfo
    result: DistributionResult
    known_problems: list[KnownProblem] = field(default_factory=list)


class Printer:
    """Headings and indented, wrapped lines on a console."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.width = console_width(console)
        self.style = Style.of(console)

    def heading(self, text: str) -> None:
        self.console.print()
        self.console.print(Text(text, style="bold underline"), soft_wrap=True)

    def line(self, text, indent: int = 0, style: str = "", hang: int = 2) -> None:
        body = text if isinstance(text, Text) else Text(str(text), style=style)
        for k, part in enumerate(body.wrap(self.console, max(self.width - indent - (hang if indent else 0), 20),
                                           overflow="fold")):
            part.rstrip()
            pad = indent + (hang if k else 0)
            self.console.print(Text(" " * pad) + part, soft_wrap=True, highlight=False)

    def block(self, text: str, indent: int) -> None:
        """Preformatted lines (stderr), each cut to the width rather than re-wrapped."""
        for raw in text.rstrip().splitlines()[-STDERR_LINES:]:
            self.line(Text(raw, style="dim"), indent)


def _scenario_text(result: Optional[ModeResult], name: str, style: Style) -> Text:
    scenario = getattr(result, name) if result is not None else None
    label = name.replace("_", " ")
    if scenario is None:
        return Text(f"{label}: not run", style="dim")
    status = "crash" if scenario.crash else "ok" if scenario.ok else "fail"
    text = Text(f"{label}: ")
    text.append_text(style.symbol(RUNG_SYMBOLS, status))
    if scenario.seconds is not None:
        text.append(f" {scenario.seconds:.2f} s", style="dim")
    return text


def _scenario_details(mode: ModeResult) -> list[str]:
    lines = []
    for name in SCENARIOS:
        scenario = getattr(mode, name)
        if scenario is None:
            continue
        label = name.replace("_", " ")
        if scenario.crash is not None:
            lines.append(f"{label}: crashed: {why.crash_text(scenario.crash)}")
        chain = scenario.error_chain or ([scenario.error] if scenario.error else [])
        if chain:
            lines.append(f"{label}: " + "  <-  ".join(chain))
        if scenario.failed_module:
            lines.append(f"{label}: first module to fail: {scenario.failed_module}")
        if scenario.missing_extensions:
            lines.append(f"{label}: loaded without {', '.join(scenario.missing_extensions)} (fallback)")
        if scenario.loaded_extensions:
            lines.append(f"{label}: extension modules loaded: {', '.join(scenario.loaded_extensions)}")
    if mode.error and not any(mode.error in line for line in lines):
        lines.append(mode.error)
    return lines


def _ladder(printer: Printer, modes: dict[str, ModeResult], indent: int) -> None:
    for mode in MODES:
        result = modes.get(mode)
        status = mode_status(result)
        text = Text(f"{mode:<11}", style="bold")
        symbol = printer.style.symbol(RUNG_SYMBOLS, status)
        text.append_text(symbol + Text(" " * (6 - len(symbol.plain))))
        if result is not None and result.inferred:
            text.append(f"inferred: {result.inferred}", style="dim")
        elif result is not None and result.ok is not None:
            text.append_text(_scenario_text(result, "alone", printer.style))
            text.append("  ")
            text.append_text(_scenario_text(result, "beside_main", printer.style))
        printer.line(text, indent, hang=17)
        for detail in _scenario_details(result) if result is not None and not result.inferred else []:
            printer.line(detail, indent + 17, hang=4)


def _modules(printer: Printer, result: DistributionResult) -> None:
    modules = result.modules or [ModuleResult(name=n, tier=result.tier, modes=result.modes) for n in result.import_names]
    printer.heading("Import names and public modules (per rung: alone, beside main)")
    if not modules:
        printer.line("none recorded", 2, style="dim")
    for module in modules:
        text = Text(module.name, style="bold")
        text.append(f" ({module.kind}): ")
        text.append(module.tier or "no verdict", style=TIER_STYLES.get(module.tier or "", "dim"))
        if module.excluded:
            text.append("  excluded by ignore-modules: shown, not counted", style="yellow")
        printer.line(text, 2)
        if module.error:
            printer.line(f"why it climbed: {module.error}", 4)
        if module.inferred:
            printer.line(f"tier inferred: {module.inferred}", 4, style="dim")
        _ladder(printer, module.modes or ({} if result.modules else result.modes), 4)
    if result.excluded_modules:
        printer.line("excluded (ignore-modules): " + ", ".join(result.excluded_modules), 2)


def _crash_lines(printer: Printer, crash: Crash, places: list[str]) -> None:
    printer.line(f"{'; '.join(places)}: {why.crash_text(crash)}"
                 + (f", exit status {crash.returncode}" if crash.returncode is not None else ""), 2)
    if crash.stderr_tail.strip():
        printer.line("stderr (tail):", 4)
        printer.block(crash.stderr_tail, 6)
    else:
        printer.line("stderr (tail): nothing was written", 4)


def _crashes(printer: Printer, result: DistributionResult) -> None:
    """Every crash of the ladder, identical ones once with every place they happened, then the controls."""
    def places():
        modules = [m for m in result.modules if m.modes] or [ModuleResult(name="", modes=result.modes)]
        for module in modules:
            prefix = f"{module.name} " if len(modules) > 1 else ""
            for mode, rung in ((m, module.modes[m]) for m in MODES if m in module.modes):
                found = [(f"{prefix}{mode} {name.replace('_', ' ')}", getattr(rung, name).crash)
                         for name in SCENARIOS if getattr(rung, name) is not None and getattr(rung, name).crash]
                yield from found or ([(f"{prefix}{mode}", rung.crash)] if rung.crash is not None else [])

    crashes = grouped(places())
    if not crashes and not result.controls:
        return
    printer.heading("Crashes")
    for places, crash in crashes:
        _crash_lines(printer, crash, places)
    controls = grouped((f"{c.kind.replace('_', ' ')} in {c.mode}",
                        (c.imports, c.runs, c.crashed, c.no_native_code, c.problem, c.crash)) for c in result.controls)
    for places, (imports, runs, crashed, no_native_code, problem, crash) in controls:
        verdict = "crashed too: CPython's problem, the tier is kept" if crashed else \
            ("did not crash, but only pure-Python code and CPython's own modules had loaded and the crash "
             "stopped outside any Python frame: CPython's problem, the tier is kept") if no_native_code else \
            "did not crash: the package is blamed"
        printer.line(f"control for {'; '.join(places)}: the standard library alone "
                     f"(import {', '.join(imports) or 'nothing'}), {why.runs(runs)} each, {verdict}"
                     + (f" [{problem}]" if problem else ""), 2)
        if crash is not None and crash.stderr_tail:
            printer.block(crash.stderr_tail, 6)


def _verdict_facts(printer: Printer, result: DistributionResult) -> None:
    """What the why lines do not say: the culprit, the verdict's notes, bad input met."""
    facts = [f"culprit: {culprit_of(result)}"] if culprit_of(result) else []
    facts += [f"note: {n}" for n in result.notes]
    facts += [f"problem: {p}" for p in result.problems]
    for fact in facts:
        printer.line(fact, 2)


def _smoke(printer: Printer, result: DistributionResult) -> None:
    if not smoke.has_smoke(result):
        return
    mode = smoke.mode_of(result)
    printer.heading(f"Smoke checks{f' (in {mode} interpreters)' if mode else ''}")
    for check in smoke.CHECKS:
        status = smoke.check_status(result, check)
        text = Text(f"{smoke.HEADINGS[check]:<9}", style="bold")
        text.append(f"{status:<13}", style={"passed": "green", "failed": "red", "crashed": "bold red"}.get(status, "yellow"))
        text.append(smoke.TITLES[check], style="dim")
        printer.line(text, 2, hang=11)
        rungs = smoke.rungs_text(result, check)
        for line in ([f"ran in: {rungs}"] if rungs else []) + smoke.details(result, check) + smoke.items(result, check):
            printer.line(line, 13)
        stderr = smoke.crash_stderr(result, check)
        if stderr:
            printer.block(stderr, 15)


def _extensions(printer: Printer, result: DistributionResult) -> None:
    if not result.extensions:
        return
    printer.heading("Extension modules (static evidence; [method] behind each value)")
    for info in result.extensions:
        printer.line(Text(info.module, style="bold") + Text(f"  {info.path}", style="dim"), 2)
        for name, label in EXTENSION_FIELDS:
            value = getattr(info, name)
            if name == "framework" and value is not None:
                value = f"{value.name} {value.version}" if value.version else value.name
            if isinstance(value, list):
                value = ", ".join(value) or "none"
            shown = "absent" if value is None else str(value)
            method = info.method.get(name)
            printer.line(f"{label}: {shown}" + (f"  [{method}]" if method else ""), 4)
        for key, value in sorted(info.evidence.items()):
            shown = value if isinstance(value, str) else json.dumps(value, sort_keys=True, ensure_ascii=False)
            printer.line(f"{key}: {shown}", 4, style="dim")
        if info.reason:
            printer.line(f"unknown because: {info.reason}", 4)


def _findings(printer: Printer, result: DistributionResult) -> None:
    if not result.findings:
        return
    printer.heading("Findings")
    for finding in sorted(result.findings, key=why.severity_rank, reverse=True):
        text = Text(finding.code, style="bold cyan")
        text.append(f" [{finding.severity}]" + (f" {finding.module}:" if finding.module else "") + f" {finding.message}")
        printer.line(text, 2)
        if finding.detail:
            printer.line(finding.detail, 4, style="dim")
        if finding.remediation:
            printer.line(f"fix: {finding.remediation}", 4, style="green")
        printer.line(f"more: interp-audit explain {finding.code}", 4, style="dim")


def render(shown: list[Shown], console: Console) -> None:
    """Print every interpreter's result for one distribution."""
    printer = Printer(console)
    for k, entry in enumerate(shown):
        result, python = entry.result, entry.python
        if k:
            console.print()
        title = Text(f"{result.name} {result.version}", style="bold")
        title.append(f" on Python {python.version} ({python.executable})")
        printer.line(title)
        tier = Text("tier: ")
        tier.append(tier_text(result), style=TIER_STYLES.get(result.tier or "", "dim"))
        if result.flags:
            tier.append(f"   flags: {', '.join(result.flags)}", style="yellow")
        printer.line(tier, 2)
        if result.summary:
            printer.line(result.summary, 2, style="dim")
        for line in why.evidence(result):
            printer.line(f"why: {line}", 2)
        _verdict_facts(printer, result)
        for problem in entry.known_problems:
            if problem.id in result.cpython_problems:
                printer.line(f"known problem of this Python [{problem.id}]: {problem.what}. {problem.advice}.", 2,
                             style="yellow")
        _modules(printer, result)
        _crashes(printer, result)
        _smoke(printer, result)
        _extensions(printer, result)
        _findings(printer, result)
        printer.heading("What to do")
        for line in what_to_do(result):
            printer.line(f"- {line}", 2)
