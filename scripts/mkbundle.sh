#!/usr/bin/env bash
# mkbundle.sh DIR [ARG...]: makes an OCI bundle in DIR whose root file
# system is a static busybox (from Debian's busybox-static) and whose
# process runs ARG... (default: sh). Used by the demo and the benchmarks.
set -euo pipefail
dir=${1:?usage: mkbundle.sh DIR [ARG...]}
shift
syscage=${SYSCAGE:-$(dirname "$0")/../bin/syscage}
mkdir -p "$dir/rootfs"/{bin,dev,proc,sys,tmp,etc,root}
cp /bin/busybox "$dir/rootfs/bin/busybox"
for a in $(/bin/busybox --list); do
	[ "$a" = busybox ] || ln -sf busybox "$dir/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' >"$dir/rootfs/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$dir/rootfs/etc/group"
chmod 1777 "$dir/rootfs/tmp"
rm -f "$dir/config.json"
"$syscage" spec --bundle "$dir"
if [ $# -gt 0 ]; then
	jq --args '.process.args = $ARGS.positional | .process.terminal = false' -- "$@" \
		<"$dir/config.json" >"$dir/config.json.new"
	mv "$dir/config.json.new" "$dir/config.json"
fi
