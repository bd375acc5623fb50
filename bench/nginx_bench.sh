#!/bin/sh
# nginx with and without ngx_http_slate_module, side by side in one run:
# requests/s and p99 (wrk, fixed connections, loopback) for an inbound
# measured location (`return 200`) and a routed outbound location
# (`proxy_pass http://be_$slate_region` to a local upstream), at 1 and 2
# workers; RSS per worker; the module's shared-memory bytes per endpoint and
# per rule. Numbers for the report; nothing is asserted.
# Usage: bench/nginx_bench.sh BUILD_DIR [SECONDS] [CONNECTIONS]
set -eu
BUILD=${1:-build}
SECS=${2:-5}
CONNS=${3:-32}
MODULE=$(cd "$BUILD/shims/nginx" && pwd)/ngx_http_slate_module.so
NGINX=${NGINX:-/usr/sbin/nginx}
WORK=$(mktemp -d)
trap 'for p in "$WORK"/*/nginx.pid; do [ -f "$p" ] && kill "$(cat "$p")" 2>/dev/null; done; rm -rf "$WORK"' EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# $1 name, $2 workers, $3 with|without, $4 port, $5 upstream port
conf() {
    d="$WORK/$1"; mkdir -p "$d/logs" "$d/tmp"
    if [ "$3" = with ]; then
        load="load_module $MODULE;"
        glob="slate_zone slate 4m; slate_service bench; slate_region west;"
        inb="slate_measure on;"
        outb="slate_route be; proxy_pass http://be_\$slate_region;"
    else
        # The same variable proxy_pass as with the module (nginx then finds
        # the upstream by name per request), so the difference is the module's.
        load=""; glob=""; inb=""; outb="set \$region west; proxy_pass http://be_\$region;"
    fi
    cat > "$d/nginx.conf" <<CONF
$load
worker_processes $2;
error_log $d/logs/error.log warn;
pid $d/nginx.pid;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $d/tmp/b; proxy_temp_path $d/tmp/p; fastcgi_temp_path $d/tmp/f;
  uwsgi_temp_path $d/tmp/u; scgi_temp_path $d/tmp/s;
  $glob
  upstream be_west { server 127.0.0.1:$5; keepalive 32; }
  server { listen 127.0.0.1:$5; location / { return 200 "ok\n"; } }
  server {
    listen 127.0.0.1:$4;
    location /in/ { $inb return 200 "ok\n"; }
    location /out/ { $outb proxy_http_version 1.1; proxy_set_header Connection ""; }
    location = /slate-status { $( [ "$3" = with ] && echo slate_status\; || echo return 404\; ) }
  }
}
CONF
}

rss_kb() { # RSS of the workers of master pid $1, summed and per worker
    total=0; n=0
    for w in $(pgrep -P "$1"); do r=$(awk '/VmRSS/ {print $2}' "/proc/$w/status"); total=$((total + r)); n=$((n + 1)); done
    echo "$((total / n))"
}

echo "# nginx $($NGINX -v 2>&1 | sed 's/.*\///'), wrk -t2 -c$CONNS -d${SECS}s, loopback; machine shared and loaded"
printf "%-8s %-7s %-8s %12s %10s %14s\n" workers module location "requests/s" "p99" "RSS/worker kB"
for workers in 1 2; do
    for mode in without with; do
        port=$(free_port); up=$(free_port)
        conf "$mode$workers" "$workers" "$mode" "$port" "$up"
        "$NGINX" -p "$WORK/$mode$workers" -c "$WORK/$mode$workers/nginx.conf"
        sleep 0.5
        for loc in in out; do
            wrk -t2 -c"$CONNS" -d1s "http://127.0.0.1:$port/$loc/x" >/dev/null 2>&1 || true
            out=$(wrk -t2 -c"$CONNS" -d"${SECS}s" --latency "http://127.0.0.1:$port/$loc/x")
            rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
            p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
            printf "%-8s %-7s %-8s %12s %10s %14s\n" "$workers" "$mode" "$loc" "$rps" "$p99" \
                "$(rss_kb "$(cat "$WORK/$mode$workers/nginx.pid")")"
        done
        if [ "$mode" = with ]; then
            curl -s "http://127.0.0.1:$port/slate-status" | python3 -c \
                'import json,sys; s=json.load(sys.stdin)["shm_bytes"]; print("# shm bytes: header %d, per endpoint %d, per rule %d, per span %d" % (s["header"], s["per_endpoint"], s["per_rule"], s["per_span"]))'
        fi
        kill "$(cat "$WORK/$mode$workers/nginx.pid")"; sleep 0.5
    done
done
