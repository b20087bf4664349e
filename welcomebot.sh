#!/usr/bin/env bash
# The project's entry point on a fresh clone:
#   ./welcomebot.sh run    set up, train if needed, start Rasa + actions + gateway
#   ./welcomebot.sh test   set up and run the test suite
#   ./welcomebot.sh <any welcomebot command>   (train, chat, content check, ...)
set -euo pipefail
root="$(cd "$(dirname "$0")" && pwd)"
"$root/scripts/bootstrap.sh"
cd "$root"
if [ "${1:-}" = "test" ]; then
  shift
  "$root/scripts/system-packages.sh"
  exec .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/welcomebot "$@"
