#!/usr/bin/env bash
# Push the bot's merge commit (HEAD, made by tools/ci/merge_and_commit.sh --no-push) to REMOTE BRANCH: the
# merge workflow's only step that holds a token. Parses no data. A refused push is reported as what it is:
# "main moved on" (someone pushed first), "push refused by branch protection: <reason>" (GH006/GH013, a
# pre-receive hook), or "push failed: <reason>". If main moved on without touching data/, the merge code or
# the schema, the merge commit is replayed on the new tip and pushed again (3 attempts).
# Usage: bash tools/ci/push_merge.sh [REMOTE [BRANCH]]   (defaults: origin main)
# Environment: MERGE_DEPLOY_KEY, when set, a private deploy key (the branch ruleset's bypass actor): loaded
# into a private ssh-agent, never written to disk, and the push goes to MERGE_PUSH_URL (default
# git@github.com:$GITHUB_REPOSITORY.git). Else GH_TOKEN, when set, is the token git pushes with (read from the
# environment by a credential helper, never written to disk). GIT_BOT_NAME / GIT_BOT_EMAIL: the identity.
# Exit status: 0 pushed or nothing to push; 1 refused by branch protection or failed; 2 a usage error;
# 3 main moved on with new data or code: this merge is stale (the run started by that push merges again).
set -euo pipefail

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ $# -gt 2 ]; then echo "usage: bash tools/ci/push_merge.sh [REMOTE [BRANCH]]" >&2; exit 2; fi
remote="${1:-origin}"
branch="${2:-main}"
bot_name="${GIT_BOT_NAME:-github-actions[bot]}"
bot_email="${GIT_BOT_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"
cd "$(dirname "$0")/../.."
# What the merge reads: if main moved on with a change below these, the merge commit is stale.
merge_inputs=(data dlbench schema tools pyproject.toml)

remote_git() {  # git, with GH_TOKEN (when set) supplied by a credential helper that reads the environment
  if [ -n "${GH_TOKEN:-}" ]; then
    # shellcheck disable=SC2016  # $GH_TOKEN is expanded by the helper's shell at push time, not here
    git -c credential.helper= \
        -c 'credential.helper=!f() { test "$1" = get && echo username=x-access-token && echo "password=${GH_TOKEN}"; }; f' \
        "$@"
  else
    git "$@"
  fi
}

tracking="refs/remotes/$remote/$branch"
if git rev-parse --verify --quiet "$tracking" >/dev/null && [ "$(git rev-parse HEAD)" = "$(git rev-parse "$tracking")" ]; then
  echo "nothing to push: HEAD is $remote $branch"
  exit 0
fi

err="$(mktemp)"
cleanup() { rm -f "$err" "${known_hosts:-}"; if [ -n "${SSH_AGENT_PID:-}" ]; then kill "$SSH_AGENT_PID" 2>/dev/null || true; fi; }
trap cleanup EXIT
if [ -n "${MERGE_DEPLOY_KEY:-}" ]; then
  unset GH_TOKEN
  eval "$(ssh-agent -s)" >/dev/null
  ssh-add -q - <<< "$MERGE_DEPLOY_KEY"
  unset MERGE_DEPLOY_KEY
  known_hosts="$(mktemp)"
  # github.com's published SSH host key (docs.github.com: "GitHub's SSH key fingerprints").
  echo "github.com ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl" > "$known_hosts"
  export GIT_SSH_COMMAND="ssh -o UserKnownHostsFile=$known_hosts -o StrictHostKeyChecking=yes"
  remote="${MERGE_PUSH_URL:-git@github.com:${GITHUB_REPOSITORY:?set GITHUB_REPOSITORY or MERGE_PUSH_URL}.git}"
fi
for attempt in 1 2 3; do
  if remote_git push "$remote" "HEAD:refs/heads/$branch" 2>"$err"; then
    echo "pushed $(git rev-parse --short HEAD) to $remote $branch"
    exit 0
  fi
  # The server's own words: its `remote:` lines, and the reason git gives for the refused ref.
  reason="$(sed -n 's/^remote: \{0,1\}//p' "$err" | sed -e 's/^error: //' -e 's/[[:space:]]*$//' | grep -v '^[[:space:]]*$' | paste -sd ';' - | sed 's/;/; /g' || true)"
  if grep -q '^ *! *\[rejected\].*(\(fetch first\|non-fast-forward\))' "$err"; then
    echo "push refused (attempt $attempt): $branch moved on: someone pushed to $remote $branch after this merge began" >&2
  elif grep -qiE 'GH006|GH013|protected branch|\[remote rejected\]|hook declined|push declined|refusing' "$err"; then
    why="${reason:-$(grep -oE '\[remote rejected\].*' "$err" | head -n1 || true)}"
    echo "push refused by branch protection: ${why:-$(tail -n1 "$err")} (the merge bot must be allowed to push to $branch: see docs/ci.md, \"Branch protection\")" >&2
    exit 1
  else
    echo "push failed: ${reason:-$(grep -m1 -E '^(fatal|error): ' "$err" || grep -v '^[[:space:]]*$' "$err" | tail -n1 || true)}" >&2
    exit 1
  fi
  merged="$(git rev-parse HEAD)"
  remote_git fetch --quiet "$remote" "$branch"
  if ! git merge-base --is-ancestor "$merged^" FETCH_HEAD 2>/dev/null \
     || ! git diff --quiet "$merged^" FETCH_HEAD -- "${merge_inputs[@]}"; then
    echo "main moved on with changes to data/ or the merge code: this merge is stale and is not pushed; the merge workflow run started by that push merges again (or run the workflow again)" >&2
    exit 3
  fi
  echo "main moved on without new data: replaying the merge commit on its new tip" >&2
  git reset --quiet --hard FETCH_HEAD
  GIT_COMMITTER_NAME="$bot_name" GIT_COMMITTER_EMAIL="$bot_email" git cherry-pick --allow-empty "$merged" >/dev/null
done
echo "could not push to $remote $branch after 3 attempts: run the merge workflow again" >&2
exit 1
