"""Static evidence speed: our ELF reader against one ``nm -D --defined-only`` per file.

Usage::

    python benchmarks/bench_static.py --create /tmp/bench-env       # build a large venv once
    python benchmarks/bench_static.py --env /tmp/bench-env          # measure

``--create`` makes a venv of ``--python`` (default: the newest CPython 3.12+
found, else this one) with numpy, scipy, pandas, scikit-learn, pillow, lxml,
pydantic-core, cryptography and pyyaml (wheels from PyPI, via uv when present).
The measurement reads every extension module of the environment three ways in
one run and prints files/s, MB/s and the ratios:

* ``nm``        -- ``nm -D --defined-only FILE`` in a loop (the baseline);
* ``slots``     -- the slot reader: :func:`read_binary` without fingerprints (symbols,
  relocations, every PyModuleDef and its slots) and choosing each module's def;
* ``reader``    -- :func:`read_binary` (the above plus writable data, fingerprint strings);
* ``inspect``   -- :func:`inspect_extensions` with ``run_init=False``, i.e. the
  whole ``--static-only`` path (reader + framework + evidence).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

from interp_audit.static.evidence import init_function_name
from interp_audit.static.frameworks import ANCHORS
from interp_audit.static.inspection import inspect_extensions
from interp_audit.static.moduledef import select_module_def
from interp_audit.static.readers import read_binary

PACKAGES = ["numpy", "scipy", "pandas", "scikit-learn", "pillow", "lxml", "pydantic-core", "cryptography", "pyyaml"]
EXTENSION = re.compile(r"\.(cpython-[^.]+|abi3)\.so$|^[^.]+\.so$")


def _default_python() -> str:
    for candidate in ("/root/.pyenv/versions/3.13.0/bin/python3.13", "/root/.pyenv/versions/3.12.1/bin/python3.12"):
        if os.path.exists(candidate):
            return candidate
    return sys.executable


def create(env: Path, python: str) -> None:
    subprocess.run([python, "-m", "venv", "--without-pip", str(env)], check=True)
    uv = shutil.which("uv") or str(Path(sys.executable).parent / "uv")
    if os.path.exists(uv):
        command = [uv, "pip", "install", "--python", str(env / "bin" / "python")]
    else:
        command = [python, "-m", "pip", "--python", str(env / "bin" / "python"), "install"]
    subprocess.run(command + PACKAGES, check=True)


def extension_files(env: Path) -> list[Path]:
    """Every extension module under the environment's lib/ directory."""
    files = []
    for root, dirs, names in os.walk(env / "lib"):
        dirs[:] = [d for d in dirs if not d.endswith(".libs")]  # vendored libraries, not modules
        files.extend(Path(root) / n for n in names if EXTENSION.search(n))
    return sorted(files)


def _module(env: Path, path: Path) -> str:
    site = next(p for p in path.parents if p.name == "site-packages")
    return ".".join(path.relative_to(site).parts).split(".cpython-")[0].split(".abi3")[0].removesuffix(".so")


def measure(env: Path, rounds: int) -> None:
    files = extension_files(env)
    if not files:
        raise SystemExit(f"no extension modules under {env}/lib")
    if not shutil.which("nm"):
        raise SystemExit("nm (binutils) is not installed")
    megabytes = sum(f.stat().st_size for f in files) / 1e6
    pairs = [(_module(env, f), str(f)) for f in files]

    def run_nm():
        for f in files:
            subprocess.run(["nm", "-D", "--defined-only", str(f)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def run_reader():
        for f in files:
            read_binary(str(f), ANCHORS)

    def run_inspect():
        inspect_extensions(None, pairs, run_init=False)

    def run_slots():
        for module, path in pairs:
            facts = read_binary(path)
            select_module_def(facts.module_defs, facts.init_loads, module, init_function_name(module))

    timings = {}
    for name, job in (("nm", run_nm), ("slots", run_slots), ("reader", run_reader), ("inspect", run_inspect)):
        best = float("inf")
        for _ in range(rounds):
            started = time.perf_counter()
            job()
            best = min(best, time.perf_counter() - started)
        timings[name] = best

    print(f"{len(files)} extension modules, {megabytes:.1f} MB, best of {rounds} round(s)")
    for name, seconds in timings.items():
        print(f"  {name:8s} {seconds:8.3f} s  {len(files) / seconds:9.1f} files/s  {megabytes / seconds:9.1f} MB/s")
    print(f"ratio nm / slots  : {timings['nm'] / timings['slots']:.1f}x")
    print(f"ratio nm / reader : {timings['nm'] / timings['reader']:.1f}x")
    print(f"ratio nm / inspect: {timings['nm'] / timings['inspect']:.1f}x")


def _declared(info) -> str:
    """One cell of the agreement table: init kind and declared slots, or why unknown."""
    if info.init != "multi-phase":
        return info.init
    if info.method.get("slots") is None:
        return "unknown"
    parts = [info.multiple_interpreters or "no slot"]
    if info.gil:
        parts.append("gil " + info.gil)
    return ", ".join(parts)


def agreement(env: Path, python: str) -> None:
    """Print, per extension module, what the slot reader and the init probe each say."""
    files = extension_files(env)
    pairs = [(_module(env, f), str(f)) for f in files]
    static = inspect_extensions(python, pairs, run_init=False)
    probed = inspect_extensions(python, pairs, run_init=True)
    counts = {"agree": 0, "static unknown": 0, "probe unknown": 0, "disagree": 0, "not an extension": 0}
    agreed: dict[str, int] = {}
    for mine, theirs in zip(static, probed):
        said, truth = _declared(mine), _declared(theirs)
        if theirs.init == "not-an-extension":
            verdict = "not an extension"
        elif truth == "unknown" or theirs.method.get("init") != "initfunc":
            verdict = "probe unknown"
        elif said == "unknown":
            verdict = "static unknown"
        elif said == truth and mine.m_size in (None, theirs.m_size):  # m_size compared where a def was found
            verdict = "agree"
        else:
            verdict = "disagree"
        counts[verdict] += 1
        if verdict == "agree":
            agreed[said] = agreed.get(said, 0) + 1
        if verdict not in ("agree", "not an extension"):
            print(f"  {verdict:15s} {mine.module}: static {said!r} ({mine.reason}), probe {truth!r} ({theirs.reason})")
    print(f"{len(pairs)} extension modules: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
    print("agreeing on: " + ", ".join(f"{n} {k}" for k, n in sorted(agreed.items(), key=lambda kv: -kv[1])))


def _loaded_in_main(dist: dict) -> set[str]:
    """Extension modules the measured import loaded in the main interpreter."""
    loaded: set[str] = set()
    for modes in (dist.get("per_name") or {}).values():
        main = modes.get("main") or {}
        for scenario in (main.get("alone"), main.get("beside_main")):
            loaded |= set((scenario or {}).get("loaded_extensions") or [])
    return loaded


def compare_tiers(static_json: Path, measured_json: Path) -> None:
    """Predicted (``scan --static-only``) against measured (``scan``) tiers, per distribution.

    The prediction is taken over the extension modules the measured import
    loaded (declarations of modules an import never loads cannot decide it).
    """
    order = ["own-gil", "shared-gil", "legacy-only", "main-only", "broken"]
    of_declaration = {"per-interpreter-gil": "own-gil", "supported": "shared-gil", "not-supported": "legacy-only"}
    static = {d["name"]: d for d in json.loads(static_json.read_text())["interpreters"][0]["distributions"]}
    measured = {d["name"]: d for d in json.loads(measured_json.read_text())["interpreters"][0]["distributions"]}
    groups: dict[str, list[str]] = {}
    for name in sorted(static):
        tier = measured[name]["tier"]
        loaded = _loaded_in_main(measured[name])
        used = [e for e in static[name]["extensions"] if e["module"] in loaded]
        unknown = [e for e in used if e["init"] == "unknown" or (e["init"] == "multi-phase" and "slots" not in e["method"])]
        allowed = ["own-gil"] + ["legacy-only" if e["init"] == "single-phase" else
                                 of_declaration[e["multiple_interpreters"] or e["multiple_interpreters_effective"]]
                                 for e in used if e not in unknown and e["init"] in ("single-phase", "multi-phase")]
        predicted = max(allowed, key=order.index)
        if not used:
            group = "import loads no extension module"
        elif unknown:
            group = "a loaded module's declarations unknown"
        elif predicted == tier:
            group = "measured = predicted"
        elif order.index(tier) > order.index(predicted):
            group = "measured worse (behaviour the declarations cannot show)"
        else:
            group = "MEASURED BETTER THAN DECLARED"
        groups.setdefault(group, []).append(f"{name} ({predicted} -> {tier})")
    for group, names in groups.items():
        print(f"{group}: {len(names)}\n    " + ", ".join(names))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--env", type=Path, help="venv (or prefix) whose extension modules to read")
    parser.add_argument("--create", type=Path, help="create a large venv here first (needs PyPI)")
    parser.add_argument("--python", default=_default_python(), help="interpreter for --create")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--agreement", action="store_true",
                        help="instead of timing: compare the slot reader with the init probe (runs PyInit_* "
                             "in children of the environment's python)")
    parser.add_argument("--compare-tiers", nargs=2, type=Path, metavar=("STATIC.json", "MEASURED.json"),
                        help="instead of timing: predicted (scan --static-only) against measured (scan) tiers")
    args = parser.parse_args()
    if args.compare_tiers:
        compare_tiers(*args.compare_tiers)
        return
    env = args.env or args.create
    if env is None:
        parser.error("give --env PATH (or --create PATH)")
    if args.create and not (args.create / "lib").exists():
        create(args.create, args.python)
    if args.agreement:
        agreement(env, str(env / "bin" / "python"))
    else:
        measure(env, args.rounds)


if __name__ == "__main__":
    main()
