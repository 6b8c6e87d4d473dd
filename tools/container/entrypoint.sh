#!/bin/sh
# The container image's entry point (see the Dockerfile): the standard suite on this machine's accelerator,
# fragments written to /out, with any arguments given to `docker run IMAGE ARGS...` added after the defaults
# (a later option wins: `IMAGE --suite smoke`, `IMAGE --budget 10m`).
#
# Who runs it: started as root (the default), it runs the suite as the owner of /out, so that the fragments
# on the host belong to whoever made the folder (`mkdir -p out` before `docker run -v "$PWD/out:/out"`); a
# folder the engine made itself belongs to root, and the suite then runs as root. Started as another user
# (`--user "$(id -u):$(id -g)"`), it runs as that user, who must be able to write to /out.
set -eu
cd /opt/dlbench
set -- python3 tools/run_catalogue.py --suite standard --out /out --device auto --framework torch "$@"
if [ ! -d /out ]; then
  echo "dlbench: /out is missing: run the image with -v \"\$PWD/out:/out\"" >&2
  exit 2
fi
if [ "$(id -u)" = 0 ]; then
  uid=$(stat -c %u /out)
  gid=$(stat -c %g /out)
  if [ "$uid" != 0 ]; then
    export HOME=/tmp  # the owner of /out may have no account in the image: caches go to /tmp/.cache
    exec setpriv --reuid="$uid" --regid="$gid" --clear-groups -- "$@"
  fi
elif [ ! -w "${HOME:-/}" ]; then
  export HOME=/tmp  # an arbitrary --user has no home in the image
fi
if [ ! -w /out ]; then
  echo "dlbench: user $(id -u) cannot write to /out: mount a folder that user owns (mkdir -p out;" \
       "docker run --user \"\$(id -u):\$(id -g)\" -v \"\$PWD/out:/out\" ...)" >&2
  exit 2
fi
exec "$@"
