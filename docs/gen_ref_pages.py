"""Write one API reference page per soccerai module at build time (mkdocs-gen-files), and its navigation.

The pages are generated from whatever modules exist, so a renamed, added or removed module needs no edit here;
private modules (``_name``) and ``__main__`` are left out.
"""

from __future__ import annotations

from pathlib import Path

import mkdocs_gen_files

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "soccerai"

nav = mkdocs_gen_files.Nav()
for path in sorted(PACKAGE.rglob("*.py")):
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    if parts[-1] == "__main__" or any(p.startswith("_") for p in parts):
        continue
    doc_path = Path(*parts).with_suffix(".md")
    nav[tuple(parts)] = doc_path.as_posix()
    with mkdocs_gen_files.open(Path("reference") / doc_path, "w") as fd:
        fd.write(f"::: {'.'.join(parts)}\n")
    mkdocs_gen_files.set_edit_path(Path("reference") / doc_path, path.relative_to(ROOT))

with mkdocs_gen_files.open("reference/SUMMARY.md", "w") as nav_file:
    nav_file.writelines(nav.build_literate_nav())
