"""Would a fork server pay?  A probe process started fresh against one forked from a warm parent.

Usage::

    python benchmarks/bench_startup.py /tmp/bench-scan/bin/python [-n 40]

Measured side by side, ``-n`` times each, on the target interpreter:

* ``python -P -c pass`` -- the bare start-up;
* the runtime probe (``auditor/probe/runtime.py``) run as the ladder runs it, for the
  ``alone`` scenario of ``keyword`` in an isolated sub-interpreter (a module that costs
  nothing to import, so what is left is the process and the probe);
* the same scenario in a child forked from a parent that has loaded the probe and nothing
  else -- what a fork server of the target interpreter would run per scenario.

The difference is what a fork server could save per probe process; multiplied by the
processes of a scan (``bench_breakdown.py`` counts them) it bounds the gain.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from interp_audit.runtime.worker import encode_request

PROBE = Path(__file__).resolve().parent.parent / "auditor" / "probe" / "runtime.py"
REQUEST = encode_request({"names": ["keyword"], "mode": "isolated", "scenario": "alone", "extensions": []},
                         tempfile.gettempdir())
#: Runs in the target: load the probe once, then fork a child per scenario; prints seconds per child.
FORKING = r'''
import os, runpy, sys, time
probe = runpy.run_path(sys.argv[1], run_name="_interp_audit_runtime")
fd, request, count = int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
started = time.perf_counter()
for _ in range(count):
    pid = os.fork()
    if pid == 0:
        try:
            probe["main"](["runtime.py", request, str(fd)])
        finally:
            os._exit(0)
    os.waitpid(pid, 0)
print((time.perf_counter() - started) / count)
'''


def _mean_seconds(command: list[str], count: int, fd: int) -> float:
    started = time.perf_counter()
    for _ in range(count):
        subprocess.run(command, check=True, pass_fds=(fd,), stdout=subprocess.DEVNULL)
    return (time.perf_counter() - started) / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("python", help="the target interpreter")
    parser.add_argument("-n", type=int, default=40, help="runs of each (default 40)")
    args = parser.parse_args()
    write_end = os.open(os.devnull, os.O_WRONLY)  # the probe's events go nowhere
    bare = _mean_seconds([args.python, "-P", "-c", "pass"], args.n, write_end)
    fresh = _mean_seconds([args.python, "-P", str(PROBE), REQUEST, str(write_end)], args.n, write_end)
    forked = float(subprocess.run([args.python, "-P", "-c", FORKING, str(PROBE), str(write_end), REQUEST, str(args.n)],
                                  check=True, pass_fds=(write_end,), capture_output=True, text=True).stdout)
    os.close(write_end)
    print(f"python -P -c pass:             {bare * 1000:6.1f} ms")
    print(f"probe, fresh process:          {fresh * 1000:6.1f} ms")
    print(f"probe, forked from warm parent: {forked * 1000:6.1f} ms")
    print(f"a fork server saves            {(fresh - forked) * 1000:6.1f} ms per probe process "
          f"({(fresh - forked) / fresh:.0%} of the cheapest scenario)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
