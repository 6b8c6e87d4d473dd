"""A run inside this project's container image (the repository's `Dockerfile`): the schema's
`provenance.container`, and the source commit the image was built from.

The image holds the repository without its `.git` (so `probe.git_state` finds no checkout); its build bakes in
    DLBENCH_BASE_IMAGE     the `BASE_IMAGE` build argument (the mark that this is the project's image)
    DLBENCH_SOURCE_COMMIT  the `SOURCE_COMMIT` build argument: the 40-digit commit the image was built from
    DLBENCH_SOURCE_DIRTY   the `SOURCE_DIRTY` build argument: `true` or `false`
and these become `provenance.git_commit` / `git_dirty` when no git checkout answers (a checkout, if one is
mounted, wins). None of them is read without DLBENCH_BASE_IMAGE.

The image's own id cannot be known inside the image when it is built. At run time it comes from, first,
podman's /run/.containerenv (written with `imageid=` for a `--privileged` container; empty otherwise), then
DLBENCH_IMAGE_ID, which the documented run command passes (`-e DLBENCH_IMAGE_ID="$(docker image inspect -f
'{{.Id}}' IMAGE)"`; podman prints the id without `sha256:`, Docker with it). When neither says, the record says
why (`image_id_missing`): an id is never guessed. The engine: podman's /run/.containerenv (`engine="podman-…"`)
or its `container=podman` variable, else Docker's /.dockerenv; omitted when neither is there.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Mapping

BASE_IMAGE_ENV = "DLBENCH_BASE_IMAGE"
COMMIT_ENV = "DLBENCH_SOURCE_COMMIT"
DIRTY_ENV = "DLBENCH_SOURCE_DIRTY"
IMAGE_ID_ENV = "DLBENCH_IMAGE_ID"
_COMMIT = re.compile(r"[0-9a-f]{40}")
_REFERENCE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._/:@-]{0,499}")  # an image reference (the schema's pattern)
_IMAGE_ID = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
NO_IMAGE_ID = (f"the engine did not say and {IMAGE_ID_ENV} was not given: run the image with "
               f"-e {IMAGE_ID_ENV}=\"$(docker image inspect -f '{{{{.Id}}}}' IMAGE)\" (or podman image inspect)")


def in_image(env: Mapping[str, str] | None = None) -> bool:
    """True when the runner runs inside the project's image (its build baked DLBENCH_BASE_IMAGE in)."""
    return bool((os.environ if env is None else env).get(BASE_IMAGE_ENV, "").strip())


def baked_source(env: Mapping[str, str] | None = None) -> dict[str, Any]:
    """`git_commit` and `git_dirty` from the image's build arguments, or {} outside the image.

    A commit that is not 40 lower-case hex digits is not recorded; a dirty flag other than true/false leaves
    `git_dirty` out (the pull-request check then refuses the run as not saying it was clean)."""
    env = os.environ if env is None else env
    if not in_image(env):
        return {}
    out: dict[str, Any] = {}
    commit = env.get(COMMIT_ENV, "").strip()
    if _COMMIT.fullmatch(commit):
        out["git_commit"] = commit
    dirty = env.get(DIRTY_ENV, "").strip().lower()
    if out and dirty in ("true", "false"):
        out["git_dirty"] = dirty == "true"
    return out


def read_containerenv(root: Path = Path("/")) -> dict[str, str]:
    """podman's /run/.containerenv as key -> value (empty for an unprivileged container, or no file)."""
    try:
        text = (root / "run" / ".containerenv").read_text(errors="replace")
    except OSError:
        return {}
    pairs = (line.split("=", 1) for line in text.splitlines() if "=" in line)
    return {k.strip(): v.strip().strip('"') for k, v in pairs}


def container_provenance(env: Mapping[str, str] | None = None, root: Path = Path("/")) -> dict[str, Any] | None:
    """The schema's `provenance.container`, or None outside the project's image."""
    env = os.environ if env is None else env
    if not in_image(env):
        return None
    box: dict[str, Any] = {}
    podman = read_containerenv(root)
    if podman.get("engine", "").startswith("podman") or env.get("container") == "podman":
        box["engine"] = "podman"
    elif (root / ".dockerenv").exists():
        box["engine"] = "docker"
    base = env[BASE_IMAGE_ENV].strip()
    if _REFERENCE.fullmatch(base):
        box["base_image"] = base
    given = env.get(IMAGE_ID_ENV, "").strip()
    for source, value in (("/run/.containerenv", podman.get("imageid", "")), (IMAGE_ID_ENV, given)):
        match = _IMAGE_ID.fullmatch(value.strip().lower())
        if match:
            box["image_id"] = "sha256:" + match.group(1)
            box["image_id_from"] = source
            break
    else:
        box["image_id_missing"] = (NO_IMAGE_ID if not given else
                                   f"{IMAGE_ID_ENV} is not an image id (sha256: and 64 hex digits): "
                                   "pass the output of `docker image inspect -f '{{.Id}}' IMAGE`")
    return box
