"""Where results are written: output targets checked before any work, folders built aside and renamed
into place, names made safe for file names, user text made inert in Markdown and LaTeX.

- :func:`check_target` refuses, before anything runs, a target that cannot be written: an empty
  name, a name over 255 bytes, a folder where a file is needed (or the reverse), a FIFO or device,
  a parent folder that is missing or not writable. Each problem is one line naming the flag.
- :func:`building` builds a folder in a temporary folder next to the target and renames it into
  place at the end; on any failure (Ctrl-C included) the temporary folder is removed and the
  target is untouched.
- :func:`slug` is the one way a name from user data (a policy, a sweep id) becomes part of a file name.
- :func:`md_escape` and :func:`tex_escape` make user text inert in report.md and the LaTeX tables.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .scenario import ScenarioError

__all__ = ["NAME_MAX", "check_target", "target_problems", "building", "slug", "md_escape", "tex_escape",
           "file_mode", "umask", "show_path"]

NAME_MAX = 255
"""Longest file or folder name (bytes) on common file systems."""
PATH_MAX = 4096
SLUG_MAX = 64


# ---- file modes ----------------------------------------------------------------------------------
def umask() -> int:
    """The process's umask, read without changing it where the system allows (Linux /proc)."""
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def file_mode(directory: bool = False) -> int:
    """The mode an ordinary ``open()`` (or ``mkdir``) would give a new file (folder): 0o666 (0o777) & ~umask."""
    return (0o777 if directory else 0o666) & ~umask()


# ---- checking a target before any work ----------------------------------------------------------
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def show_path(path, n: int = 80) -> str:
    """A path for a one-line message: control characters as \\xNN, long paths shortened."""
    path = _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", str(path))
    return path if len(path) <= n else path[: n - 21] + "..." + path[-18:]


def target_problems(flag: str, path, kind: str = "file") -> list[str]:
    """Problems writing ``path`` (``kind`` "file": a file written or replaced; "dir": a folder created
    or filled), as one-line messages starting with ``flag``; [] when it can be written."""
    if path is None:
        return []
    text = os.fspath(path)
    if text == "":
        return [f"{flag}: empty path; give a {'file' if kind == 'file' else 'directory'} name"]
    shown = show_path(text)
    raw = os.fsencode(text)
    if b"\x00" in raw:
        return [f"{flag}: {shown}: a path cannot contain a NUL character"]
    long = [part for part in raw.split(b"/") if len(part) > NAME_MAX]
    if long:
        return [f"{flag}: {shown}: a name is longer than {NAME_MAX} bytes ({len(long[0])}); use a shorter name"]
    if len(raw) >= PATH_MAX:
        return [f"{flag}: {shown}: the path is longer than {PATH_MAX - 1} bytes"]
    p = Path(text)
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except OSError as err:  # a symlink loop, a file used as a folder in the path, no permission
        return [f"{flag}: {shown}: {err.strerror or err}"]
    if st is not None:
        if kind == "file" and stat.S_ISDIR(st.st_mode):
            return [f"{flag}: {shown} is a directory; give a file name"]
        if kind == "dir" and not stat.S_ISDIR(st.st_mode):
            return [f"{flag}: {shown} is a file, not a directory; give a directory name"]
        if kind == "file" and not stat.S_ISREG(st.st_mode):
            return [f"{flag}: {shown} is not a regular file (a device, FIFO or socket); give a file name"]
    parent = p.parent if str(p.parent) else Path(".")
    try:
        pst = os.stat(parent)
    except FileNotFoundError:
        return [f"{flag}: {shown}: directory does not exist: {show_path(str(parent))}"]
    except OSError as err:
        return [f"{flag}: {shown}: directory {show_path(str(parent))}: {err.strerror or err}"]
    if not stat.S_ISDIR(pst.st_mode):
        return [f"{flag}: {shown}: not a directory: {show_path(str(parent))}"]
    if not os.access(parent, os.W_OK | os.X_OK):
        return [f"{flag}: {shown}: directory is not writable: {show_path(str(parent))}"]
    return []


def check_target(flag: str, path, kind: str = "file") -> None:
    """Raise :class:`ScenarioError` (exit 2 in the CLI) naming ``flag`` if ``path`` cannot be written."""
    problems = target_problems(flag, path, kind)
    if problems:
        raise ScenarioError(problems)


def write_error(flag: str, path, err: OSError) -> ScenarioError:
    """The one-line error for a write that failed after the checks (disk full, permissions changed...)."""
    where = show_path(os.fspath(err.filename)) if getattr(err, "filename", None) else show_path(os.fspath(path))
    return ScenarioError([f"{flag}: cannot write {where}: {err.strerror or err}; nothing was written"])


# ---- building a folder aside ---------------------------------------------------------------------
@contextmanager
def building(target, replace: bool = False, flag: str = "--out") -> Iterator[Path]:
    """Yield a new temporary folder next to ``target``; on success move it into place, on any failure
    remove it (``target`` untouched).

    ``replace=False``: the files are moved into ``target`` one by one (created if missing; other files
    in it are kept). ``replace=True``: the whole folder becomes ``target``, an existing ``target``
    being swapped out and removed only at that moment.
    """
    target = Path(target)
    parent = target.parent if str(target.parent) else Path(".")
    try:
        tmp = Path(tempfile.mkdtemp(prefix=".azsim-", suffix=".tmp", dir=parent))
    except OSError as err:
        raise write_error(flag, target, err) from None
    try:
        os.chmod(tmp, file_mode(directory=True))
        yield tmp
        if replace:
            _swap_in(tmp, target)
        else:
            _move_into(tmp, target)
    except OSError as err:
        shutil.rmtree(tmp, ignore_errors=True)
        raise write_error(flag, target, err) from None
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    shutil.rmtree(tmp, ignore_errors=True)  # gone already unless files were moved out of it


def _swap_in(tmp: Path, target: Path) -> None:
    if not os.path.lexists(target):
        os.rename(tmp, target)
        return
    old = Path(tempfile.mkdtemp(prefix=".azsim-", suffix=".old", dir=tmp.parent))
    os.rmdir(old)
    os.rename(target, old)
    try:
        os.rename(tmp, target)
    except BaseException:
        os.rename(old, target)
        raise
    shutil.rmtree(old, ignore_errors=True)


def _move_into(tmp: Path, target: Path) -> None:
    if not os.path.lexists(target):
        os.rename(tmp, target)
        return
    for entry in sorted(tmp.iterdir()):
        os.replace(entry, target / entry.name)


# ---- names and text from users --------------------------------------------------------------------
_SAFE = re.compile(r"[a-z0-9_-]+")


def slug(text, max_len: int = SLUG_MAX) -> str:
    """``text`` as a file-name part: only ``[a-z0-9_-]``, at most ``max_len`` characters, never empty,
    never ``.`` or ``..``. A name that is already safe is kept; any other gets a short hash of the
    original, so two different names never share a slug."""
    text = str(text)
    if _SAFE.fullmatch(text) and len(text) <= max_len:
        return text
    digest = hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    base = re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-_")[: max(1, max_len - 9)].strip("-_")
    return f"{base}-{digest}" if base else digest


_MD = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\\": "\\\\", "[": "\\[", "]": "\\]", "`": "\\`",
                     "|": "\\|", "\r": " ", "\n": " "})


def md_escape(text) -> str:
    """``text`` inert in Markdown: no HTML (``&``, ``<``, ``>`` as entities), no link, image or code
    syntax (``[``, ``]``, backquote escaped), no table cell break (``|``), on one line."""
    return str(text).translate(_MD)


_TEX = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_", "{": r"\{",
        "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}", "<": r"\textless{}",
        ">": r"\textgreater{}"}


def tex_escape(text) -> str:
    """``text`` as literal LaTeX (no command can be injected through a caption)."""
    return "".join(_TEX.get(ch, ch) for ch in str(text).replace("\n", " "))
