"""Benchmark ``interp-audit check``: lines per second on a large real source tree.

By default the tree is the numpy sdist (about 2,000 C, C++ and Cython files,
over 500,000 lines), downloaded from PyPI into a temporary directory (never
into the repository); ``--tree PATH`` checks a tree you already have, e.g. a
CPython checkout's ``Modules/``.

It prints the lines checked per second and, as a ratio, how much the rules add
to bare tree-sitter parsing of the same C/C++ files::

    python benchmarks/bench_check.py
    python benchmarks/bench_check.py --tree ~/src/cpython/Modules --repeat 3
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
import tarfile
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from interp_audit.check import c_family
from interp_audit.check.runner import check_paths, discover

DEFAULT_PROJECT, DEFAULT_VERSION = "numpy", "2.1.3"


def download_sdist(project: str, version: str, target: Path) -> Path:
    """Unpack the sdist of ``project`` ``version`` from PyPI under ``target``; return the unpacked tree."""
    index = "https://pypi.org/pypi/%s/json" % project
    with urllib.request.urlopen(index, timeout=60) as response:
        meta = json.load(response)
    sdist = next(u for u in meta["releases"][version] if u["packagetype"] == "sdist")
    with urllib.request.urlopen(urllib.parse.urljoin(index, sdist["url"]), timeout=300) as response:
        data = response.read()
    if hashlib.sha256(data).hexdigest() != sdist["digests"]["sha256"]:
        raise SystemExit("sha256 mismatch for %s" % sdist["filename"])
    with tarfile.open(fileobj=io.BytesIO(data)) as archive:
        archive.extractall(target, filter="data")
    return target


def parse_only_seconds(tree: Path) -> float:
    """Seconds to read and parse the tree's C/C++ files with tree-sitter, without any rule."""
    files, _ = discover([tree])
    start = time.perf_counter()
    for path, checker in files:
        if checker.language in ("c", "c++"):
            grammar = c_family._grammar(checker.language)
            grammar.parser.parse(c_family.prepare(path.read_bytes()))
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tree", type=Path, help="check this directory instead of downloading an sdist")
    parser.add_argument("--project", default=DEFAULT_PROJECT)
    parser.add_argument("--version", default=DEFAULT_VERSION)
    parser.add_argument("--repeat", type=int, default=1, help="best of N runs")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-check-") as scratch:
        tree = args.tree or download_sdist(args.project, args.version, Path(scratch))
        label = str(args.tree) if args.tree else "%s %s sdist" % (args.project, args.version)
        best = None
        for _ in range(args.repeat):
            start = time.perf_counter()
            report = check_paths([tree])
            elapsed = time.perf_counter() - start
            best = elapsed if best is None else min(best, elapsed)
        parse = parse_only_seconds(tree)

    print("tree:            %s" % label)
    print("files checked:   %d (%d skipped, %d unreadable)" % (len(report.files), len(report.skipped), len(report.errors)))
    print("lines checked:   %d" % report.lines)
    print("findings:        %d (%d suppressed)" % (len(report.findings), len(report.suppressed)))
    print("seconds:         %.2f (best of %d)" % (best, args.repeat))
    print("lines/second:    %.0f" % (report.lines / best if best else float("inf")))
    print("files/second:    %.0f" % (len(report.files) / best if best else float("inf")))
    print("check / bare tree-sitter parse time: %.2fx" % (best / parse if parse else float("inf")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
