"""``load_any(paths)``: one match from a stored canonical parquet file or from its provider files.

The one helper behind every face that accepts "a stored match or one match's provider files" (``soccerai info``,
``soccerai obso``/``cobso``, the pipeline's ingest step). Provider files are grouped by content
(:func:`soccerai.io.grouping.group_match_files`); a Metrica event CSV beside the tracking comes along as the events
(:func:`soccerai.io.grouping.load_group`); loose files no tracking provider recognises are left out. Anything but exactly
one tracking group is bad input, reported in one line naming the files.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from soccerai.data.store import read_match
from soccerai.errors import InvalidInputError, SoccerAIError
from soccerai.io.detect import classify_file
from soccerai.io.grouping import group_match_files, load_group
from soccerai.match.schema import Match


def load_any(paths: Sequence[str | Path]) -> Match:
    """The match in ``paths``: one ``.parquet`` written by :mod:`soccerai.data.store`, or one match's provider files.

    Raises:
        InvalidInputError: no files, or the files hold no tracking or the tracking of several matches.
        SoccerAIError: the file(s) cannot be read (the reader's own one-line error).
    """
    files = [Path(p) for p in paths]
    if not files:
        raise InvalidInputError("no match files given")
    if len(files) == 1 and files[0].suffix.lower() == ".parquet":
        return read_match(files[0])
    groups = group_match_files(files)
    tracking = [g for g in groups if len(g) > 1 or _is_tracking(g[0])]
    if not tracking and len(files) == 1:
        return load_group(files)  # the reader says what is wrong with the one file
    if len(tracking) != 1:
        names = ", ".join(p.name for p in files)
        raise InvalidInputError(f"expected the tracking files of one match, found {len(tracking)} in: {names}",
                                files[0])
    return load_group(tracking[0])


def _is_tracking(path: Path) -> bool:
    try:
        classify_file(path)
    except SoccerAIError:
        return False
    return True
