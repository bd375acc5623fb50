#!/bin/sh
# Instructions per request of the data plane's request path, under callgrind:
# the filter and the no-op module, inbound (trace sampling 1%) and outbound
# (rules for 16 destinations). Counted are drive_stream() and drive_tick() of
# driver.c, i.e. the module's callbacks, what they call and the module's
# allocator; the host stand-in's hostcalls are excluded (each toggles the
# collection off while it runs, host_module_malloc back on). Two runs of
# N1 and N2 requests are differenced, so setup and warm-up cancel out.
# Deterministic: the same build gives the same counts on any machine.
#
#   sh wasm_instructions.sh <build/bench> [--profile]
set -eu
dir=${1:?usage: wasm_instructions.sh <build/bench dir> [--profile]}
profile=${2:-}
N1=${SLATE_WI_N1:-20000}
N2=${SLATE_WI_N2:-60000}
if ! command -v valgrind >/dev/null 2>&1; then
    echo "wasm_instructions: valgrind not found (scripts/deps.sh installs it); skipped"
    exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
hostcalls="proxy_log proxy_get_current_time_nanoseconds proxy_set_tick_period_milliseconds
proxy_get_buffer_bytes proxy_get_property proxy_get_header_map_value
proxy_replace_header_map_value proxy_get_shared_data proxy_resolve_shared_queue
proxy_enqueue_shared_queue wasi_random_get host_module_malloc drive_stream drive_tick"
toggles=""
for f in $hostcalls; do toggles="$toggles --toggle-collect=$f"; done

count() { # module direction n -> total instructions collected
    out="$tmp/cg.$1.$2.$3"
    # shellcheck disable=SC2086
    valgrind --tool=callgrind --collect-atstart=no $toggles --callgrind-out-file="$out" \
        "$dir/wasm_native_$1" "$2" "$3" >"$tmp/log" 2>&1 || { cat "$tmp/log"; exit 1; }
    grep -m1 '^summary:\|^totals:' "$out" | awk '{print $2}'
}

printf '%-9s %-7s %12s  %s\n' case module instr/req "(callgrind, native -Os, module code only)"
for d in inbound outbound; do
    for m in noop filter; do
        a=$(count $m $d "$N1")
        b=$(count $m $d "$N2")
        awk -v a="$a" -v b="$b" -v n1="$N1" -v n2="$N2" -v d="$d" -v m="$m" \
            'BEGIN { printf "%-9s %-7s %12.1f\n", d, m, (b - a) / (n2 - n1) }'
        if [ "$profile" = "--profile" ] && [ "$m" = filter ]; then
            echo "--- $d filter: instructions by function (self, $N2 requests incl. setup)"
            callgrind_annotate --inclusive=no "$tmp/cg.$m.$d.$N2" 2>/dev/null |
                sed -n '/^-* *$/,$p' | grep -E '^ *[0-9,]+ ' | head -30
        fi
    done
done
