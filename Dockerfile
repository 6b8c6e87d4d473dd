# dlbench in a container (OCI): the standard suite on this machine's accelerator, one fragment per run in /out.
#
# Build from a clean checkout of main (the image holds no .git, so the commit is a build argument):
#   docker build -t dlbench \
#     --build-arg SOURCE_COMMIT="$(git rev-parse HEAD)" \
#     --build-arg SOURCE_DIRTY="$(if git diff --quiet HEAD -- . ':(exclude)data'; then echo false; else echo true; fi)" .
# Run (mkdir first, so that the fragments belong to you; DLBENCH_IMAGE_ID records which image ran):
#   mkdir -p out && docker run --rm --gpus all -v "$PWD/out:/out" \
#     -e DLBENCH_IMAGE_ID="$(docker image inspect -f '{{.Id}}' dlbench)" dlbench [--suite smoke | --budget 10m ...]
# podman: the same with `podman`, and `--device nvidia.com/gpu=all` (CDI) in place of `--gpus all`.
# Arguments after the image are added to `tools/run_catalogue.py --suite standard --out /out --device auto
# --framework torch` (a later option wins). README.md, "In a container", says what the fragment records.
#
# BASE_IMAGE: by default the official PyTorch CUDA *runtime* image of the PyTorch this project pins (2.13.0; CUDA
# 12.6, cuDNN 9; linux/amd64), pinned by digest. Docker Hub could not be reached where this file was written: the
# digest was taken from public sources that pin this tag by it, Dchiapeta/llm_serve docker/image/Dockerfile and
# docker/image/lock-deps.sh at commit 5061a63946bc523d3deb91cba6ae6cf7deb4c067 ("verified on Docker Hub on
# 2026-09-03, single-arch linux/amd64"); two other public repositories pin the same tag to the same digest.
# Any image with python3 (3.10 or later) and pip will do: one without torch gets torch==2.13.0 from the index.
ARG BASE_IMAGE=pytorch/pytorch:2.13.0-cuda12.6-cudnn9-runtime@sha256:6acf597eeb8e376a96580dde4952f37cc017fef732bb40bfc73f28f25e3f64b4
FROM ${BASE_IMAGE}

SHELL ["/bin/bash", "-o", "pipefail", "-c"]
# A virtual environment that sees the base's packages (its PyTorch build above all): what pip adds goes there, and
# nothing of the base's Python is replaced or uninstalled (Debian's and Ubuntu's are also marked externally
# managed, PEP 668). It uses the base's pip. PyTorch next, only where the base has none: a layer kept across builds.
RUN python3 -m venv --system-site-packages --without-pip /opt/venv
ENV PATH=/opt/venv/bin:${PATH} \
    VIRTUAL_ENV=/opt/venv \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
RUN python3 -c 'import torch' 2>/dev/null || python3 -m pip install --no-cache-dir torch==2.13.0

ARG BASE_IMAGE
ARG SOURCE_COMMIT
ARG SOURCE_DIRTY
RUN printf '%s\n' "${SOURCE_COMMIT}" | grep -Eqx '[0-9a-f]{40}' || { \
      echo "Dockerfile: SOURCE_COMMIT must be the full 40-digit commit the image is built from (got '${SOURCE_COMMIT}'): build with --build-arg SOURCE_COMMIT=\"\$(git rev-parse HEAD)\"" >&2; \
      exit 1; }; \
    case "${SOURCE_DIRTY}" in \
      true|false) ;; \
      *) echo "Dockerfile: SOURCE_DIRTY must be true or false (got '${SOURCE_DIRTY}'): build with --build-arg SOURCE_DIRTY=false from a checkout without uncommitted changes (git status --porcelain --untracked-files=no prints nothing), true otherwise" >&2; \
         exit 1 ;; \
    esac

WORKDIR /opt/dlbench
COPY . .
# The project in place (editable: the runner and its tools run from /opt/dlbench), with the PyTorch runners' extras.
RUN python3 -m pip install --no-cache-dir -e '.[torch]' \
    && python3 -c 'import torch, dlbench.runner.run; print("dlbench: PyTorch", torch.__version__)' \
    && mkdir -p /out
ENV DLBENCH_BASE_IMAGE=${BASE_IMAGE} \
    DLBENCH_SOURCE_COMMIT=${SOURCE_COMMIT} \
    DLBENCH_SOURCE_DIRTY=${SOURCE_DIRTY}
LABEL org.opencontainers.image.title="dlbench" \
      org.opencontainers.image.description="The dlbench standard suite: one TOML fragment per run in /out" \
      org.opencontainers.image.revision="${SOURCE_COMMIT}" \
      org.opencontainers.image.base.name="${BASE_IMAGE}" \
      org.opencontainers.image.licenses="MIT"

VOLUME ["/out"]
ENTRYPOINT ["/opt/dlbench/tools/container/entrypoint.sh"]
