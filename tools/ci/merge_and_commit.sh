#!/usr/bin/env bash
# The merge workflow on main: fold data/fragments/ into the dataset with `tools/merge.py` and commit the
# regenerated files and the removed fragments as the bot; then push with tools/ci/push_merge.sh, unless
# --no-push (the workflow pushes in a step of its own, the only one holding the token). Nothing to merge:
# exit 0 quietly. If main moved on with new data meanwhile, start again from the new tip (3 attempts).
# Usage: bash tools/ci/merge_and_commit.sh [--no-push] [REMOTE [BRANCH]]   (defaults: origin main)
# Environment: PYTHON (default python3); GIT_BOT_NAME / GIT_BOT_EMAIL the identity. GH_TOKEN and
# GITHUB_TOKEN are removed from the environment of the merge, which parses untrusted TOML.
# Exit status: 0 merged (and pushed), or nothing to do; 1 the merge or the push failed; 2 a usage error.
set -euo pipefail

if [ "${1:-}" = "-h" ] || [ "${1:-}" = "--help" ]; then sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0; fi
push=1
if [ "${1:-}" = "--no-push" ]; then push=0; shift; fi
if [ $# -gt 2 ]; then echo "usage: bash tools/ci/merge_and_commit.sh [--no-push] [REMOTE [BRANCH]]" >&2; exit 2; fi
remote="${1:-origin}"
branch="${2:-main}"
python="${PYTHON:-python3}"
bot_name="${GIT_BOT_NAME:-github-actions[bot]}"
bot_email="${GIT_BOT_EMAIL:-41898282+github-actions[bot]@users.noreply.github.com}"
here="$(cd "$(dirname "$0")" && pwd)"
cd "$here/../.."

if [ -n "$(git status --porcelain --untracked-files=all)" ]; then
  echo "$(pwd): the working tree has uncommitted changes: run this on a clean checkout of $branch" >&2
  exit 1
fi

for attempt in 1 2 3; do
  summary="$(env -u GH_TOKEN -u GITHUB_TOKEN "$python" tools/merge.py --wait 120)"
  echo "$summary"
  git add -A
  if git diff --cached --quiet; then
    echo "nothing to commit: the dataset is up to date"
    exit 0
  fi
  GIT_AUTHOR_NAME="$bot_name" GIT_AUTHOR_EMAIL="$bot_email" GIT_COMMITTER_NAME="$bot_name" \
    GIT_COMMITTER_EMAIL="$bot_email" git commit --quiet -m "data: merge fragments into the dataset" -m "$summary"
  if [ "$push" = 0 ]; then
    echo "committed $(git rev-parse --short HEAD): push it with bash tools/ci/push_merge.sh $remote $branch"
    exit 0
  fi
  status=0
  bash "$here/push_merge.sh" "$remote" "$branch" || status=$?
  [ "$status" = 0 ] && exit 0
  [ "$status" = 3 ] || exit 1   # refused by branch protection, or another failure: push_merge.sh said which
  echo "merging again from the new tip of $branch (attempt $attempt)" >&2
  git reset --quiet --hard FETCH_HEAD
done
echo "could not push to $remote $branch after 3 attempts: run the merge workflow again" >&2
exit 1
