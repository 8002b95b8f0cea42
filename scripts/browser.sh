#!/bin/sh
# The one place that finds (and, when it may, installs) the Chromium used by the browser tests.
# Used by `make test` and `.ci/run`; tests/conftest.py asks it too (with --no-install).
#
#   scripts/browser.sh [--no-install]
#
# Prints the browser's path on stdout and exits 0. Looks at $CARTELSIM_CHROMIUM, then chromium,
# chromium-browser, google-chrome on PATH. When none is found and the machine has apt-get and we are
# root (or have password-less sudo), installs Debian's `chromium` (one line says so) unless
# --no-install. Otherwise prints nothing on stdout and one line on stderr naming how to enable the
# browser tests; exit 0 (they are skipped), or exit 1 when CI=true (CI always tests the page).
# Uses only shell built-ins to decide, so it behaves with an empty PATH.
set -u
ENABLE="install Debian's chromium (sudo apt-get install chromium) or set CARTELSIM_CHROMIUM to a Chromium or Chrome binary"

find_browser() {
  if [ -n "${CARTELSIM_CHROMIUM:-}" ]; then
    if [ -x "$CARTELSIM_CHROMIUM" ]; then echo "$CARTELSIM_CHROMIUM"; return 0; fi
    echo "browser: CARTELSIM_CHROMIUM=$CARTELSIM_CHROMIUM is not an executable file" >&2
    return 1
  fi
  for name in chromium chromium-browser google-chrome; do
    if path=$(command -v "$name" 2>/dev/null) && [ -n "$path" ]; then echo "$path"; return 0; fi
  done
  return 1
}

may_install() {
  command -v apt-get >/dev/null 2>&1 || return 1
  if [ "$(id -u 2>/dev/null)" = "0" ]; then SUDO=""; return 0; fi
  if command -v sudo >/dev/null 2>&1 && sudo -n true >/dev/null 2>&1; then SUDO="sudo"; return 0; fi
  return 1
}

if path=$(find_browser); then echo "$path"; exit 0; fi
if [ -z "${CARTELSIM_CHROMIUM:-}" ] && [ "${1:-}" != "--no-install" ] && may_install; then
  echo "browser: no Chromium found; installing Debian's chromium package with apt-get (for the page's browser tests)" >&2
  $SUDO apt-get update -qq >/dev/null 2>&1 || true
  if DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null 2>&1 && path=$(find_browser); then
    echo "$path"; exit 0
  fi
  echo "browser: installing chromium with apt-get failed" >&2
fi
if [ "${CI:-}" = "true" ]; then
  echo "browser: no Chromium, and CI=true: the browser tests cannot be skipped in CI; $ENABLE" >&2
  exit 1
fi
echo "browser tests skipped: no Chromium found; to run them, $ENABLE" >&2
exit 0
