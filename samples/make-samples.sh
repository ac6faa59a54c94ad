#!/bin/sh
# Regenerates the sample build logs in samples/logs/ with a real Docker engine
# (Debian's docker.io 20.10 and its built-in BuildKit; no buildx plugin needed)
# and Debian's buildah (vfs storage, chroot isolation, --layers for the cache).
# Each builder runs the same sequence on samples/project/: cold (cache pruned),
# warm (nothing changed), a source change, a dependency change, and a failing
# build. Needs: dockerd running, busybox-static and buildah installed. Usage:
#   sh samples/make-samples.sh [OUTDIR] [BUILDER...]   (builders: buildkit legacy buildah)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/logs}
docker=${DOCKER:-/usr/bin/docker}   # Debian's client; a newer one may need buildx
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

buildah="buildah --storage-driver vfs"
build() {   # build BUILDER NAME: one build of $work into $out/BUILDER-NAME.log
    if [ "$1" = buildah ]; then
        $buildah bud --isolation chroot --layers -t "buildprof-sample:$2" "$work" >"$out/$1-$2.log" 2>&1 || true
        return
    fi
    bk=1; [ "$1" = legacy ] && bk=0
    DOCKER_BUILDKIT=$bk "$docker" build --progress=plain -t "buildprof-sample:$2" "$work" \
        >"$out/$1-$2.log" 2>&1 || true
}

shift $(( $# > 0 ? 1 : 0 ))
for builder in ${*:-buildkit legacy buildah}; do
    rm -rf "$work"/*
    cp -R "$here/project/." "$work/"
    cp /bin/busybox "$work/busybox"
    if [ "$builder" = buildah ]; then
        $buildah rmi -a -f >/dev/null 2>&1 || true
    else
        "$docker" image rm -f $("$docker" image ls -q buildprof-sample) >/dev/null 2>&1 || true
        "$docker" builder prune -af >/dev/null
        "$docker" image prune -af >/dev/null
    fi
    build $builder cold
    build $builder warm
    printf 'int helper(void) { return 2; }\n' > "$work/src/helper.c"
    build $builder src-change
    printf 'libdelta==2.0\n' >> "$work/deps.txt"
    build $builder deps-change
    printf 'echo "src/broken.c:1: error: expected expression" >&2; exit 1\n' >> "$work/src/build.sh"
    build $builder failed
done
