#!/usr/bin/env bash
# cri-profile-demo.sh: a pod annotation chooses the syscage profile through
# containerd's CRI plugin, shown with crictl.
#
# Starts a private containerd (own root, state, socket under a temp dir)
# whose CRI plugin has the runtime handler "syscage" (io.containerd.runc.v2
# with BinaryName = bin/syscage) and pod_annotations =
# ["dev.syscage.profile", "dev.syscage.learned-profile"], the line that
# lets those pod annotations reach the runtime, and an administrator's
# config (SYSCAGE_CONFIG in containerd's environment, which the shim passes
# on) with a profile directory of its own and the names annotations may
# choose. Then, in hostNetwork pods:
#   1. no annotation: the default profile (uname -r is syscage's default,
#      mkdir works);
#   2. dev.syscage.profile=no-mkdir: the profile directory's no-mkdir.json,
#      its kernel release and its mkdir denial (EROFS); `syscage state`
#      names the profile;
#   3. dev.syscage.profile=<a path>: refused (annotations are names);
#   4. dev.syscage.profile=learn + dev.syscage.learned-profile=cri-demo.json:
#      a learned profile per container in /var/lib/syscage/learned;
#   5. the administrator copies the app's learned profile into the profile
#      directory; dev.syscage.profile=cri-demo.app: the same run passes.
# Needs root, containerd (Debian 12: 1.6.20), a static /bin/busybox and
# crictl ($CRICTL, else in PATH, else ~/.cache/harness-clients/crictl-*/).
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "cri-profile-demo: run as root" >&2; exit 1; }
make build >/dev/null
SYSCAGE=$(pwd)/bin/syscage
CRICTL=${CRICTL:-$(command -v crictl || ls ~/.cache/harness-clients/crictl-*/crictl 2>/dev/null | head -n 1)}
[ -x "$CRICTL" ] || { echo "cri-profile-demo: no crictl (set CRICTL)" >&2; exit 1; }
BUSYBOX=${BUSYBOX:-/bin/busybox}

T=$(mktemp -d /tmp/syscage-cri.XXXXXX)
SOCK=$T/c.sock
RTROOT=$T/rtroot
CG=/syscage-cri-demo-$$
cleanup() {
	set +e
	for p in $("${CRI[@]}" pods -q 2>/dev/null); do
		"${CRI[@]}" stopp "$p" >/dev/null 2>&1
		"${CRI[@]}" rmp -f "$p" >/dev/null 2>&1
	done
	[ -n "${CTRD:-}" ] && kill "$CTRD" && wait "$CTRD" 2>/dev/null
	grep " $T/" /proc/self/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	for d in /sys/fs/cgroup/*$CG /sys/fs/cgroup$CG; do [ -d "$d" ] && find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
[ -n "${KEEP_LOG:-}" ] && trap 'cp "$T/containerd.log" /tmp/cri-demo-containerd.log; cleanup' EXIT

# images: busybox (the workload) and pause (busybox sleep), as docker archives
image() { # ROOTFS REF OUT ENTRYPOINT_JSON CMD_JSON
	local w diffid cfg sha
	w=$(mktemp -d "$T/img.XXXX")
	tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$1" -cf "$w/layer.tar" .
	diffid=$(sha256sum "$w/layer.tar" | cut -d' ' -f1)
	mkdir "$w/$diffid" && mv "$w/layer.tar" "$w/$diffid/"
	cfg='{"architecture":"amd64","os":"linux","config":{"Env":["PATH=/bin"],"Entrypoint":'$4',"Cmd":'$5',"WorkingDir":"/"},"rootfs":{"type":"layers","diff_ids":["sha256:'$diffid'"]}}'
	printf '%s' "$cfg" >"$w/config.json"
	sha=$(sha256sum "$w/config.json" | cut -d' ' -f1)
	mv "$w/config.json" "$w/$sha.json"
	printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$sha" "$2" "$diffid" >"$w/manifest.json"
	tar -C "$w" -cf "$3" manifest.json "$sha.json" "$diffid/layer.tar"
}
mkdir -p "$T/bb/bin" "$T/bb"/{etc,tmp,proc,sys,dev} "$T/pause/bin" "$T/pause"/{proc,sys,dev}
cp "$BUSYBOX" "$T/bb/bin/busybox"
for a in $("$BUSYBOX" --list); do [ "$a" = busybox ] || ln -s busybox "$T/bb/bin/$a"; done
chmod 1777 "$T/bb/tmp"
cp "$BUSYBOX" "$T/pause/bin/sleep"
image "$T/bb" docker.io/syscage/busybox:demo "$T/bb.tar" '[]' '["/bin/sh"]'
image "$T/pause" docker.io/syscage/pause:demo "$T/pause.tar" '["/bin/sleep"]' '["infinity"]'

RESTRICT_OOM=false
(( (0x$(awk '/^CapEff:/ {print $2}' /proc/self/status) >> 24) & 1 )) || RESTRICT_OOM=true
cat >"$T/containerd.toml" <<EOF
version = 2
root = "$T/root"
state = "$T/state"
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[plugins]
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "docker.io/syscage/pause:demo"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    netns_mounts_under_state_dir = true
    # without CAP_SYS_RESOURCE the pod's oom_score_adj -998 cannot be set
    restrict_oom_score_adj = $RESTRICT_OOM
    [plugins."io.containerd.grpc.v1.cri".cni]
      conf_dir = "$T/cni"
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "syscage"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.syscage]
        runtime_type = "io.containerd.runc.v2"
        # these pod annotations reach the OCI config of every container
        # of the pod (the sandbox's too); list only what pods need
        pod_annotations = ["dev.syscage.profile", "dev.syscage.learned-profile"]
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.syscage.options]
          BinaryName = "$SYSCAGE"
          Root = "$RTROOT"
EOF
echo "== the runtime handler in containerd's config:"
sed -n '/runtimes.syscage\]/,$p' "$T/containerd.toml"
mkdir -p "$T/cni" "$T/logs" "$T/profiles"
# the administrator's configuration: annotations choose among these names,
# files from $T/profiles only
cat >"$T/config.json" <<EOF
{"profileDir": "$T/profiles", "annotationProfiles": ["default", "learn", "no-mkdir", "cri-demo.app"]}
EOF
echo "== the administrator's syscage config (SYSCAGE_CONFIG):"
cat "$T/config.json"
SYSCAGE_CONFIG=$T/config.json containerd --config "$T/containerd.toml" >"$T/containerd.log" 2>&1 &
CTRD=$!
printf 'runtime-endpoint: unix://%s\nimage-endpoint: unix://%s\ntimeout: 60\n' "$SOCK" "$SOCK" >"$T/crictl.yaml"
CRI=("$CRICTL" --config "$T/crictl.yaml")
for _ in $(seq 1 60); do "${CRI[@]}" version >/dev/null 2>&1 && break; sleep 0.5; done
ctr --address "$SOCK" -n k8s.io images import "$T/bb.tar" >/dev/null
ctr --address "$SOCK" -n k8s.io images import "$T/pause.tar" >/dev/null

cat >"$T/profiles/no-mkdir.json" <<'EOF'
{
  "syscageProfile": 1,
  "name": "no-mkdir",
  "description": "default, reporting kernel 5.10.0-pod and refusing mkdir",
  "base": "default",
  "kernelRelease": "5.10.0-pod",
  "syscalls": [
    {"names": ["mkdir", "mkdirat"], "tier": "deny", "errno": "EROFS", "why": "this pod writes no directories"}
  ]
}
EOF

# pod NAME ANNOTATIONS_JSON COMMAND: runs one container to completion and
# prints its log and the profile `syscage state` reports.
pod() {
	local name=$1 ann=$2 cmd=$3 p c
	cat >"$T/pod-$name.json" <<EOF
{"metadata": {"name": "$name", "namespace": "default", "uid": "$name-$$"},
 "annotations": $ann,
 "log_directory": "$T/logs",
 "linux": {"cgroup_parent": "$CG/$name", "security_context": {"namespace_options": {"network": 2}}}}
EOF
	cat >"$T/ctr-$name.json" <<EOF
{"metadata": {"name": "app"}, "image": {"image": "docker.io/syscage/busybox:demo"},
 "command": ["sh", "-c", "$cmd; sleep 1"], "log_path": "$name.log", "linux": {}}
EOF
	echo
	echo "== pod $name, annotations $ann"
	echo "\$ crictl runp --runtime syscage pod-$name.json"
	if ! p=$("${CRI[@]}" runp --runtime syscage "$T/pod-$name.json" 2>"$T/runp.err"); then
		echo "refused:"
		grep -o 'annotation dev\.syscage[^"]*"[^"]*"[^"]*' "$T/runp.err" | head -n 1 | sed 's/^/  /'
		return 0
	fi
	c=$("${CRI[@]}" create "$p" "$T/ctr-$name.json" "$T/pod-$name.json")
	"${CRI[@]}" start "$c" >/dev/null
	echo "\$ syscage --root $RTROOT/k8s.io state <container> | jq '{profile, profileFile, learnedProfile}'"
	"$SYSCAGE" --root "$RTROOT/k8s.io" state "$c" | jq -c '{profile, profileFile, learnedProfile}'
	for _ in $(seq 1 40); do
		[ "$("${CRI[@]}" inspect -o go-template --template '{{.status.state}}' "$c")" = CONTAINER_EXITED ] && break
		sleep 0.25
	done
	echo "\$ crictl logs <container>"
	"${CRI[@]}" logs "$c" 2>&1 | sed 's/^/  /'
	"${CRI[@]}" stopp "$p" >/dev/null
	"${CRI[@]}" rmp "$p" >/dev/null
}

probe='echo uname -r: $(uname -r); mkdir /tmp/d && echo mkdir: ok'
pod plain '{}' "$probe"
pod filed '{"dev.syscage.profile": "no-mkdir"}' "$probe"
pod pathed '{"dev.syscage.profile": "'"$T/profiles/no-mkdir.json"'"}' "$probe"
rm -f /var/lib/syscage/learned/default/cri-demo.*.json
pod learner '{"dev.syscage.profile": "learn", "dev.syscage.learned-profile": "cri-demo.json"}' "$probe"
echo
echo "== learned profiles written at the pod's removal:"
for f in /var/lib/syscage/learned/default/cri-demo.*.json; do
	echo "  $f: $(jq '.syscalls | length' "$f") entries; $("$SYSCAGE" syscalls --profile "$f" | tail -n 1 | sed 's/.*; //')"
done
# the administrator reviews the app's learned profile and installs it; the
# pod annotation applies to the sandbox (pause) container as well, and the
# app's learned profile covers it (busybox sleep)
echo
echo "\$ cp /var/lib/syscage/learned/default/cri-demo.app.json $T/profiles/"
cp /var/lib/syscage/learned/default/cri-demo.app.json "$T/profiles/"
pod enforced '{"dev.syscage.profile": "cri-demo.app"}' "$probe"
