#!/usr/bin/env bash
# Starts slate-controller with the configuration (controller.conf) and
# arguments of deploy/istio/controller.yaml (listening on loopback instead of 0.0.0.0) and
# checks it comes up healthy, so the shipped manifest cannot drift from the
# options the daemon accepts.
set -euo pipefail
bin=$1
manifest=$2
work=$(mktemp -d)
pid=""
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null; rm -rf "$work"; }
trap cleanup EXIT

# controller.conf beside the manifest (the kustomization makes it the
# ConfigMap the Deployment mounts).
cp "$(dirname "$manifest")/controller.conf" "$work/controller.conf"
grep -q '=' "$work/controller.conf" || { echo "no controller.conf beside $manifest" >&2; exit 1; }

# The container's args, with paths moved into the scratch directory.
mapfile -t args < <(sed -n '/args:/,/ports:/p' "$manifest" | sed -n 's/^ *- \(--.*\)$/\1/p')
[ "${#args[@]}" -ge 3 ] || { echo "no args in $manifest" >&2; exit 1; }
mkdir -p "$work/state"
run=()
admin=0
for a in "${args[@]}"; do
    case "$a" in
    --config=*) run+=("--config=$work/controller.conf") ;;
    --listen=*) run+=("--listen=127.0.0.1") ;;
    --port=*) run+=("--port=0") ;;
    --state-dir=*) run+=("--state-dir=$work/state") ;;
    --export-dir=*) run+=("--export-dir=$work/state/exports") ;;
    --auth-token-file=*) printf 'manifest-check-token-0123456789\n' >"$work/tokens"
        run+=("--auth-token-file=$work/tokens") ;;
    --admin-listen=*) run+=("--admin-listen=127.0.0.1") ;;
    --admin-port=*) run+=("--admin-port=0" "--admin-port-file=$work/admin-port"); admin=1 ;;
    *) run+=("$a") ;;
    esac
done
"$bin" "${run[@]}" --port-file="$work/port" 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
    [ -s "$work/port" ] && break
    kill -0 "$pid" 2>/dev/null || { cat "$work/log" >&2; echo "controller exited" >&2; exit 1; }
    sleep 0.1
done
port=$(cat "$work/port")
# The probes go to the admin port when the manifest has one.
if [ "$admin" = 1 ]; then
    for _ in $(seq 50); do [ -s "$work/admin-port" ] && break; sleep 0.1; done
    port=$(cat "$work/admin-port")
fi
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
reply=$(cat <&3)
exec 3<&-
case "$reply" in
"HTTP/1.1 200"*) ;;
*) echo "unexpected /healthz reply: $reply" >&2; exit 1 ;;
esac
kill -TERM "$pid"
wait "$pid"
pid=""
echo "manifest_check: controller started with ${#args[@]} manifest args and answered /healthz on port $port (admin: $admin)"
