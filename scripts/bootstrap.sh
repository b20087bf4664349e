#!/usr/bin/env bash
# Creates .venv with Python 3.10 (Rasa 3.6 supports 3.8-3.10 only) and installs welcomebot with
# every dependency pinned by constraints.txt. Does nothing when nothing changed since last time.
set -euo pipefail
cd "$(dirname "$0")/.."

find_python310() {
  local candidate
  for candidate in "${WELCOMEBOT_PYTHON:-}" python3.10; do
    if [ -n "$candidate" ] && command -v "$candidate" >/dev/null 2>&1 \
       && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 10))' 2>/dev/null; then
      command -v "$candidate"; return 0
    fi
  done
  if command -v pyenv >/dev/null 2>&1; then
    local version
    version="$(pyenv versions --bare 2>/dev/null | grep -E '^3\.10\.[0-9]+$' | sort -V | tail -1 || true)"
    if [ -n "$version" ]; then PYENV_VERSION="$version" pyenv which python; return 0; fi
  fi
  return 1
}

stamp=".venv/.welcomebot-installed"
wanted="$(cat pyproject.toml constraints.txt | sha256sum | cut -d' ' -f1)"
if [ -x .venv/bin/python ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
  exit 0
fi

if ! python="$(find_python310)"; then
  cat >&2 <<'MSG'
welcomebot needs Python 3.10: Rasa Open Source 3.6 runs on Python 3.8-3.10 only, and
python-telegram-bot 22 needs 3.10 or newer, so 3.10 is the one version both accept.
Get it in one of these ways, then run the command again:
  pyenv install 3.10.13                 (https://github.com/pyenv/pyenv)
  apt-get install python3.10 python3.10-venv   (where your distribution has it)
  or point WELCOMEBOT_PYTHON at a Python 3.10 interpreter.
MSG
  exit 1
fi

echo "welcomebot: setting up .venv with $("$python" --version) (first time takes a few minutes) ..."
[ -x .venv/bin/python ] || "$python" -m venv .venv
# pip's own exit code decides (pipefail); the filter only hides this machine's notes about
# local package mirrors that do not exist.
quiet() { "$@" 2>&1 | { grep -v "is ignored: it is neither a file nor a directory" || true; }; }
quiet .venv/bin/python -m pip install --quiet --upgrade "pip<24.1" "setuptools<70" wheel
quiet .venv/bin/python -m pip install --quiet -c constraints.txt -e ".[test]"
.venv/bin/python -m pip check
echo "$wanted" > "$stamp"
