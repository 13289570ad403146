"""MkDocs hooks (``hooks:`` in mkdocs.yml): serve MathJax from the installed ``django-static-mathjax`` wheel.

The maths of the concept pages is typeset in the browser by MathJax 3. Loading it from a CDN leaves the formulas blank
offline, and committing 8 MB of JavaScript into ``docs/`` would be a copy to keep up to date by hand. The docs extra
installs ``django-static-mathjax`` (MathJax 3.2.2, pinned in requirements.lock); this hook adds its ``es5`` bundle to
the site as ``javascripts/mathjax/``, so ``extra_javascript`` names a local file and MkDocs copies it like any other
static file (``mkdocs serve`` too). Only what ``tex-mml-chtml.js`` loads is copied: the bundle itself, its CommonHTML
fonts and the components its menu loads on demand (accessibility, speech); the other combined bundles and the SVG
output are left out.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.exceptions import PluginError
from mkdocs.structure.files import File, Files

SITE_DIR = "javascripts/mathjax"  # where the bundle lands in the site; mkdocs.yml's extra_javascript names it
BUNDLE = "tex-mml-chtml.js"
COMPONENTS = ("a11y", "adaptors", "input", "output", "sre", "ui")  # folders the bundle loads from at run time


def mathjax_dir() -> Path:
    """The ``es5`` folder of the installed MathJax (package ``mathjax`` of the ``django-static-mathjax`` wheel)."""
    spec = importlib.util.find_spec("mathjax")
    if spec is None or not spec.submodule_search_locations:
        raise PluginError("MathJax is not installed: `make docs` installs it (django-static-mathjax, docs extra)")
    es5 = Path(next(iter(spec.submodule_search_locations))) / "static" / "mathjax" / "es5"
    if not (es5 / BUNDLE).is_file():
        raise PluginError(f"{es5 / BUNDLE} is missing: the installed `mathjax` package is not django-static-mathjax")
    return es5


def mathjax_files(es5: Path) -> list[Path]:
    """The bundle and the files it may load, relative to ``es5`` (the SVG output is not used: CommonHTML is)."""
    files = [Path(BUNDLE)]
    for folder in COMPONENTS:
        for path in sorted((es5 / folder).rglob("*")):
            relative = path.relative_to(es5)
            if path.is_file() and not relative.as_posix().startswith("output/svg"):
                files.append(relative)
    return files


def on_files(files: Files, config: MkDocsConfig) -> Files:
    es5 = mathjax_dir()
    for relative in mathjax_files(es5):
        files.append(File.generated(config, f"{SITE_DIR}/{relative.as_posix()}", abs_src_path=str(es5 / relative)))
    return files
