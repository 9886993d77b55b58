"""Choose and validate the interpreter to audit (the *target*).

``--python`` takes a path or a version such as ``3.13``; versions are found
with findpython (PATH, pyenv, uv, rye, asdf, Windows registry, ...).  Without
``--python`` the running interpreter is used when it is CPython >= 3.12, else
the newest CPython >= 3.12 that can be found.  Every choice carries a sentence
saying why it was made.
"""

from __future__ import annotations

import errno
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

MINIMUM = (3, 12)
WHY_312 = "sub-interpreters with their own GIL need CPython 3.12 or newer"

# ``path`` leaves out the script directory that ``-c`` puts first (probes run with ``-P``).
_IDENTIFY = (
    "import json, sys; print(json.dumps({'implementation': sys.implementation.name, "
    "'version': list(sys.version_info[:3]), 'executable': sys.executable, "
    "'path': sys.path[0 if getattr(sys.flags, 'safe_path', False) else 1:]}))"
)


class TargetError(Exception):
    """The requested interpreter cannot be audited; the message says why."""


@dataclass(frozen=True)
class Target:
    executable: str
    version: tuple[int, int, int]
    chosen_because: str
    sys_path: tuple[str, ...] = ()  # as the probes (``python -P``) see it

    @property
    def label(self) -> str:
        return "%d.%d.%d" % self.version


def _identify(executable: str) -> dict:
    try:
        completed = subprocess.run(
            [executable, "-c", _IDENTIFY], capture_output=True, text=True, timeout=30,
            stdin=subprocess.DEVNULL,
        )
    except OSError as exc:
        if exc.errno == errno.ENOEXEC:
            raise TargetError(f"{executable} is not a Python interpreter (not a program this system can run)") from None
        raise TargetError(f"{executable} cannot be run: {exc.strerror or exc}") from None
    except subprocess.SubprocessError as exc:
        raise TargetError(f"{executable} cannot be run: {exc}") from None
    try:
        info = json.loads(completed.stdout.strip().splitlines()[-1])
        info["version"] = tuple(info["version"])
    except (ValueError, IndexError, KeyError, TypeError):
        raise TargetError(f"{executable} is not a Python interpreter") from None
    return info


def validate(executable: str, because: str) -> Target:
    """Check that ``executable`` is CPython >= 3.12 and describe it.

    The path is made absolute (probes run in scratch directories) but links are
    kept: a venv's ``python`` is a link whose location selects the venv.
    """
    executable = os.path.abspath(executable)
    path = Path(executable)
    if not path.exists():
        raise TargetError(f"{executable} does not exist")
    if path.is_dir() or not os.access(path, os.X_OK):
        raise TargetError(f"{executable} is not an executable file")
    info = _identify(executable)
    if info["implementation"] != "cpython":
        raise TargetError(f"{executable} is {info['implementation']}, not CPython; sub-interpreters are a CPython feature")
    if info["version"] < MINIMUM:
        version = ".".join(map(str, info["version"]))
        raise TargetError(f"{executable} is Python {version}; {WHY_312}")
    return Target(executable=executable, version=info["version"], chosen_because=because,
                  sys_path=tuple(info.get("path") or ()))


def _looks_like_path(spec: str) -> bool:
    return os.sep in spec or "/" in spec or Path(spec).exists()


def _path_dirs() -> list[Path]:
    """The PATH directories worth searching, each once (``/bin`` is often ``/usr/bin``), without
    version-manager shim directories: every shim is a script that findpython would have to run
    to learn its version (about 0.1 s each), and the pyenv and asdf providers list the same
    interpreters directly."""
    dirs = {}
    for entry in os.environ.get("PATH", "").split(os.pathsep):
        if entry and Path(entry).name != "shims":
            dirs.setdefault(os.path.realpath(entry), Path(entry))
    return list(dirs.values())


def _is_alias(executable: Path) -> bool:
    """A link to another interpreter in its own directory (``python3 -> python3.13``).

    A venv's ``python`` links elsewhere and is kept: its location selects the venv.
    """
    if not executable.is_symlink():
        return False
    return Path(os.path.realpath(executable)).parent == Path(os.path.realpath(executable.parent))


def _finder():
    """findpython's finder over every provider, PATH searched as :func:`_path_dirs` says, aliases
    left out: findpython runs every candidate (three times) to learn its version and kind."""
    from findpython import Finder
    from findpython.providers import ALL_PROVIDERS, BaseProvider, PathProvider

    class WithoutAliases(BaseProvider):
        def __init__(self, inner: BaseProvider) -> None:
            self.inner = inner

        @classmethod
        def create(cls) -> None:
            return None

        def find_pythons(self):
            return (python for python in self.inner.find_pythons() if not _is_alias(python.executable))

    finder = Finder(selected_providers=[])
    providers = [PathProvider(_path_dirs())]
    providers += [cls.create() for name, cls in ALL_PROVIDERS.items() if name != PathProvider.name()]
    for provider in providers:
        if provider is not None:
            finder.add_provider(WithoutAliases(provider))
    return finder


def _discovered(spec: Optional[str] = None) -> list:
    """CPython interpreters matching ``spec`` (default: any >= 3.12), best first."""
    finder = _finder()
    found = finder.find_all(spec) if spec else finder.find_all()
    if not spec:  # before asking each one for its implementation, which runs it again
        found = [p for p in found if tuple(p.version.release[:2]) >= MINIMUM]
    return [p for p in found if p.implementation.lower() == "cpython"]


def resolve(spec: Optional[str]) -> Target:
    """Turn a ``--python`` value (or None for the default) into a validated Target."""
    if spec is None:
        return _default()
    if _looks_like_path(spec):
        return validate(spec, "given with --python")
    candidates = _discovered(spec)
    if not candidates:
        raise TargetError(f"no CPython matching {spec!r} was found (looked in PATH, pyenv, uv and other managers)")
    best = candidates[0]
    return validate(str(best.executable), f"--python {spec} resolved to {best.executable}")


def _default() -> Target:
    running = sys.version_info[:3]
    if sys.implementation.name == "cpython" and running >= MINIMUM:
        return validate(sys.executable, "the running interpreter is CPython >= 3.12")
    newest = _discovered()
    if not newest:
        raise TargetError(
            f"the running interpreter is Python {'.'.join(map(str, running))} and no CPython >= 3.12 was found; "
            f"{WHY_312}: install one or pass --python PATH"
        )
    best = newest[0]
    return validate(
        str(best.executable),
        f"newest CPython >= 3.12 found, because the running interpreter is {'.'.join(map(str, running))}",
    )
