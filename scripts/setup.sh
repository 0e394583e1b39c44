#!/usr/bin/env bash
# Installs what building and testing syscage needs on Debian 12, and checks
# for Go. Safe to run again: it installs only what is missing.
set -euo pipefail

need=(gcc libc6-dev make pkg-config libseccomp-dev busybox-static jq iproute2 procps util-linux)
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

# Go: the machine's toolchain at /usr/local/go (Debian 12's golang-go, 1.19,
# is too old for libcontainer; go.mod asks for 1.23 or newer).
if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		export PATH=/usr/local/go/bin:$PATH
	else
		echo "setup: Go 1.23 or newer is needed: install it at /usr/local/go" >&2
		exit 1
	fi
fi
echo "setup: $(go version), $(dpkg-query -W -f='libseccomp ${Version}' libseccomp-dev)"
