#!/usr/bin/env bash
# Make sure a Chromium the browser tests can drive is installed (Debian's package: /usr/bin/chromium).
# Playwright's own browser download needs a CDN this machine cannot reach, so the tests launch Debian's
# Chromium through Playwright (executable_path). Without root or apt, it says why and the browser tests
# skip with that reason printed.
set -euo pipefail
CHROMIUM=${SIERRA_CHROMIUM:-/usr/bin/chromium}
if [ -x "$CHROMIUM" ]; then exit 0; fi
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "note: $CHROMIUM is missing and cannot be installed here (needs root and apt-get);" \
       "the browser tests will skip. Install Debian's chromium package, or set SIERRA_CHROMIUM." >&2
  exit 0
fi
echo "Installing Debian's chromium for the browser tests (once)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq chromium >/dev/null
"$CHROMIUM" --version >&2
