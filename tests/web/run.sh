#!/usr/bin/env bash
# ctest `web_browser_test`: the web page in headless Debian Chromium, driven by
# playwright-core (tests/web/web.test.mjs), against a real `whoknows serve --http`.
#   run.sh WHOKNOWS_BIN ARTIFACT_DIR
# Exit 77 (ctest: skipped) when WHOKNOWS_SKIP_BROWSER=1 (set for sanitizer builds).
set -euo pipefail
BIN=$(realpath "$1")
mkdir -p "$2"; OUT=$(realpath "$2")
cd "$(dirname "$0")"
if [ "${WHOKNOWS_SKIP_BROWSER:-0}" = 1 ]; then
  echo "web_browser_test: skipped (WHOKNOWS_SKIP_BROWSER=1, e.g. a sanitizer build)"
  exit 77
fi
[ -x /usr/bin/chromium ] || { echo "web_browser_test: /usr/bin/chromium missing (scripts/setup installs it)"; exit 1; }
command -v node >/dev/null || { echo "web_browser_test: node missing (scripts/setup installs it)"; exit 1; }
if [ ! -f node_modules/playwright-core/package.json ]; then
  # Never downloads a browser: Debian's chromium is used.
  PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error
fi

WHOKNOWS_BIN=$BIN WK_ARTIFACTS=$OUT exec node --test --test-reporter=spec web.test.mjs
