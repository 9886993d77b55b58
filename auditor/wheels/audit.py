"""Audit one wheel file without installing it: read its extension modules, predict a tier.

The wheel's extension modules (``*.so``, ``*.pyd``) are copied out of the zip
into a scratch directory and read by the static readers (ELF, Mach-O, PE):
init kind, declared slots, framework.  Nothing is loaded or run.  The tier is
predicted from those declarations (``verdict.predict_from_static``) and the
result is marked as such.  Wheels are grouped per tag
(``cp313-cp313-manylinux_2_28_x86_64``), one group per interpreter run of the
report, so every report format shows each platform's declarations.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from typing import Optional

from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from interp_audit.model import DistributionResult, PythonInfo
from interp_audit.static.inspection import inspect_extensions
from interp_audit.verdict import predict_from_static

#: Extension module file names: ``leaf.cpython-313-x86_64-linux-gnu.so``, ``leaf.abi3.so``,
#: ``leaf.cp313-win_amd64.pyd``, ``leaf.pyd``, ``leaf.so``.
EXTENSION = re.compile(r"^([^./]+)(\.(cpython|cp\d+|abi3|pypy)[^/]*)?\.(so|pyd)$")
#: Folders of vendored shared libraries (auditwheel, delocate, delvewheel).
VENDORED = re.compile(r"(^|/)[^/]*\.(libs|dylibs)/|(^|/)\.dylibs/")
PREDICTED_NOTE = "tier predicted from the declarations in the wheel's binaries: nothing was installed or run"


class WheelError(Exception):
    """A wheel that cannot be audited at all (not a zip, truncated, bad name)."""


@dataclass
class WheelResult:
    """One wheel's audit: the distribution result and the tag it was built for."""

    path: str
    tag: str  # python-abi-platform, e.g. cp313-cp313-win_amd64
    python: PythonInfo
    result: DistributionResult  # its ``problems`` are the binaries that could not be read


def python_info_for(tag: str) -> PythonInfo:
    """A :class:`PythonInfo` that stands for a wheel tag (no interpreter was run)."""
    interpreter, _abi, platform = tag.split("-", 2)
    match = re.match(r"cp(\d)(\d+)", interpreter)
    version = f"{match.group(1)}.{match.group(2)}" if match else interpreter
    return PythonInfo(version=version, implementation="cpython" if match else "any", executable=tag,
                      platform=platform, sysconfig_platform=platform,
                      chosen_because=f"wheel tag {tag}: predicted from declarations, not run")


def module_name(member: str) -> Optional[str]:
    """The dotted module name of an extension file inside a wheel, or None when it is not one.

    Files under ``NAME.data/platlib/`` or ``purelib/`` install beside the others;
    the rest of ``.data`` (scripts, headers, data) holds no importable module.
    """
    first, _, rest = member.partition("/")
    if first.endswith(".data"):
        where, _, member = rest.partition("/")
        if where not in ("platlib", "purelib"):
            return None
    if VENDORED.search(member):
        return None
    folder, _, leaf = member.rpartition("/")
    match = EXTENSION.match(leaf)
    if not match:
        return None
    return ".".join(filter(None, [folder.replace("/", "."), match.group(1)]))


def audit_wheel(path: str) -> WheelResult:
    """Audit the wheel at ``path``; raises :class:`WheelError` when it is unusable."""
    filename = os.path.basename(path)
    try:
        name, version, _build, _tags = parse_wheel_filename(filename)
    except InvalidWheelFilename as exc:
        raise WheelError(f"not a wheel file name: {exc}") from None
    tag = "-".join(filename[: -len(".whl")].split("-")[-3:])  # as written, e.g. cp313-cp313-manylinux_2_17_x86_64.manylinux2014_x86_64
    try:
        archive = zipfile.ZipFile(path)
    except zipfile.BadZipFile as exc:
        raise WheelError(f"not a zip file (corrupt or truncated): {exc}") from None
    except OSError as exc:
        raise WheelError(f"cannot read: {exc.strerror or exc}") from None
    result = DistributionResult(name=str(name), version=str(version), static_only=True)
    with archive, tempfile.TemporaryDirectory(prefix="interp-audit-wheel-") as scratch:
        extensions, members = [], []
        try:
            for member in archive.infolist():
                module = module_name(member.filename)
                if module is None or member.is_dir():
                    continue
                # A numbered file name: member names never choose where anything is written.
                target = os.path.join(scratch, f"{len(members)}-{os.path.basename(member.filename)}")
                with archive.open(member) as source, open(target, "wb") as out:
                    shutil.copyfileobj(source, out, 1 << 20)
                extensions.append((module, target))
                members.append(member.filename)
            result.import_names = sorted(_top_level(archive.namelist()))
        except (zipfile.BadZipFile, EOFError, OSError, ValueError) as exc:
            raise WheelError(f"corrupt or truncated wheel: {exc}") from None
        result.extensions = inspect_extensions(None, extensions, run_init=False)
    for info, member in zip(result.extensions, members):
        info.path = member  # where it lies in the wheel
        if info.evidence.get("binary_error"):
            result.problems.append(f"{info.module} ({info.path}): {info.evidence['binary_error']}")
    predict_from_static(result, PREDICTED_NOTE)
    return WheelResult(path=path, tag=tag, python=python_info_for(tag), result=result)


def _top_level(names: list[str]) -> set[str]:
    """Top-level import names: packages, modules and extension modules at the wheel's root."""
    tops = set()
    for name in names:
        first = name.split("/", 1)[0]
        if first.endswith((".dist-info", ".data")):
            continue
        if "/" in name:
            tops.add(first)
        elif first.endswith(".py"):
            tops.add(first[: -len(".py")])
        else:
            tops.add(module_name(first) or "")
    return {t for t in tops if t.isidentifier()}
