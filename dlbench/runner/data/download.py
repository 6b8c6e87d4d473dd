"""Downloading one file from a list of mirrors, verified by SHA-256, written crash-safely.

The bytes go to a temporary `.<name>.<random>.part` file in the destination folder and are renamed
over the destination only once complete and verified, so an interrupted or corrupt download never
leaves a file under the final name.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Sequence

import dlbench
from dlbench.contract.atomic import fsync_dir

CHUNK = 1 << 20
STALE_PART_S = 3600.0  # leftovers of a killed download older than this are removed


class DownloadError(Exception):
    """No mirror delivered the file; `attempts` holds one `url: what went wrong` line per mirror."""

    def __init__(self, filename: str, attempts: list[str]):
        self.filename = filename
        self.attempts = attempts
        super().__init__(f"could not download {filename}: " + "; ".join(attempts))


class _Transient(Exception):
    """A failure worth retrying on the same mirror (network trouble, short body, server error)."""


class _Permanent(Exception):
    """A failure that retrying the same mirror will not fix (not found, wrong checksum)."""


def join_url(mirror: str, filename: str) -> str:
    return mirror if mirror.endswith(filename) else mirror.rstrip("/") + "/" + filename


def file_sha256(path: Path) -> str:
    """SHA-256 of a file, read in CHUNK-sized pieces (archives of gigabytes never sit in memory)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def fetch(mirrors: Sequence[str], dest: Path, sha256: str, *, retries: int = 3, backoff: float = 1.0,
          timeout: float = 30.0, progress: bool = False) -> Path:
    """Download `dest.name` from the first mirror that delivers bytes with the given SHA-256.

    Each mirror is tried up to `1 + retries` times on network errors, short bodies and server errors,
    sleeping `backoff * 2**attempt` seconds between tries; a 4xx answer or a checksum mismatch moves
    on to the next mirror at once. Raises DownloadError listing what each mirror did.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    _remove_stale_parts(dest)
    attempts: list[str] = []
    for mirror in mirrors:
        url = join_url(mirror, dest.name)
        for attempt in range(retries + 1):
            try:
                _download(url, dest, sha256, timeout=timeout, progress=progress)
                return dest
            except _Permanent as exc:
                attempts.append(f"{url}: {exc}")
                break
            except _Transient as exc:
                if attempt == retries:
                    tries = f" ({retries + 1} tries)" if retries else ""
                    attempts.append(f"{url}: {exc}{tries}")
                else:
                    time.sleep(backoff * 2**attempt)
    raise DownloadError(dest.name, attempts or ["no mirror configured"])


def _download(url: str, dest: Path, sha256: str, *, timeout: float, progress: bool) -> None:
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".part", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            digest = _stream(url, out, timeout=timeout, progress=progress, label=dest.name)
            out.flush()
            os.fsync(out.fileno())
        if digest != sha256:
            raise _Permanent(f"checksum mismatch: got sha256 {digest}, expected {sha256}")
        os.replace(tmp, dest)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(dest.parent)


def _stream(url: str, out, *, timeout: float, progress: bool, label: str) -> str:
    """Copy the body of `url` into `out`; the SHA-256 hex digest of the body."""
    request = urllib.request.Request(url, headers={"User-Agent": f"dlbench/{dlbench.__version__}"})
    digest = hashlib.sha256()
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            length = response.headers.get("Content-Length")
            expected = int(length) if length and length.isdigit() else None
            bar = _progress_bar(progress, expected, label)
            received = 0
            try:
                while chunk := response.read1(CHUNK):
                    out.write(chunk)
                    digest.update(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
            finally:
                if bar is not None:
                    bar.close()
    except urllib.error.HTTPError as exc:
        if 400 <= exc.code < 500 and exc.code not in (408, 429):
            raise _Permanent(f"HTTP {exc.code} {exc.reason}") from exc
        raise _Transient(f"HTTP {exc.code} {exc.reason}") from exc
    except urllib.error.URLError as exc:
        raise _Transient(f"unreachable ({exc.reason})") from exc
    except (http.client.HTTPException, socket.timeout, OSError) as exc:
        raise _Transient(f"transfer failed ({type(exc).__name__}: {exc})") from exc
    if expected is not None and received != expected:
        raise _Transient(f"connection closed after {received} of {expected} bytes")
    return digest.hexdigest()


def _progress_bar(progress: bool, total: int | None, label: str):
    if not (progress and sys.stderr.isatty()):
        return None
    from tqdm import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024, desc=label, file=sys.stderr,
                leave=False)


def _remove_stale_parts(dest: Path) -> None:
    """Remove temporary files a killed download of `dest` left behind (never a live one: they are old)."""
    now = time.time()
    for part in dest.parent.glob(f".{dest.name}.*.part"):
        try:
            if now - part.stat().st_mtime > STALE_PART_S:
                part.unlink()
        except OSError:
            pass
