#!/bin/sh
# Builds libslate's container images as OCI image layouts, with no daemon and
# no network: tar, gzip, sha256sum and the files this tree built.
#
#   scripts/build-oci.sh BUILD_DIR [OUT_DIR] [VERSION]
#
#   OUT_DIR/slate-sidecar     slate_sidecar.wasm (filter and reporter role in
#                             every worker VM) as the image Istio's WasmPlugin
#                             pulls (the "compat" layout: one
#                             application/vnd.oci.image.layer.v1.tar+gzip layer
#                             holding plugin.wasm)
#   OUT_DIR/slate-filter      slate_filter.wasm the same way, for proxies
#                             that run slate_reporter.wasm as a bootstrap
#                             singleton (plain Envoy)
#   OUT_DIR/slate-controller  slate-controller, the shared libraries it links
#                             (as the build machine has them) and a non-root
#                             user 65532; entrypoint the controller
#
# OUT_DIR defaults to BUILD_DIR/oci, VERSION to the project's version. Each
# layout's index.json names its image VERSION (org.opencontainers.image.ref.name).
# Push one with any OCI client, e.g.
#   skopeo copy oci:OUT_DIR/slate-sidecar:VERSION docker://REGISTRY/slate/slate-sidecar:VERSION
# The archives are reproducible: sorted entries, owner 0, mtime 0, gzip -n.
set -eu

build=${1:?usage: build-oci.sh BUILD_DIR [OUT_DIR] [VERSION]}
out=${2:-$build/oci}
version=${3:-}
here=$(cd "$(dirname "$0")/.." && pwd)
if [ -z "$version" ]; then
    v() { sed -n "s/^#define SLATE_VERSION_$1 \\([0-9]*\\)$/\\1/p" "$here/include/slate/version.h"; }
    version=$(v MAJOR).$(v MINOR).$(v PATCH)
fi
filter=$build/shims/wasm/slate_filter.wasm
sidecar=$build/shims/wasm/slate_sidecar.wasm
controller=$build/shims/controller/slate-controller
for f in "$filter" "$sidecar" "$controller"; do
    [ -f "$f" ] || { echo "build-oci: $f not built (cmake --build $build)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { wc -c <"$1" | tr -d ' '; }

# A reproducible tar of directory $1 into $2 (uncompressed).
mktar() {
    (cd "$1" && find . -mindepth 1 | LC_ALL=C sort) | sed 's#^\./##' >"$tmp/list"
    tar -C "$1" --no-recursion --format=posix --numeric-owner --owner=0 --group=0 \
        --mtime=@0 --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime \
        -cf "$2" -T "$tmp/list"
}

# Moves file $1 into layout $2's blobs; prints its digest.
blob() {
    d=$(sha "$1")
    mkdir -p "$2/blobs/sha256"
    mv "$1" "$2/blobs/sha256/$d"
    echo "$d"
}

# image LAYOUT ROOTFS_DIR CONFIG_EXTRA(JSON members, may be empty) ARCH OS
image() {
    layout=$1 rootfs=$2 extra=$3 arch=$4 os=$5
    rm -rf "$layout"
    mkdir -p "$layout"
    mktar "$rootfs" "$tmp/layer.tar"
    diff_id=$(sha "$tmp/layer.tar")
    gzip -n -6 -c "$tmp/layer.tar" >"$tmp/layer.tar.gz"
    layer_size=$(size "$tmp/layer.tar.gz")
    layer=$(blob "$tmp/layer.tar.gz" "$layout")
    printf '{"architecture":"%s","os":"%s",%s"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' \
        "$arch" "$os" "$extra" "$diff_id" >"$tmp/config.json"
    config_size=$(size "$tmp/config.json")
    config=$(blob "$tmp/config.json" "$layout")
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:%s","size":%s}]}' \
        "$config" "$config_size" "$layer" "$layer_size" >"$tmp/manifest.json"
    manifest_size=$(size "$tmp/manifest.json")
    manifest=$(blob "$tmp/manifest.json" "$layout")
    printf '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
    printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"%s"}}]}' \
        "$manifest" "$manifest_size" "$version" >"$layout/index.json"
    echo "build-oci: $layout ($version): manifest sha256:$manifest, layer $layer_size bytes"
}

# The modules: plugin.wasm at the root of the single layer.
for m in filter sidecar; do
    rm -rf "$tmp/wasm"
    mkdir -p "$tmp/wasm"
    eval "cp \"\$$m\" \"$tmp/wasm/plugin.wasm\""
    chmod 0644 "$tmp/wasm/plugin.wasm"
    image "$out/slate-$m" "$tmp/wasm" "" wasm wasip1
done

# The controller: the binary, every library the loader resolves for it, the
# loader itself, a passwd/group naming the non-root user, an empty /tmp.
root=$tmp/rootfs
mkdir -p "$root/usr/local/bin" "$root/etc" "$root/tmp" "$root/var/lib/slate"
chmod 1777 "$root/tmp"
cp "$controller" "$root/usr/local/bin/slate-controller"
chmod 0755 "$root/usr/local/bin/slate-controller"
ldd "$controller" | awk '/=> \//{print $3} /^\t\//{print $1}' | while read -r lib; do
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
    # the resolved file under its real name too, when the name is a link
    real=$(readlink -f "$lib")
    if [ "$real" != "$lib" ]; then
        mkdir -p "$root$(dirname "$real")"
        cp -L "$lib" "$root$real"
    fi
done
printf 'root:x:0:0:root:/root:/sbin/nologin\nslate:x:65532:65532:slate:/var/lib/slate:/sbin/nologin\n' >"$root/etc/passwd"
printf 'root:x:0:\nslate:x:65532:\n' >"$root/etc/group"
case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac
image "$out/slate-controller" "$root" \
    '"config":{"User":"65532:65532","Entrypoint":["/usr/local/bin/slate-controller"],"ExposedPorts":{"8000/tcp":{},"8001/tcp":{}},"WorkingDir":"/var/lib/slate"},' \
    "$arch" linux
