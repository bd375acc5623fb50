#!/bin/sh
# Fails when any C source of the project differs from what clang-format
# (with the project's .clang-format) would write. Run `make format` to fix.
set -eu
cd "$(dirname "$0")/.."
command -v clang-format >/dev/null 2>&1 || { echo "check-format: clang-format not installed" >&2; exit 1; }
files=$(git ls-files '*.c' '*.h' 2>/dev/null || find include libslate tests fuzz bench examples shims -name '*.[ch]')
bad=""
for f in $files; do
    clang-format --dry-run -Werror "$f" >/dev/null 2>&1 || bad="$bad $f"
done
if [ -n "$bad" ]; then
    echo "check-format: these files need clang-format (make format):$bad" >&2
    exit 1
fi
echo "check-format: $(echo $files | wc -w) files formatted"
