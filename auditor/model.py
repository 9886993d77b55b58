"""Plain data passed between the stages of a scan.

Every stage (inventory, runtime probes, static probes, verdict, rules, reports)
takes and returns these dataclasses.  They convert to and from JSON-able dicts
with :func:`to_dict` / :func:`from_dict`, which is also the JSON report format
documented in ``docs/json-schema.md``.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from dataclasses import dataclass, field
from typing import Any, Callable, Optional

SCHEMA_VERSION = 3

#: The interpreter ladder, strictest first.
MODES = ("isolated", "shared-gil", "legacy", "main")
SCENARIOS = ("alone", "beside_main")

#: Verdict tiers, best first.  A tier names the strictest mode that works.
TIERS = ("own-gil", "shared-gil", "legacy-only", "main-only", "broken")
TIER_OF_MODE = {"isolated": "own-gil", "shared-gil": "shared-gil", "legacy": "legacy-only", "main": "main-only"}

FLAGS = ("one-per-process", "degraded", "crashed", "blocked-by", "smoke-failed")

#: The smoke checks, in the order of the report (docs/smoke.md), the ones whose failure costs a rung,
#: and the statuses a check can end in.
SMOKE_CHECKS = ("generic", "snippets", "parallel", "reimport", "static_types", "cross_interpreter", "cost")
SMOKE_FAILING_CHECKS = ("generic", "snippets", "parallel", "reimport", "static_types")
SMOKE_STATUSES = ("passed", "failed", "crashed", "inconclusive", "skipped", "error")

#: CPython's refusal of an extension module in a sub-interpreter; group 1 is the module.
REFUSAL = re.compile(r"module (\S+?) does not support loading in subinterpreters")
SEVERITIES = ("info", "low", "medium", "high", "critical")


def tier_rank(tier: str) -> int:
    """0 for the best tier, growing as tiers get worse."""
    return TIERS.index(tier)


@dataclass
class Crash:
    """A worker process that died or hung."""

    signal: Optional[str] = None  # e.g. "SIGSEGV", None for a timeout or plain exit
    returncode: Optional[int] = None
    timeout: bool = False
    culprit: Optional[str] = None  # the module whose import was in progress
    culprit_is_stdlib: bool = False
    stderr_tail: str = ""
    at_shutdown: bool = False  # every import had finished: the process died while shutting down


@dataclass
class BlockedBy:
    """The root cause of an ImportError: a module refusing sub-interpreters."""

    module: str
    distribution: Optional[str] = None
    stdlib: bool = False
    message: str = ""


@dataclass
class ScenarioResult:
    """One scenario (alone / beside main) of one mode for one import name."""

    ok: bool
    error: Optional[str] = None  # "ExcType: message" of the failure
    error_chain: list[str] = field(default_factory=list)  # the __cause__/__context__ chain, outermost first
    crash: Optional[Crash] = None
    loaded_extensions: list[str] = field(default_factory=list)  # dist extension modules in sys.modules after import
    seconds: Optional[float] = None
    failed_module: Optional[str] = None  # the module whose import raised first
    missing_extensions: list[str] = field(default_factory=list)  # loaded in main, not here: a working fallback
    inferred: Optional[str] = None  # why this scenario was derived from another instead of run


@dataclass
class ModeResult:
    """A rung of the ladder: passes only when both scenarios pass."""

    ok: Optional[bool]
    error: Optional[str] = None
    inferred: Optional[str] = None  # why this result was not run but derived, or None
    crash: Optional[Crash] = None
    alone: Optional[ScenarioResult] = None
    beside_main: Optional[ScenarioResult] = None


@dataclass
class Framework:
    name: str  # cython, pybind11, nanobind, pyo3, mypyc, cffi, swig, hpy, c-api, unknown
    version: Optional[str] = None


@dataclass
class ExtensionInfo:
    """Static evidence about one extension-module file."""

    module: str
    path: str
    init: str = "unknown"  # single-phase | multi-phase | not-an-extension | unknown
    multiple_interpreters: Optional[str] = None  # not-supported | supported | per-interpreter-gil | None (absent)
    multiple_interpreters_effective: Optional[str] = None  # what CPython applies when the slot is absent
    gil: Optional[str] = None  # used | not-used | None
    m_size: Optional[int] = None
    slots: list[str] = field(default_factory=list)
    framework: Optional[Framework] = None
    evidence: dict[str, Any] = field(default_factory=dict)
    method: dict[str, str] = field(default_factory=dict)  # field name -> how it was obtained
    reason: Optional[str] = None  # why something is unknown


@dataclass
class Finding:
    """A rule's verdict on one distribution or module."""

    code: str
    severity: str
    message: str
    distribution: Optional[str] = None
    module: Optional[str] = None
    detail: Optional[str] = None
    remediation: Optional[str] = None


@dataclass
class ModuleResult:
    """One import name or public submodule that climbed the ladder on its own."""

    name: str
    kind: str = "top-level"  # top-level | submodule
    tier: Optional[str] = None  # None when excluded or not climbed
    modes: dict[str, ModeResult] = field(default_factory=dict)
    error: Optional[str] = None  # why a submodule climbed (its failure in the first sub-interpreter), or the main error
    excluded: bool = False  # listed in ignore-modules: shown, not counted
    inferred: Optional[str] = None  # why the tier was derived instead of climbed


@dataclass
class Control:
    """A crash re-run with only the standard-library modules the package's import loaded."""

    kind: str  # the ladder scenario ("alone", "beside_main") or the smoke check that crashed
    mode: str
    imports: list[str] = field(default_factory=list)  # the standard-library modules imported instead
    runs: int = 0
    crashed: bool = False  # True: the standard library alone reproduces it, CPython's problem
    crash: Optional[Crash] = None  # the control's own crash
    problem: Optional[str] = None  # KnownProblem.id when CPython's
    # True: not reproduced, but no native code except CPython's could have run (verdict.py,
    # only_cpython_code) and the crash stopped outside any Python frame: CPython's problem too.
    no_native_code: bool = False

    @property
    def cpython(self) -> bool:
        """The crash is CPython's: the control reproduced it, or nothing else could have caused it."""
        return self.crashed or self.no_native_code


@dataclass
class KnownProblem:
    """A crash of this CPython build that the standard library alone reproduces."""

    id: str
    what: str  # what crashes, in a sentence
    reproduction: list[str] = field(default_factory=list)  # the smallest stdlib import list that reproduced it
    kind: str = ""  # the scenario or check that reproduces it
    mode: str = ""
    advice: str = "upgrade to the newest patch release of this Python; report it to CPython if it persists"
    distributions: list[str] = field(default_factory=list)  # whose audit ran into it


# --------------------------------------------------------------------------- smoke results
#
# The smoke checks' results (docs/smoke.md, $defs/Smoke* of the JSON schema).  A key the schema
# marks optional is left out of the JSON while its field is None (``_optional``); the keys a check
# writes only once it ran are left out while ``seconds`` is None (``_when_ran``).


def _optional(guard: str = "") -> Any:
    """A field whose JSON key is written only when field ``guard`` (default: this one) is not None."""
    return field(default=None, metadata={"written_if": guard})


def _when_ran(default: Any = None, factory: Optional[Callable[[], Any]] = None) -> Any:
    """A field written only when the check ran (``seconds`` is set)."""
    if factory is not None:
        return field(default_factory=factory, metadata={"written_if": "seconds"})
    return field(default=default, metadata={"written_if": "seconds"})


@dataclass
class SmokeCrash(Crash):
    """A smoke worker's crash, with the steps that were in progress."""

    open_steps: list[str] = field(default_factory=list)  # "where: module|step name", oldest first
    explained_by: Optional[str] = _optional()  # the check whose finding accounts for this crash


@dataclass
class SmokeCheck:
    """What every smoke check reports."""

    status: str  # one of SMOKE_STATUSES
    ok: Optional[bool] = None  # None: skipped, inconclusive or a probe error
    reason: Optional[str] = _optional()  # why the check was skipped or could not decide
    error: Optional[str] = _optional()
    seconds: Optional[float] = _optional()  # None: the check did not run
    crash: Optional[SmokeCrash] = _when_ran()


@dataclass
class SmokeWalkFailure:
    """A module of the walk that failed to import (``attribute`` None) or whose attribute raised."""

    module: str
    error: str
    attribute: Optional[str] = None
    chain: list[str] = field(default_factory=list)  # the exception chain, outermost first


@dataclass
class SmokeGeneric(SmokeCheck):
    error: Optional[str] = _when_ran()
    modules_walked: list[str] = _when_ran(factory=list)
    failed: list[SmokeWalkFailure] = _when_ran(factory=list)
    skipped: list[dict[str, Any]] = _when_ran(factory=list)  # {module, reason}
    refused: list[dict[str, Any]] = _when_ran(factory=list)  # {module, error}: submodules refusing sub-interpreters
    truncated: bool = _when_ran(False)
    attributes_touched: int = _when_ran(0)
    not_walked: Optional[list[str]] = _optional()


@dataclass
class SmokeSnippet:
    """One snippet run in a fresh interpreter."""

    name: str
    source: str
    ok: Optional[bool] = None
    error: Optional[str] = None
    result: Optional[str] = None
    fails_in_main_too: bool = False
    crash: Optional[SmokeCrash] = None
    seconds: Optional[float] = None


@dataclass
class SmokeSnippets(SmokeCheck):
    items: Optional[list[SmokeSnippet]] = _optional()
    invalid: Optional[list[str]] = _optional()  # snippets that fail in the main interpreter too


@dataclass
class SmokeParallelError:
    round: int
    where: str
    error: Optional[str] = None
    explained_by: Optional[str] = _optional()  # the check that shows it without concurrency


@dataclass
class SmokeDifference:
    """A snippet whose results differ between the parallel interpreters."""

    snippet: str
    variants: list[dict[str, Any]] = field(default_factory=list)  # {results, where}
    explained_by: Optional[str] = _optional()


@dataclass
class SmokeParallel(SmokeCheck):
    interpreters: int = _when_ran(0)
    rounds: int = _when_ran(0)
    rounds_completed: int = _when_ran(0)
    iterations: int = _when_ran(0)
    errors: list[SmokeParallelError] = _when_ran(factory=list)
    different_results: list[SmokeDifference] = _when_ran(factory=list)
    deadlock: Optional[bool] = _optional()
    note: Optional[str] = _optional()


@dataclass
class SmokeReimport(SmokeCheck):
    rounds: int = _when_ran(0)
    rounds_completed: int = _when_ran(0)
    failures: list[dict[str, Any]] = _when_ran(factory=list)  # {index, error, chain}
    state_leaks: list[dict[str, Any]] = _when_ran(factory=list)  # {snippet, results[, explained_by, environment]}
    first_error: Optional[str] = _when_ran()
    crashed_in_round: Optional[int] = _optional()


@dataclass
class SmokeStaticTypes(SmokeCheck):
    shared: Optional[list[dict[str, Any]]] = _optional()  # {type, module, attribute, heap}
    checked: Optional[list[str]] = _optional()
    errors: dict[str, Optional[str]] = _when_ran(factory=dict)
    types_compared: int = _when_ran(0)


@dataclass
class SmokeObject:
    """A package object sent to another interpreter."""

    source: str  # the snippet or public name it came from
    type: str
    crosses: bool
    native: bool = False  # shareable as is
    pickle: Optional[str] = None  # "ok" or why not
    buffer: Optional[str] = None  # "ok" or why not


@dataclass
class SmokeCrossInterpreter(SmokeCheck):
    error: Optional[str] = _when_ran()
    mechanism: Optional[str] = _when_ran()
    objects: list[SmokeObject] = _when_ran(factory=list)


@dataclass
class SmokeCost(SmokeCheck):
    samples: list[dict[str, Any]] = _when_ran(factory=list)  # {import_seconds, interpreter_kib, import_kib}
    rss_source: Optional[str] = _optional()
    first_import_seconds: Optional[float] = _optional("rss_source")
    import_seconds_median: Optional[float] = _optional("rss_source")
    interpreter_rss_kib_median: Optional[float] = _optional("rss_source")
    import_rss_kib_median: Optional[float] = _optional("rss_source")
    rss_growth_kib_median: Optional[float] = _optional("rss_source")


@dataclass
class SmokeReport:
    """The smoke checks of one distribution, run in ``mode`` interpreters (``DistributionResult.smoke``)."""

    mode: str
    generic: SmokeGeneric
    snippets: SmokeSnippets
    parallel: SmokeParallel
    reimport: SmokeReimport
    static_types: SmokeStaticTypes
    cross_interpreter: SmokeCrossInterpreter
    cost: SmokeCost
    python: str = ""
    distribution: str = ""
    snippets_used: list[dict[str, str]] = field(default_factory=list)  # {name, source}
    ok: bool = True
    failed_checks: list[str] = field(default_factory=list)
    seconds: float = 0.0
    rungs: dict[str, dict[str, str]] = field(default_factory=dict)  # failing check -> {rung: status}
    processes: Optional[int] = _optional()  # worker processes the checks ran in: 1 when they shared one

    def check(self, name: str) -> SmokeCheck:
        """The result of check ``name`` (one of SMOKE_CHECKS)."""
        return getattr(self, name)


@dataclass
class DistributionResult:
    name: str
    version: str
    import_names: list[str] = field(default_factory=list)
    tier: Optional[str] = None
    flags: list[str] = field(default_factory=list)
    modes: dict[str, ModeResult] = field(default_factory=dict)
    modules: list[ModuleResult] = field(default_factory=list)  # every import name, then climbed submodules
    culprit: Optional[str] = None
    blocked_by: list[BlockedBy] = field(default_factory=list)
    degraded_modules: list[str] = field(default_factory=list)
    degraded_in: dict[str, list[str]] = field(default_factory=dict)  # module -> rungs where it did not load
    one_per_process: list[dict[str, Any]] = field(default_factory=list)  # {module, framework, refusal}
    extensions: list[ExtensionInfo] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    smoke: Optional[SmokeReport] = field(default=None, metadata={"json_none": {}})  # written {} when none ran
    summary: Optional[str] = None
    notes: list[str] = field(default_factory=list)
    controls: list[Control] = field(default_factory=list)
    cpython_problems: list[str] = field(default_factory=list)  # KnownProblem ids this audit ran into
    excluded_modules: list[str] = field(default_factory=list)
    static_only: bool = False
    problems: list[str] = field(default_factory=list)  # bad input met: no RECORD, unreadable or corrupt files


@dataclass
class PythonInfo:
    version: str
    implementation: str
    executable: str
    hexversion: int = 0
    platform: str = ""
    ext_suffix: str = ""
    sysconfig_platform: str = ""
    chosen_because: Optional[str] = None


@dataclass
class InterpreterRun:
    python: PythonInfo
    distributions: list[DistributionResult] = field(default_factory=list)
    scope: str = "environment"  # environment | stdlib
    known_problems: list[KnownProblem] = field(default_factory=list)


@dataclass
class ScanReport:
    interpreters: list[InterpreterRun] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    tool_version: str = ""
    generated_at: str = ""


@dataclass
class Blocker:
    """A module of an application's import graph that keeps the application from a better tier."""

    module: str
    distribution: Optional[str] = None  # None: the application's own code
    framework: Optional[str] = None  # of the refusing extension module, when known
    tier: Optional[str] = None  # the distribution's tier as the application uses it
    blocks: list[str] = field(default_factory=list)  # the better tiers it rules out, best first
    reason: str = ""  # one interpreter per process, refuses ..., crashed ...


@dataclass
class AppReport:
    """``interp-audit app``: one application's readiness on one interpreter."""

    target: str  # as given: module, module:attribute or a script path
    module: str
    attribute: Optional[str] = None
    kind: Optional[str] = None  # asgi | wsgi | callable | object | None (a module)
    python: Optional[PythonInfo] = None
    tier: Optional[str] = None
    app: Optional[DistributionResult] = None  # the target's own ladder, flags and notes
    blockers: list[Blocker] = field(default_factory=list)  # worst first
    degraded: list[dict[str, Any]] = field(default_factory=list)  # {module, distribution, rungs}
    graph_modules: int = 0  # modules the target's import loaded in main
    distributions: list[DistributionResult] = field(default_factory=list)  # third-party ones of the graph
    known_problems: list[KnownProblem] = field(default_factory=list)
    run: dict[str, Any] = field(default_factory=dict)  # --run: the behaviour per rung
    notes: list[str] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    tool_version: str = ""
    generated_at: str = ""


def _written(obj: Any, f: dataclasses.Field) -> bool:
    """False for an optional key left out (see ``_optional``)."""
    guard = f.metadata.get("written_if")
    return guard is None or getattr(obj, guard or f.name) is not None


def _field_value(obj: Any, f: dataclasses.Field) -> Any:
    value = getattr(obj, f.name)
    return f.metadata["json_none"] if value is None and "json_none" in f.metadata else to_dict(value)


def to_dict(obj: Any) -> Any:
    """Convert a dataclass tree into JSON-able dicts and lists."""
    if dataclasses.is_dataclass(obj):
        return {f.name: _field_value(obj, f) for f in dataclasses.fields(obj) if _written(obj, f)}
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [to_dict(v) for v in obj]
    return obj


def _identity(value: Any) -> Any:
    return value


def _none_kept(convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    return lambda data: None if data is None else convert(data)


@functools.lru_cache(maxsize=None)
def _converter(cls: Any) -> Callable[[Any], Any]:
    """A function rebuilding values of type ``cls`` from JSON-able data (None stays None),
    made once per type: a re-scan rebuilds thousands of stored values."""
    origin, args = typing.get_origin(cls), typing.get_args(cls)
    if origin is typing.Union:
        return _converter(next(a for a in args if a is not type(None)))
    if origin is list:
        item = _converter(args[0])
        return _identity if item is _identity else _none_kept(lambda data: [item(v) for v in data])
    if origin is dict:
        value = _converter(args[1])
        return _identity if value is _identity else _none_kept(lambda data: {k: value(v) for k, v in data.items()})
    if dataclasses.is_dataclass(cls):
        hints = typing.get_type_hints(cls)
        fields = [(f.name, _field_converter(f, _converter(hints[f.name]))) for f in dataclasses.fields(cls)]

        def convert(data: Any) -> Any:
            if not isinstance(data, dict):
                raise TypeError(f"{cls.__name__} must be an object, not {type(data).__name__}")
            return cls(**{name: build(data[name]) for name, build in fields if name in data})
        return _none_kept(convert)
    return _identity


def _field_converter(f: dataclasses.Field, convert: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """``convert``, reading the field's ``json_none`` value (``{}`` for no smoke run) back as None."""
    if "json_none" not in f.metadata:
        return convert
    empty = f.metadata["json_none"]
    return lambda data: None if data == empty else convert(data)


def from_dict(cls: Any, data: Any) -> Any:
    """Rebuild a dataclass tree of type ``cls`` from :func:`to_dict` output.

    Unknown keys are ignored, so newer files load in older code.
    """
    return _converter(cls)(data)
