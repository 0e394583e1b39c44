#!/usr/bin/env bash
# Installs what building and testing syscage needs on Debian 12, and checks
# for Go. Safe to run again: it installs only what is missing.
set -euo pipefail

# uidmap: newuidmap/newgidmap, for rootless containers with subordinate ids;
# bubblewrap: the start-up comparison of `syscage do` (bench/do-startup.sh);
# libcap2-bin: capsh, which the demo uses to decode the sentry's capabilities.
need=(gcc libc6-dev make pkg-config libseccomp-dev busybox-static jq iproute2 procps util-linux runc uidmap bubblewrap libcap2-bin)
missing=()
for p in "${need[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: apt-get install ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# FUSE: each container's resource views (/proc/meminfo, ...) are served on
# a FUSE file system of its own (docs/architecture.md, "Resource views").
# Debian's kernels build it in or as a module.
if [ ! -e /dev/fuse ]; then
	modprobe fuse 2>/dev/null || true
	[ -e /dev/fuse ] || echo "setup: no /dev/fuse: containers need \"resourceViews\": false in their profile or the annotation dev.syscage.resource-views=false" >&2
fi

# Go: the machine's toolchain at /usr/local/go (Debian 12's golang-go, 1.19,
# is too old for libcontainer; go.mod asks for 1.23 or newer). Where there
# is none, or it is older, the Go release is fetched as the module
# golang.org/toolchain from the Go module proxy (what `go` itself does for
# GOTOOLCHAIN) and unpacked at /usr/local/go.
go_release=go1.23.12
goroot=${SYSCAGE_GOROOT:-/usr/local/go} # another place only to try this step out
go_ok() {
	local v
	v=$("$1" env GOVERSION 2>/dev/null) || return 1
	v=${v#go}
	[ "${v%%.*}" -gt 1 ] || { [ "${v%%.*}" = 1 ] && [ "$(echo "$v" | cut -d. -f2)" -ge 23 ]; }
}
export PATH=$goroot/bin:$PATH
if ! go_ok go; then
	proxy=$(echo "${GOPROXY:-https://proxy.golang.org}" | cut -d, -f1)
	case $proxy in direct | off) proxy=https://proxy.golang.org ;; esac
	url=$proxy/golang.org/toolchain/@v/v0.0.1-$go_release.linux-amd64.zip
	echo "setup: no Go 1.23 or newer; installing $go_release at $goroot from $url"
	for p in curl unzip ca-certificates; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' ||
			{ DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "$p" >/dev/null; }
	done
	tmp=$(mktemp -d)
	trap 'rm -rf "$tmp"' EXIT
	curl -fsSL --retry 3 -o "$tmp/go.zip" "$url"
	unzip -q "$tmp/go.zip" -d "$tmp/x"
	src=$tmp/x/golang.org/toolchain@v0.0.1-$go_release.linux-amd64
	[ -x "$src/bin/go" ] || { echo "setup: $url has no bin/go" >&2; exit 1; }
	chmod +x "$src"/bin/* "$src"/pkg/tool/linux_amd64/* 2>/dev/null || true
	rm -rf "$goroot.old"
	[ -e "$goroot" ] && mv "$goroot" "$goroot.old"
	mv "$src" "$goroot"
	go_ok "$goroot/bin/go" || { echo "setup: the Go installed at $goroot does not run" >&2; exit 1; }
fi
# The unprivileged user of the rootless tests (test/rootless_test.go; they
# create it too when it is missing). useradd gives it subordinate ids in
# /etc/subuid and /etc/subgid where login.defs asks for them (Debian does).
# sctest-nosub has none, for the single-mapping case.
id sctest >/dev/null 2>&1 || useradd --create-home --shell /bin/sh sctest
id sctest-nosub >/dev/null 2>&1 ||
	useradd --create-home --shell /bin/sh -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 sctest-nosub

echo "setup: $(go version), $(dpkg-query -W -f='libseccomp ${Version}' libseccomp-dev)"
