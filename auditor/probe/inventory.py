"""Inventory probe: describe the interpreter and what is installed in it.

Run by the *target* interpreter as ``python -P inventory.py [--stdlib]``;
standard library only.  Prints one JSON document on stdout:

* ``python``: version, implementation, executable, platform, EXT_SUFFIX;
* ``distributions``: for every installed distribution (first on sys.path wins,
  as for imports) its name, version, summary, whether it has a RECORD, the
  hash of that RECORD, its top-level import names and its extension-module
  files (dotted module name and absolute path);
* with ``--stdlib``: ``stdlib``, the standard-library top-level modules that
  exist here (found without importing them), with their extension file if any.

Nothing here imports the audited packages.
"""

import csv
import hashlib
import importlib.machinery
import importlib.metadata
import importlib.util
import json
import os
import platform
import sys
import sysconfig

EXTENSION_SUFFIXES = tuple(importlib.machinery.EXTENSION_SUFFIXES)
SOURCE_SUFFIXES = tuple(importlib.machinery.SOURCE_SUFFIXES)
# Standard-library modules that do something visible on import.
STDLIB_SKIP = {"antigravity", "this", "__hello__", "__phello__"}


def python_info():
    return {
        "version": platform.python_version(),
        "implementation": sys.implementation.name,
        "executable": sys.executable,
        "hexversion": sys.hexversion,
        "platform": sys.platform,
        "ext_suffix": sysconfig.get_config_var("EXT_SUFFIX") or "",
        "sysconfig_platform": sysconfig.get_platform(),
    }


def _module_of(relpath):
    """Dotted module name of an importable file, or None."""
    parts = relpath.replace("\\", "/").split("/")
    if not parts or parts[0] in ("..", "") or ".." in parts:
        return None, None
    leaf = parts[-1]
    for suffix in EXTENSION_SUFFIXES:
        if leaf.endswith(suffix):
            stem = leaf[: -len(suffix)]
            break
    else:
        if leaf.endswith(SOURCE_SUFFIXES):
            stem = leaf.rsplit(".", 1)[0]
        else:
            return None, None
        suffix = ".py"
    dirs = parts[:-1]
    if any(not d.isidentifier() for d in dirs) or not stem.isidentifier():
        return None, None
    names = dirs if stem == "__init__" else dirs + [stem]
    if not names:
        return None, None
    kind = "extension" if suffix != ".py" else "source"
    return ".".join(names), kind


def _top_level_names(modules, packages):
    """Importable top-level names: plain top-level modules and packages, and
    for namespace directories (no ``__init__``) the first regular packages below."""
    names = set()
    for dotted in modules:
        first = dotted.split(".")[0]
        if first in packages or "." not in dotted:
            names.add(first)
    namespace_roots = {d.split(".")[0] for d in modules} - names
    for root in namespace_roots:
        below = sorted({".".join(p.split(".")[:2]) for p in packages if p.startswith(root + ".")})
        names.update(below or [])
    return sorted(n for n in names if n != "__pycache__")


def _read_record(dist):
    """``(RECORD text or None, problem or None)``; ``read_text`` alone would
    hide an unreadable RECORD as a missing one."""
    base = getattr(dist, "_path", None)
    path = os.path.join(str(base), "RECORD") if base is not None else None
    if path and os.path.lexists(path):
        try:
            with open(path, encoding="utf-8") as handle:
                return handle.read(), None
        except (OSError, UnicodeDecodeError) as exc:
            return None, "cannot read its RECORD file: %s" % (getattr(exc, "strerror", None) or exc)
    text = dist.read_text("RECORD")
    if text is None:
        return None, "has no RECORD file, so its installed modules are unknown"
    return text, None


def _distribution(dist, meta):
    name = meta["Name"] or ""
    entry = {
        "name": name,
        "version": meta["Version"] or "",
        "summary": meta.get("Summary") or "",
        "has_record": False,
        "record_hash": None,
        "top_level": [],
        "extensions": [],
        "problems": [],
    }
    record, problem = _read_record(dist)
    if problem:
        entry["problems"].append(problem)
    modules, packages = set(), set()
    if record:
        entry["has_record"] = True
        entry["record_hash"] = hashlib.sha256(record.encode("utf-8", "replace")).hexdigest()
        base = str(dist.locate_file(""))
        for row in csv.reader(record.splitlines()):
            if not row:
                continue
            dotted, kind = _module_of(row[0])
            if dotted is None:
                continue
            modules.add(dotted)
            if row[0].replace("\\", "/").rsplit("/", 1)[-1].startswith("__init__."):
                packages.add(dotted)
            if kind == "extension":
                entry["extensions"].append([dotted, os.path.normpath(os.path.join(base, row[0]))])
    declared = (dist.read_text("top_level.txt") or "").split()
    found = _top_level_names(modules, packages)
    if found:
        entry["top_level"] = found
    elif declared:
        entry["top_level"] = sorted(n for n in declared if n.isidentifier())
    entry["extensions"].sort()
    return entry


def distributions():
    seen = set()
    result = []
    for dist in importlib.metadata.distributions():
        try:
            meta = dist.metadata  # parsed once: every access reads the file again
            name = meta["Name"]
        except Exception:  # a broken METADATA file
            meta = name = None
        if not name:
            continue
        key = name.lower().replace("_", "-").replace(".", "-")
        if key in seen:
            continue
        seen.add(key)
        try:
            result.append(_distribution(dist, meta))
        except Exception as exc:  # unreadable files must not stop the inventory
            result.append({"name": name, "version": "", "summary": "", "has_record": False,
                           "record_hash": None, "top_level": [], "extensions": [],
                           "problems": ["cannot be read: %s: %s" % (type(exc).__name__, exc)]})
    return sorted(result, key=lambda d: d["name"].lower())


def stdlib():
    result = []
    for name in sorted(sys.stdlib_module_names):
        if name in STDLIB_SKIP:
            continue
        if name in sys.builtin_module_names:
            result.append({"name": name, "extension": None, "builtin": True})
            continue
        try:
            spec = importlib.util.find_spec(name)
        except (ImportError, ValueError):
            spec = None
        if spec is None:
            continue
        origin = spec.origin or ""
        extension = origin if origin.endswith(EXTENSION_SUFFIXES) else None
        result.append({"name": name, "extension": extension, "builtin": False})
    return result


def main(argv):
    document = {
        "python": python_info(),
        "stdlib_module_names": sorted(sys.stdlib_module_names),
        "distributions": distributions(),
    }
    if "--stdlib" in argv:
        document["stdlib"] = stdlib()
    json.dump(document, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
