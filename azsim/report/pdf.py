"""report.pdf: report.html printed by a headless Chromium, so the PDF is the same document as the HTML
(same text, figures and tables in the same order; the print styles in :mod:`azsim.report.html` give
A4 pages numbered "Page n of N", table headers repeated on each page, no figure split).

The browser is found through ``AZSIM_CHROMIUM``, then ``chromium``, ``chromium-browser``,
``google-chrome`` on PATH. It runs in a throwaway profile folder, without network access to
anything but the file it prints, under a time limit.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from ..scenario import ScenarioError

BROWSERS = ("chromium", "chromium-browser", "google-chrome")
PRINT_TIMEOUT_S = 120
INSTALL_HINT = ("--format pdf: no Chromium found to print the PDF (set AZSIM_CHROMIUM=/path/to/chromium, or "
                "install it: on Debian apt install chromium, or make browser), or use --format html")


def find_browser() -> str | None:
    """The browser that prints the PDF, or None."""
    env = os.environ.get("AZSIM_CHROMIUM")
    if env:
        path = shutil.which(env) or (env if os.path.isfile(env) and os.access(env, os.X_OK) else None)
        return path
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def require_browser() -> str:
    """The browser, or a :class:`ScenarioError` saying how to get one (checked before any work)."""
    browser = find_browser()
    if browser is None:
        raise ScenarioError([INSTALL_HINT])
    return browser


def browser_version(browser: str) -> str | None:
    try:
        done = subprocess.run([browser, "--version"], capture_output=True, text=True, timeout=20, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    lines = [ln.strip() for ln in done.stdout.splitlines() if ln.strip() and "unexpected operator" not in ln]
    return lines[-1][:100] if done.returncode == 0 and lines else None


def _command(browser: str, profile: str) -> list[str]:
    return [browser, "--headless", "--no-sandbox", "--disable-gpu", "--disable-extensions", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            "--mute-audio", f"--user-data-dir={profile}"]


def print_pdf(html_path: Path, pdf_path: Path, browser: str, timeout: float = PRINT_TIMEOUT_S) -> None:
    """Print ``html_path`` to ``pdf_path``; an :class:`OSError` when the browser fails or times out."""
    with tempfile.TemporaryDirectory(prefix="azsim-chromium-") as profile:
        cmd = _command(browser, profile) + ["--no-pdf-header-footer", f"--print-to-pdf={pdf_path}",
                                            html_path.resolve().as_uri()]
        _run(cmd, timeout)
    if not pdf_path.exists() or not pdf_path.read_bytes()[:5] == b"%PDF-":
        raise OSError(f"the browser wrote no PDF ({Path(browser).name})")


def screenshot(html_path: Path, png_path: Path, browser: str, width: int = 1000, height: int = 1400,
               timeout: float = 60) -> None:
    """A PNG of the top of ``html_path`` as a browser shows it."""
    with tempfile.TemporaryDirectory(prefix="azsim-chromium-") as profile:
        cmd = _command(browser, profile) + ["--hide-scrollbars", f"--window-size={width},{height}",
                                            f"--screenshot={png_path}", html_path.resolve().as_uri()]
        _run(cmd, timeout)


def _run(cmd: list[str], timeout: float) -> None:
    """Run the browser in its own process group; on a time-out, Ctrl-C or any failure end that group
    (the browser and the helper processes it started), nothing else."""
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    try:
        _, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _end(proc)
        raise OSError(f"the browser did not finish within {timeout:g} s") from None
    except BaseException:
        _end(proc)
        raise
    _end(proc)  # helpers that outlive the browser's main process
    if proc.returncode != 0:
        tail = err.decode("utf-8", "replace").strip().splitlines()[-1:] or [""]
        raise OSError(f"the browser failed (exit {proc.returncode}): {tail[0][:160]}")


def _end(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
