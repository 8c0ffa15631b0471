#!/usr/bin/env bash
# The demo's provider services, then the node: `make demo`'s last step.
#   scripts/demo-providers.sh VENV SYNTH_DIR STATE_DIR COMMAND...
# Items shared by interface call (接口调用) or data verification (数据核验) stay with their
# department, which answers the node per request (docs/operations.md, "Provider services").
# For each provider the catalog lists with such items, this starts `rongxin provider serve` on
# that provider's synth files (127.0.0.1, one port each from $DEMO_PROVIDER_PORT, 8701 unless
# set) with a secret shared with the node (STATE_DIR/<provider>.key, made once, mode 600),
# writes the node's endpoints file (STATE_DIR/endpoints.yaml), runs COMMAND with
# RONGXIN_PROVIDER_ENDPOINTS_PATH set to it, and stops the services when COMMAND ends. A
# service that cannot start (its port taken) leaves its sections "temporarily unavailable" in
# reports, as in production.
set -euo pipefail
venv=$1 synth=$2 state=$3
shift 3
mkdir -p "$state"
providers=$("$venv/bin/python" -c '
from rongxin.catalog.service import load_catalog
from rongxin.catalog.schemas import SharingMode
items = load_catalog().items
print(" ".join(sorted({i.provider for i in items if i.sharing_mode is not SharingMode.physical})))
')
endpoints="$state/endpoints.yaml"
echo "providers:" > "$endpoints"
pids=()
# stopped, and waited for, when COMMAND ends: nothing is left listening
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
port=${DEMO_PROVIDER_PORT:-8701}
first=$port
for provider in $providers; do
  key="$state/$provider.key"
  [ -s "$key" ] || (umask 077 && "$venv/bin/python" -c 'import secrets; print(secrets.token_hex(32))' > "$key")
  printf '  %s:\n    base_url: http://127.0.0.1:%d\n    secret_file: %s.key\n' \
    "$provider" "$port" "$provider" >> "$endpoints"
  "$venv/bin/rongxin" provider serve --provider "$provider" --data "$synth/$provider" \
    --client-secret-file "$key" --port "$port" > "$state/$provider.log" 2>&1 &
  pids+=($!)
  port=$((port + 1))
done
echo "provider services: $providers (ports $first-$((port - 1)); logs in $state/)"
RONGXIN_PROVIDER_ENDPOINTS_PATH="$endpoints" "$@"
