"""Throwaway environments: create one for a target interpreter and install a project into it.

Two makers: ``uv`` (``uv venv`` + ``uv pip install``, much faster; the ``uv``
PyPI package ships the binary) and ``pip`` (``python -m venv --without-pip``
+ the running interpreter's ``pip --python ENV``).  Both use their tool's
shared download cache (or ``cache_dir``) and install wheels only unless
sdists are allowed.
"""

from __future__ import annotations

import abc
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

INSTALLERS = ("auto", "uv", "pip")


class InstallError(Exception):
    """Creating the environment or installing into it failed; the message is the tool's own error."""


@dataclass(frozen=True)
class InstallSpec:
    """Where to install from and what is allowed."""

    allow_sdist: bool = False
    find_links: tuple[str, ...] = ()
    index_url: Optional[str] = None
    no_index: bool = False
    cache_dir: Optional[str] = None  # None: the tool's own (shared) cache
    timeout: float = 600.0


def _tail(text: str, lines: int = 12) -> str:
    kept = [line.rstrip() for line in text.strip().splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def _run(what: str, command: list[str], timeout: float, env: Optional[dict[str, str]] = None) -> None:
    """Run a tool; raise :class:`InstallError` with its output's tail on failure or timeout."""
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=timeout, env=env,
                                   stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise InstallError(f"{what} timed out after {timeout:.0f} s") from None
    except OSError as exc:
        raise InstallError(f"cannot run {command[0]}: {exc.strerror or exc}") from None
    if completed.returncode != 0:
        raise InstallError(_tail(completed.stderr or completed.stdout) or f"exit status {completed.returncode}")


def env_python(env_dir: Path) -> Path:
    return env_dir / ("Scripts/python.exe" if os.name == "nt" else "bin/python")


class EnvironmentMaker(abc.ABC):
    """Creates environments and installs projects into them."""

    name: str

    @classmethod
    @abc.abstractmethod
    def available(cls) -> bool:
        """Whether this maker can work on this machine."""

    @abc.abstractmethod
    def create(self, base_python: str, env_dir: Path, timeout: float) -> Path:
        """Create an empty environment of ``base_python`` at ``env_dir``; return its python."""

    @abc.abstractmethod
    def install(self, python: Path, requirement: str, spec: InstallSpec) -> None:
        """Install ``requirement`` (its latest release allowed by ``spec``) with its dependencies."""


def uv_binary() -> Optional[str]:
    """The uv executable: the one the ``uv`` package ships, else one on PATH."""
    try:
        import uv

        return uv.find_uv_bin()
    except (ImportError, FileNotFoundError):
        return shutil.which("uv")


class UvMaker(EnvironmentMaker):
    """``uv venv`` plus ``uv pip install``."""

    name = "uv"

    def __init__(self) -> None:
        self.binary = uv_binary() or "uv"

    @classmethod
    def available(cls) -> bool:
        return uv_binary() is not None

    def _env(self, spec: Optional[InstallSpec] = None) -> dict[str, str]:
        env = dict(os.environ, UV_NO_PROGRESS="1", NO_COLOR="1")
        if spec and spec.cache_dir:
            env["UV_CACHE_DIR"] = spec.cache_dir
        return env

    def create(self, base_python: str, env_dir: Path, timeout: float) -> Path:
        _run("uv venv", [self.binary, "venv", "--quiet", "--no-project", "--no-python-downloads",
              "--python", base_python, str(env_dir)], timeout, self._env())
        return env_python(env_dir)

    def install(self, python: Path, requirement: str, spec: InstallSpec) -> None:
        command = [self.binary, "pip", "install", "--quiet", "--python", str(python)]
        if not spec.allow_sdist:
            command += ["--only-binary", ":all:"]
        for link in spec.find_links:
            command += ["--find-links", link]
        if spec.no_index:
            command.append("--no-index")
        elif spec.index_url:
            command += ["--default-index", spec.index_url]
        _run("uv pip install", command + [requirement], spec.timeout, self._env(spec))


class PipMaker(EnvironmentMaker):
    """``python -m venv`` plus pip; pip runs from this interpreter, aimed at the new environment."""

    name = "pip"

    @classmethod
    def available(cls) -> bool:
        import importlib.util

        return importlib.util.find_spec("pip") is not None

    def create(self, base_python: str, env_dir: Path, timeout: float) -> Path:
        _run("python -m venv", [base_python, "-m", "venv", "--without-pip", str(env_dir)], timeout)
        return env_python(env_dir)

    def install(self, python: Path, requirement: str, spec: InstallSpec) -> None:
        command = [sys.executable, "-m", "pip", "--python", str(python), "install", "--quiet",
                   "--disable-pip-version-check", "--no-input"]
        if not spec.allow_sdist:
            command.append("--only-binary=:all:")
        if spec.cache_dir:
            command += ["--cache-dir", spec.cache_dir]
        for link in spec.find_links:
            command += ["--find-links", link]
        if spec.no_index:
            command.append("--no-index")
        elif spec.index_url:
            command += ["--index-url", spec.index_url]
        _run("pip install", command + [requirement], spec.timeout)


MAKERS: dict[str, type[EnvironmentMaker]] = {"uv": UvMaker, "pip": PipMaker}


def choose(installer: str = "auto") -> EnvironmentMaker:
    """The maker for ``installer`` ("auto": uv when available, else venv + pip)."""
    if installer == "auto":
        installer = "uv" if UvMaker.available() else "pip"
    maker = MAKERS[installer]
    if not maker.available():
        hint = "pip install 'interp-audit[survey]'" if installer == "uv" else "install pip"
        raise InstallError(f"installer {installer!r} is not available on this machine ({hint})")
    return maker()
