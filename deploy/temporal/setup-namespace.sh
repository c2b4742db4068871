#!/bin/sh
# docker-compose.yml's temporal-setup service (temporalio/admin-tools, whose `temporal` CLI reads
# TEMPORAL_ADDRESS and the TLS variables): the namespace with its retention, and the search
# attributes, from temporal.env; `npm run cluster` registers the same (scripts/cluster/cluster.ts).
# Idempotent: what exists is left as it is.
set -eu
namespace=${TEMPORAL_NAMESPACE:-default}

tries=0
until temporal operator cluster health >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 60 ]; then
    echo "[temporal setup] the Temporal server at ${TEMPORAL_ADDRESS:-?} is not healthy" >&2
    exit 1
  fi
  sleep 2
done

if ! temporal operator namespace describe --namespace "$namespace" >/dev/null 2>&1; then
  temporal operator namespace create --namespace "$namespace" --retention "$NAMESPACE_RETENTION"
fi
for attribute in $SEARCH_ATTRIBUTES; do
  name=${attribute%%:*}
  type=${attribute#*:}
  temporal operator search-attribute create --namespace "$namespace" --name "$name" --type "$type" ||
    echo "[temporal setup] search attribute $name: already there (or see the error above)"
done
