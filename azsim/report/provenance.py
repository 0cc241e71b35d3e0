"""Where a report comes from: the scenario file's comments (each parameter's source and confidence),
the versions of azsim, its git commit and the libraries, ``metadata.json`` (what ``--reproduce``
needs, with paths relative to the report folder) and its schema, and the report's "How to cite"
and "Reproducibility" sections as readable text. No local absolute path reaches a report file.
"""

from __future__ import annotations

import json
import os
import platform
import re
import stat
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path

from .. import __version__
from ..scenario import MAX_REPLICATIONS, MAX_SEED, ScenarioError
from .document import Section

PACKAGES = ("numpy", "pandas", "simpy", "matplotlib", "scipy", "duckdb", "SALib", "jinja2")
FORMATS = ("html", "pdf", "md")
GIT_TIMEOUT_S = 5

REPRODUCE_MAX_REPLICATIONS = MAX_REPLICATIONS
"""The most replications (and advisor replications) a metadata.json may ask for: the CLI's bound on -r."""
REPRODUCE_MAX_SEED = MAX_SEED
METADATA_MAX_BYTES = 4_000_000
"""A report's metadata.json is tens of kilobytes; anything far larger is not one."""
METADATA_MAX_DEPTH = 32
"""Deepest nesting of a metadata.json (its scenario is about 5 levels deep)."""


# ---- scenario comments ---------------------------------------------------------------------------
_KEY = re.compile(r"^(\s*)([A-Za-z_][\w\-]*)\s*:(.*)$")


def parse_comments(text: str) -> dict[str, str]:
    """Map each dotted path of a YAML file to its end-of-line comment (a simple line scan).

    Block mappings only (what scenario files use); list items and block scalars are skipped.
    """
    out: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in text.splitlines():
        if not line.strip() or line.lstrip().startswith("#") or line.lstrip().startswith("-"):
            continue
        m = _KEY.match(line)
        if not m:
            continue
        indent, key, rest = len(m.group(1)), m.group(2), m.group(3)
        while stack and stack[-1][0] >= indent:
            stack.pop()
        path = ".".join([k for _, k in stack] + [key])
        comment = _comment(rest)
        if comment:
            out[path] = comment
        stack.append((indent, key))
    return out


def _comment(rest: str) -> str:
    """The comment of a YAML value (outside quotes), or ''."""
    quote = None
    for i, ch in enumerate(rest):
        if quote:
            if ch == quote:
                quote = None
        elif ch in "'\"":
            quote = ch
        elif ch == "#" and (i == 0 or rest[i - 1] in " \t"):
            return rest[i + 1:].strip()
    return ""


_CONFIDENCE = re.compile(r";\s*(very high|high|medium-high|medium|low-medium|low|very low)\b", re.IGNORECASE)


def confidence(comment: str) -> str:
    """'assumed' when the comment says so or there is none; else the confidence it states, or 'as sourced'."""
    if not comment or "assumed" in comment.lower():
        return "assumed"
    m = _CONFIDENCE.search(comment)
    return m.group(1).lower() if m else "as sourced"


# ---- versions and the commit -------------------------------------------------------------------------
def versions() -> dict:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = importlib_metadata.version(name)
        except importlib_metadata.PackageNotFoundError:
            out[name] = None
    return out


def _git(args: list[str], root: Path) -> str | None:
    try:
        done = subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=GIT_TIMEOUT_S, check=False)
    except (OSError, subprocess.SubprocessError, ValueError):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def git_commit() -> dict:
    """``{"commit": HEAD or None, "dirty": bool | None}`` of the checkout azsim runs from; None when
    azsim is not run from a git checkout (an installed package) or git is missing or slow. Never raises."""
    root = Path(__file__).resolve().parent.parent.parent
    if not (root / ".git").exists() or not (root / "azsim").is_dir():
        return {"commit": None, "dirty": None}
    commit = _git(["rev-parse", "HEAD"], root)
    if not commit or not re.fullmatch(r"[0-9a-f]{40}", commit):
        return {"commit": None, "dirty": None}
    status = _git(["status", "--porcelain", "--untracked-files=no"], root)
    return {"commit": commit, "dirty": None if status is None else bool(status)}


def commit_text(git: dict) -> str:
    if not git.get("commit"):
        return "not from a git checkout"
    return git["commit"] + (" (with uncommitted changes)" if git.get("dirty") else "")


def relative_to(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` (POSIX separators), so metadata.json names no local absolute
    path; the file name alone if no relative path exists."""
    try:
        return Path(os.path.relpath(Path(path).resolve(), folder.resolve())).as_posix()
    except (OSError, ValueError, RuntimeError):
        return Path(path).name


def shown_input(path: str) -> str:
    """The input as a report shows it: as given when relative (``scenarios/default.yaml``), else its name."""
    p = Path(path)
    return p.as_posix() if not p.is_absolute() and ".." not in p.parts else p.name


# ---- the sections every report ends with ---------------------------------------------------------------
def citation_sections(meta: dict, out_name: str) -> list[Section]:
    """"How to cite" and "Reproducibility", as readable text, from the report's metadata."""
    git = meta.get("git") or {}
    created = str(meta.get("created", ""))
    date = created[:10]
    scenario = meta.get("kind") == "scenario"
    facts = [("azsim version", str(meta.get("azsim_version"))), ("Git commit", commit_text(git))]
    if scenario:
        facts += [("Scenario", f"{meta.get('scenario_name')} (hash {meta.get('scenario_hash')})"),
                  ("Seed", str(meta.get("seed"))),
                  ("Replications", f"{meta.get('replications')} (the practice advisor: "
                                   f"{meta.get('advisor_replications')})")]
    else:
        facts += [("Results store", str(meta.get("input", {}).get("name"))),
                  ("Sweeps", ", ".join(map(str, meta.get("sweeps") or [])) or "none")]
        if meta.get("scenario_hash"):
            facts.append(("Base scenario hash", str(meta.get("scenario_hash"))))
    facts.append(("Report created", created))
    commit = git.get("commit")
    what = (f"report on scenario {meta.get('scenario_name')} (hash {meta.get('scenario_hash')}), seed "
            f"{meta.get('seed')}, {meta.get('replications')} replications" if scenario else
            f"report on the results store {meta.get('input', {}).get('name')}")
    citation = (f"azsim {meta.get('azsim_version')}{f' (commit {commit[:12]})' if commit else ''}: a discrete-event "
                f"simulation of the cost of Amazon's A-to-z Guarantee to a seller; {what}; created {date}.")
    cite = Section("How to cite", [
        "Cite the version and, when the report was built from a git checkout, the commit: the same version, "
        "commit, scenario hash, seed and replications give the same tables."],
        [("facts", facts), ("para", "Suggested citation:"), ("code", citation)])
    command = (_rerun_command(meta, out_name))
    pkgs = ", ".join(f"{k} {v}" for k, v in (meta.get("packages") or {}).items() if v)
    repro = [
        ("para", "To rebuild this report from the same input (the numbers come out identical for the same "
                 "azsim version):"),
        ("code", command),
        ("para", f"Or, from the folder that holds this report, rebuild it from its own record (metadata.json "
                 f"holds the resolved scenario, seed and replications): "
                 f"azsim report --reproduce {out_name}/metadata.json"),
        ("facts", [("Python", str(meta.get("python"))), ("Libraries", pkgs or "not recorded")]
         + ([("PDF printed by", str(meta["browser"]))] if meta.get("browser") else [])),
    ]
    if meta.get("reproduced_from"):
        repro.insert(0, ("para", f"This report was rebuilt from {meta['reproduced_from']}."))
    return [cite, Section("Reproducibility", [], repro)]


def _rerun_command(meta: dict, out_name: str) -> str:
    src = meta.get("input", {}).get("shown") or meta.get("input", {}).get("name") or "SOURCE"
    parts = ["azsim", "report", src, "--out", out_name, "--format", ",".join(meta.get("formats") or ["html"])]
    if meta.get("kind") == "scenario":
        parts += ["--replications", str(meta.get("replications")), "--seed", str(meta.get("seed"))]
        if meta.get("policies_arg"):
            parts += ["--policies", str(meta["policies_arg"])]
    return " ".join(parts)


# ---- metadata.json: its schema and reading it back -------------------------------------------------
def metadata_model():
    """The pydantic schema of metadata.json, as far as ``reproduce`` uses it (other keys are ignored)."""
    from typing import Any, Literal

    from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr

    class _Input(BaseModel):
        model_config = ConfigDict(extra="ignore")
        path: StrictStr = Field(min_length=1, max_length=4096)
        resolved: StrictStr | None = Field(None, min_length=1, max_length=4096)  # reports before 0.1.0's provenance
        name: StrictStr | None = Field(None, max_length=4096)
        shown: StrictStr | None = Field(None, max_length=4096)

    class Metadata(BaseModel):
        model_config = ConfigDict(extra="ignore")
        kind: Literal["scenario", "store"]
        input: _Input
        formats: list[Literal["html", "pdf", "md"]] | None = Field(None, min_length=1, max_length=len(FORMATS))
        scenario: dict[StrictStr, Any] | None = None
        scenario_hash: StrictStr | None = Field(None, max_length=64)
        parameter_sources: dict[StrictStr, StrictStr] | None = None
        replications: StrictInt | None = Field(None, ge=1, le=REPRODUCE_MAX_REPLICATIONS)
        advisor_replications: StrictInt | None = Field(None, ge=1, le=REPRODUCE_MAX_REPLICATIONS)
        seed: StrictInt | None = Field(None, ge=0, le=REPRODUCE_MAX_SEED)
        policies_arg: StrictStr | None = Field(None, max_length=4096)

    return Metadata


def json_depth(text: str) -> int:
    """Deepest nesting of ``[`` and ``{`` in a JSON text (outside strings), without parsing it."""
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif ch in "]}":
            depth -= 1
    return deepest


def _got(value) -> str:
    text = json.dumps(value, default=str) if not isinstance(value, str) else repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def read_metadata(metadata_path: str | Path):
    """A report's metadata.json, checked against its schema: every problem is one line naming the
    field (``replications: input should be ...``) in a :class:`ScenarioError` whose source is the file."""
    from pydantic import ValidationError

    mp = Path(metadata_path)
    src = str(mp)
    try:
        st = os.stat(mp)
    except FileNotFoundError:
        raise ScenarioError([f"--reproduce: no such file: {mp}"]) from None
    except OSError as err:
        raise ScenarioError([f"cannot read: {err.strerror or err}"], src) from None
    if not stat.S_ISREG(st.st_mode):
        raise ScenarioError(["not a report's metadata.json (not a regular file)"], src)
    if st.st_size > METADATA_MAX_BYTES:
        raise ScenarioError([f"not a report's metadata.json ({st.st_size:,} bytes; at most {METADATA_MAX_BYTES:,})"],
                            src)
    try:
        text = mp.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ScenarioError([f"not a report's metadata.json ({err})"], src) from None
    if json_depth(text) > METADATA_MAX_DEPTH:
        raise ScenarioError([f"not a report's metadata.json (nested deeper than {METADATA_MAX_DEPTH} levels)"], src)
    try:
        raw = json.loads(text)
    except (ValueError, RecursionError) as err:
        raise ScenarioError([f"not JSON: {str(err)[:120]}"], src) from None
    if not isinstance(raw, dict):
        raise ScenarioError([f"not a report's metadata.json (a JSON object is expected, got {type(raw).__name__})"],
                            src)
    try:
        meta = metadata_model().model_validate(raw)
    except ValidationError as err:
        problems = []
        for e in err.errors():
            where = ".".join(str(x) for x in e["loc"]) or "(top level)"
            msg = re.sub(r" or instance of \w+", "", e["msg"][:1].lower() + e["msg"][1:])
            got = "" if e["type"] == "missing" else f" (got {_got(e.get('input'))})"
            problems.append(f"{where}: {msg}{got}")
        raise ScenarioError(problems, src) from None
    if meta.kind == "scenario":
        missing = [k for k in ("scenario", "replications", "advisor_replications", "seed") if getattr(meta, k) is None]
        if missing:
            raise ScenarioError([f"{k}: field required (a scenario report records it)" for k in missing], src)
    return meta


def input_of(meta, metadata_path: Path) -> str:
    """The input a metadata.json names: its path relative to the report folder (an older report's
    absolute ``resolved`` path as a fallback)."""
    p = Path(meta.input.path)
    if p.is_absolute():
        return str(p)
    candidate = metadata_path.parent / p
    if candidate.exists() or not meta.input.resolved:
        return str(candidate)
    return meta.input.resolved


def base_metadata(kind: str, source: str, out: Path, formats: list[str], created: str) -> dict:
    return {
        "azsim_version": __version__, "kind": kind, "created": created,
        "input": {"path": relative_to(source, out), "name": Path(source).name, "shown": shown_input(source)},
        "formats": list(formats), "python": platform.python_version(), "packages": versions(),
        "git": git_commit(),
    }
