"""Find and download a release's wheels from the package index pip is configured to use.

The index URLs come from pip itself (``python -m pip config list``: the
``PIP_INDEX_URL``/``PIP_EXTRA_INDEX_URL`` environment, then ``install`` and
``global`` settings of every pip configuration file), else PyPI.  Each index
is asked through the Simple Repository API (PEP 691 JSON, or PEP 503 HTML,
``file://`` indexes too).  Downloads are kept in a cache directory by file
name and checked against the index's sha256.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from typing import Optional

from packaging.utils import InvalidWheelFilename, canonicalize_name, parse_wheel_filename
from packaging.version import InvalidVersion, Version

DEFAULT_INDEX = "https://pypi.org/simple"
ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.1"
TIMEOUT = 60


class IndexLookupError(Exception):
    """A project or release that cannot be found or downloaded."""


@dataclass(frozen=True)
class WheelLink:
    filename: str
    url: str
    sha256: Optional[str]
    version: Version


def pip_indexes() -> list[str]:
    """The index URLs pip would use: ``index-url`` first, then every ``extra-index-url``."""
    try:
        listed = subprocess.run([sys.executable, "-m", "pip", "config", "list"], capture_output=True, text=True,
                                timeout=60, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
        lines = listed.stdout.splitlines() if listed.returncode == 0 else []
    except (OSError, subprocess.SubprocessError):
        lines = []
    settings: dict[tuple[str, str], str] = {}
    for line in lines:  # "global.index-url='https://...'", ":env:.extra-index-url='...'"
        key, _, value = line.partition("=")
        scope, _, option = key.rpartition(".")
        settings[(option, scope)] = value.strip("'\"")

    def setting(option: str) -> str:
        for scope in (":env:", "install", "global"):  # pip's precedence
            if (option, scope) in settings:
                return settings[(option, scope)]
        return ""

    primary = os.environ.get("PIP_INDEX_URL") or setting("index-url") or DEFAULT_INDEX
    extra = (os.environ.get("PIP_EXTRA_INDEX_URL") or setting("extra-index-url")).split()
    return list(dict.fromkeys([primary, *extra]))


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs) -> None:
        if tag == "a":
            attributes = dict(attrs)
            if attributes.get("href"):
                self.links.append((attributes["href"], attributes))


def _fetch(url: str) -> tuple[bytes, str]:
    if url.startswith("file://"):
        path = urllib.request.url2pathname(urllib.parse.urlparse(url).path)
        if os.path.isdir(path):
            path = os.path.join(path, "index.html")
        with open(path, "rb") as handle:
            return handle.read(), "text/html"
    request = urllib.request.Request(url, headers={"Accept": ACCEPT, "User-Agent": "interp-audit"})
    with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
        return response.read(), response.headers.get("Content-Type", "")


def project_wheels(index: str, project: str) -> list[WheelLink]:
    """Every non-yanked wheel of ``project`` listed by one index (empty when it has none)."""
    url = index.rstrip("/") + "/" + canonicalize_name(project) + "/"
    try:
        body, kind = _fetch(url)
    except urllib.error.HTTPError as exc:
        if exc.code == 404:
            return []
        raise IndexLookupError(f"{url}: HTTP {exc.code}") from None
    except (OSError, urllib.error.URLError) as exc:
        raise IndexLookupError(f"{url}: {getattr(exc, 'reason', None) or exc}") from None
    entries = []
    if "json" in kind:
        for item in json.loads(body).get("files", []):
            if not item.get("yanked"):
                entries.append((item["filename"], urllib.parse.urljoin(url, item["url"]), item.get("hashes", {}).get("sha256")))
    else:
        parser = _Links()
        parser.feed(body.decode("utf-8", "replace"))
        for href, attributes in parser.links:
            if "data-yanked" in attributes:
                continue
            link, _, fragment = urllib.parse.urljoin(url, href).partition("#")
            digest = fragment[len("sha256="):] if fragment.startswith("sha256=") else None
            entries.append((urllib.parse.unquote(link.rsplit("/", 1)[-1]), link, digest))
    wheels = []
    for filename, link, digest in entries:
        if not filename.endswith(".whl") or os.path.basename(filename) != filename:
            continue  # not a wheel, or a name that would leave the cache directory
        try:
            _name, version, _build, _tags = parse_wheel_filename(filename)
        except (InvalidWheelFilename, InvalidVersion):
            continue
        wheels.append(WheelLink(filename, link, digest, version))
    return wheels


def release_wheels(requirement: str, indexes: list[str]) -> tuple[list[WheelLink], list[str]]:
    """The wheels of ``NAME`` (newest final release) or ``NAME==VERSION`` over all indexes,
    and notes on indexes that could not be asked."""
    name, _, wanted = requirement.partition("==")
    name = name.strip()
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]*", name):
        raise IndexLookupError(f"not a project name: {requirement!r}")
    found: dict[str, WheelLink] = {}
    notes = []
    for index in indexes:
        try:
            for link in project_wheels(index, name):
                found.setdefault(link.filename, link)
        except IndexLookupError as exc:
            notes.append(f"index skipped: {exc}")
    if not found:
        raise IndexLookupError(f"no wheels of {name} on {', '.join(indexes)}")
    if wanted:
        try:
            version = Version(wanted)
        except InvalidVersion:
            raise IndexLookupError(f"not a version: {wanted!r}") from None
    else:
        finals = [link.version for link in found.values() if not link.version.is_prerelease]
        version = max(finals or [link.version for link in found.values()])
    chosen = sorted((link for link in found.values() if link.version == version), key=lambda l: l.filename)
    if not chosen:
        raise IndexLookupError(f"no wheels of {name} {wanted} (there are wheels of other versions)")
    return chosen, notes


def download(link: WheelLink, cache: Path) -> Path:
    """The wheel in ``cache`` (downloaded once, sha256 checked when the index gives one)."""
    target = cache / link.filename
    if target.exists() and (link.sha256 is None or _sha256(target) == link.sha256):
        return target
    cache.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + f".{os.getpid()}.part")
    try:
        body, _kind = _fetch(link.url)
    except (OSError, urllib.error.URLError) as exc:
        raise IndexLookupError(f"cannot download {link.url}: {getattr(exc, 'reason', None) or exc}") from None
    if link.sha256 and hashlib.sha256(body).hexdigest() != link.sha256:
        raise IndexLookupError(f"{link.filename}: sha256 does not match the index")
    partial.write_bytes(body)
    os.replace(partial, target)
    return target


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
