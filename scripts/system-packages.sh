#!/usr/bin/env bash
# Debian packages that the tests start for real (SPEC: real components): every line of
# scripts/system-packages.txt names a package and the command that shows it is installed.
# Installs what is missing when it can (root with apt-get), else says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
while read -r package command; do
  case "$package" in ''|'#'*) continue ;; esac
  command -v "$command" >/dev/null 2>&1 || [ -x "$command" ] || missing+=("$package")
done < scripts/system-packages.txt
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "welcomebot: installing Debian packages the tests use: ${missing[*]} ..."
  apt-get update -qq >/dev/null
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  echo "welcomebot: the tests need these Debian packages: ${missing[*]}" >&2
  echo "  install them with: sudo apt-get install ${missing[*]}" >&2
  exit 1
fi
