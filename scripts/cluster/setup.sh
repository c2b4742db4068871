#!/usr/bin/env bash
# `npm run cluster`'s own setup (not part of `npm test`'s): PostgreSQL from Debian when missing, and
# the pinned Temporal server, its SQL schema tool and the Web UI server built once from their Go
# modules into a cache outside the clone. Idempotent: a second run only checks.
#   VAT_CACHE_DIR: the cache (default ${XDG_CACHE_HOME:-~/.cache}/vat-deduction)
set -euo pipefail
cd "$(dirname "$0")/../.."

# The versions docker-compose.yml's images have too: deploy/temporal/temporal.env.
shared_version() {
  value="$(sed -n "s/^$1=//p" deploy/temporal/temporal.env)"
  [ -n "$value" ] || { printf '[cluster setup] deploy/temporal/temporal.env has no %s\n' "$1" >&2; exit 1; }
  printf 'v%s' "$value"
}
TEMPORAL_SERVER_VERSION="$(shared_version TEMPORAL_SERVER_VERSION)"
UI_SERVER_VERSION="$(shared_version TEMPORAL_UI_VERSION)"

# The server needs Go >= 1.26.10; the go command fetches that toolchain from the module proxy.
export GOTOOLCHAIN=go1.26.10

CACHE="${VAT_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/vat-deduction}"
SERVER_DIR="$CACHE/temporal-$TEMPORAL_SERVER_VERSION"
UI_DIR="$CACHE/ui-server-$UI_SERVER_VERSION"

log() { printf '[cluster setup] %s\n' "$*" >&2; }

# PostgreSQL: any initdb on PATH or in Debian's /usr/lib/postgresql/<major>/bin will do.
if ! command -v initdb >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing PostgreSQL from Debian"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  else
    log "PostgreSQL is missing: install Debian's postgresql package (needs root)"
    exit 1
  fi
fi

if ! command -v go >/dev/null 2>&1; then
  log "the Go command is missing: it builds the Temporal server (install Go 1.26 or newer)"
  exit 1
fi

if [ ! -x "$SERVER_DIR/bin/server" ] || [ ! -x "$SERVER_DIR/bin/sql" ]; then
  log "building Temporal server $TEMPORAL_SERVER_VERSION and its SQL tool into $SERVER_DIR (once; about five minutes)"
  mkdir -p "$SERVER_DIR/bin"
  GOBIN="$SERVER_DIR/bin" go install \
    "go.temporal.io/server/cmd/server@$TEMPORAL_SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$TEMPORAL_SERVER_VERSION"
fi
if [ ! -f "$SERVER_DIR/schema/postgresql/v12/temporal/versioned/v1.0/manifest.json" ]; then
  log "copying the PostgreSQL schema of Temporal $TEMPORAL_SERVER_VERSION into $SERVER_DIR/schema"
  module="$(go mod download -json "go.temporal.io/server@$TEMPORAL_SERVER_VERSION" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')"
  [ -d "$module/schema/postgresql/v12" ] || { log "no schema in $module"; exit 1; }
  rm -rf "$SERVER_DIR/schema.tmp"
  mkdir -p "$SERVER_DIR/schema.tmp/postgresql"
  cp -R "$module/schema/postgresql/v12" "$SERVER_DIR/schema.tmp/postgresql/"
  chmod -R u+w "$SERVER_DIR/schema.tmp"
  rm -rf "$SERVER_DIR/schema"
  mv "$SERVER_DIR/schema.tmp" "$SERVER_DIR/schema"
fi

if [ ! -x "$UI_DIR/bin/server" ]; then
  log "building the Temporal Web UI server $UI_SERVER_VERSION into $UI_DIR (once)"
  mkdir -p "$UI_DIR/bin"
  if ! GOBIN="$UI_DIR/bin" go install "github.com/temporalio/ui-server/v2/cmd/server@$UI_SERVER_VERSION"; then
    log "the Web UI server did not build: the cluster starts without a Web UI"
  fi
fi
