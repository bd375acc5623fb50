#!/bin/sh
# Checks that every C @code example in the public headers is compiled by a
# file here, and still says what the header says. A snippet file marks the
# example with "// @code <header> <n>" (the header's n-th @code block) and
# "// @endcode". Every non-blank line of the header's block must appear in the
# snippet, in order, spaces aside; a header line with "..." only needs its
# text before the "..." to start a snippet line. Extra snippet lines
# (scaffolding) are allowed between them.
# Usage: check_sync.sh <include/slate dir> <this dir>
set -eu
inc=$1
here=$2
# Blocks that are not compilable C (wire text, sketches with "..."), as "<header> <n>".
NOT_C="failover.h 1
identity.h 1
legacy.h 1
legacy.h 2
legacy.h 3"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
status=0
found=0

for h in "$inc"/*.h; do
    name=$(basename "$h")
    count=$(grep -c '^ \* @code' "$h" || true)
    i=1
    while [ "$i" -le "$count" ]; do
        if printf '%s\n' "$NOT_C" | grep -qx "$name $i"; then
            i=$((i + 1))
            continue
        fi
        awk -v want="$i" '/^ \* @code/ { n++; inblk = (n == want); next }
            /^ \* @endcode/ { inblk = 0; next }
            inblk { sub(/^ \* ?/, ""); print }' "$h" >"$tmp/header"
        : >"$tmp/snippet"
        for f in "$here"/*.c; do
            awk -v h="$name" -v want="$i" '$2 == "@code" && $3 == h && $4 == want { inblk = 1; next }
                inblk && $2 == "@endcode" { inblk = 0; next }
                inblk { print }' "$f" >>"$tmp/snippet"
        done
        if [ ! -s "$tmp/snippet" ]; then
            echo "$name: @code block $i has no snippet in $here (add one, or list it in NOT_C)"
            status=1
        elif ! awk 'function norm(s) { gsub(/[ \t]+/, " ", s); sub(/^ /, "", s); sub(/ $/, "", s); return s }
                NR == FNR { hl[nh++] = norm($0); next }
                { sl[ns++] = norm($0) }
                END {
                    j = 0
                    for (i = 0; i < nh; i++) {
                        if (hl[i] == "") continue
                        k = index(hl[i], "...")
                        want = k ? norm(substr(hl[i], 1, k - 1)) : hl[i]
                        while (j < ns && !(k ? substr(sl[j], 1, length(want)) == want : sl[j] == want)) j++
                        if (j == ns) { print "  header line not in the snippet (or out of order): " hl[i]; exit 1 }
                        j++
                    }
                }' "$tmp/header" "$tmp/snippet"; then
            echo "$name: @code block $i differs from its snippet"
            status=1
        else
            found=$((found + 1))
        fi
        i=$((i + 1))
    done
done

# A snippet whose header block is gone is stale.
for f in "$here"/*.c; do
    awk '$2 == "@code" { print $3, $4 }' "$f" | while read -r name i; do
        count=$(grep -c '^ \* @code' "$inc/$name" 2>/dev/null || true)
        if [ "${count:-0}" -lt "$i" ]; then
            echo "$(basename "$f"): $name has no @code block $i any more"
            exit 1
        fi
    done || status=1
done

echo "header snippets: $found C examples in sync"
exit $status
