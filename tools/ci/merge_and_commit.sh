#!/usr/bin/env bash
# The merge workflow on main: fold data/fragments/ into the dataset with `tools/merge.py`, commit the
# regenerated files and the removed fragments as the bot, and push. Nothing to merge: exit 0 quietly.
# If the push is refused because the branch moved on, start again from the new tip (3 attempts).
# Usage: bash tools/ci/merge_and_commit.sh [REMOTE [BRANCH]]   (defaults: origin main)
# Environment: PYTHON (default python3); GH_TOKEN, when set, is the token git pushes with (read from the
# environment by a credential helper, never written to disk); GIT_BOT_NAME / GIT_BOT_EMAIL the identity.
# Exit status: 0 merged and pushed, or nothing to do; 1 the merge or the push failed; 2 a usage error.
set -euo pipefail

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
if [ $# -gt 2 ]; then echo "usage: bash tools/ci/merge_and_commit.sh [REMOTE [BRANCH]]" >&2; exit 2; fi
remote="${1:-origin}"
branch="${2:-main}"
python="${PYTHON:-python3}"
bot_name="${GIT_BOT_NAME:-github-actions[bot]}"
bot_email="${GIT_BOT_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"
cd "$(dirname "$0")/../.."

if [ -n "$(git status --porcelain --untracked-files=all)" ]; then
  echo "$(pwd): the working tree has uncommitted changes: run this on a clean checkout of $branch" >&2
  exit 1
fi

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

for attempt in 1 2 3; do
  summary="$("$python" tools/merge.py --wait 120)"
  echo "$summary"
  git add -A
  if git diff --cached --quiet; then
    echo "nothing to commit: the dataset is up to date"
    exit 0
  fi
  GIT_AUTHOR_NAME="$bot_name" GIT_AUTHOR_EMAIL="$bot_email" GIT_COMMITTER_NAME="$bot_name" \
    GIT_COMMITTER_EMAIL="$bot_email" git commit --quiet -m "data: merge fragments into the dataset" -m "$summary"
  if remote_git push "$remote" "HEAD:refs/heads/$branch"; then
    echo "pushed $(git rev-parse --short HEAD) to $remote $branch"
    exit 0
  fi
  echo "push refused (attempt $attempt): $branch moved on; merging again from its new tip" >&2
  remote_git fetch --quiet "$remote" "$branch"
  git reset --quiet --hard FETCH_HEAD
done
echo "could not push to $remote $branch after 3 attempts: run the merge workflow again" >&2
exit 1
