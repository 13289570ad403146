"""Check that requirements.lock still matches pyproject.toml; one line per problem, exit status 1 when any.

``make lock`` writes requirements.lock from pyproject.toml (all extras). When pyproject.toml gains a dependency or
narrows a range afterwards, the lock no longer installs what the project asks for; this check says so, naming the
package, before any test runs (``make lock-check``; ``make setup`` and tests/test_lock.py run it too):

    requirements.lock: pyproject.toml asks for foo>=1 (extra dev) but the lock has no foo; run `make lock`
    requirements.lock: av==17.0.0 does not satisfy pyproject.toml's av<19,>=18; run `make lock`

Only the direct requirements are checked (the lock's transitive pins come from the packages' own metadata, which
this offline check cannot see). Usage: ``python tools/check_lock.py [pyproject.toml [requirements.lock]]``.
"""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

ROOT = Path(__file__).resolve().parents[1]


def locked_versions(lock: Path) -> dict[str, str]:
    """``{canonical name: version}`` of the ``name==version`` lines of a pip requirements file (hashes ignored)."""
    pins: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        line = line.split("#", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith("-"):
            continue
        requirement = Requirement(line)
        pinned = [spec.version for spec in requirement.specifier if spec.operator in ("==", "===")]
        if len(pinned) != 1:
            raise ValueError(f"{lock.name}: {line!r} is not pinned with ==")
        pins[canonicalize_name(requirement.name)] = pinned[0]
    return pins


def project_requirements(pyproject: Path) -> tuple[str, list[tuple[Requirement, str]]]:
    """The project's name and its requirements, each with where it comes from ("dependencies" or "extra NAME")."""
    project = tomllib.loads(pyproject.read_text())["project"]
    found = [(Requirement(text), "dependencies") for text in project.get("dependencies", [])]
    for extra, texts in project.get("optional-dependencies", {}).items():
        found += [(Requirement(text), f"extra {extra}") for text in texts]
    return project["name"], found


def problems(pyproject: Path, lock: Path) -> list[str]:
    """One line per requirement of ``pyproject`` that ``lock`` lacks or pins outside its range; empty when in sync."""
    if not lock.is_file():
        return [f"{lock.name} is missing; run `make lock`"]
    name, requirements = project_requirements(pyproject)
    pins = locked_versions(lock)
    found = []
    if canonicalize_name(name) in pins:
        found.append(f"{lock.name}: pins the project itself ({name}); the Makefile installs it with --no-deps -e .")
    for requirement, origin in requirements:
        if requirement.marker is not None and not requirement.marker.evaluate({"extra": origin.removeprefix("extra ")}):
            continue  # for another Python or platform than the one locked for
        key = canonicalize_name(requirement.name)
        if key == canonicalize_name(name):
            continue  # a self-reference such as soccerai[dev]
        if key not in pins:
            found.append(
                f"{lock.name}: {pyproject.name} asks for {requirement} ({origin}) but the lock has no "
                f"{requirement.name}; run `make lock`"
            )
            continue
        try:
            ok = requirement.specifier.contains(Version(pins[key]), prereleases=True)
        except InvalidVersion:
            ok = False
        if not ok:
            found.append(
                f"{lock.name}: {requirement.name}=={pins[key]} does not satisfy {pyproject.name}'s {requirement} "
                f"({origin}); run `make lock`"
            )
    return found


def main(argv: list[str]) -> int:
    pyproject = Path(argv[0]) if argv else ROOT / "pyproject.toml"
    lock = Path(argv[1]) if len(argv) > 1 else pyproject.parent / "requirements.lock"
    found = problems(pyproject, lock)
    for line in found:
        print(line, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
