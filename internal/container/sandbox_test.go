package container

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestLearnedPath(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		flag, ann, cri string
		want, err      string
	}{
		{flag: filepath.Join(dir, "a.json"), ann: "x.json", want: filepath.Join(dir, "a.json")},
		{flag: filepath.Join(dir, "missing", "a.json"), err: "does not exist"},
		{want: filepath.Join(state, learnedInState)},
		{ann: "/etc/cron.d/x", err: "must be a file name in " + LearnedDir},
		{ann: "../x.json", err: "must be a file name in " + LearnedDir},
		{ann: "sub/x.json", err: "must be a file name in " + LearnedDir},
		{ann: ".hidden.json", err: "must be a file name in " + LearnedDir},
		{ann: "web.json", want: filepath.Join(LearnedDir, "web.json")},
		{ann: LearnedDir + "/web.json", cri: "app", want: filepath.Join(LearnedDir, "web.app.json")},
		{ann: "web.json", cri: "sandbox", want: filepath.Join(LearnedDir, "web.sandbox.json")},
	} {
		if tc.want != "" && strings.HasPrefix(tc.want, LearnedDir) && os.Geteuid() != 0 {
			continue // would create LearnedDir
		}
		got, err := learnedPath(tc.flag, tc.ann, tc.cri, state)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want error %q", tc.flag, tc.ann, tc.cri, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want %q", tc.flag, tc.ann, tc.cri, got, err, tc.want)
		}
	}
	if got := criContainer(map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.container-name": "x"}); got != "sandbox" {
		t.Errorf("criContainer(sandbox) = %q", got)
	}
}

func TestPrivateCgroupNamespace(t *testing.T) {
	mnt := specs.LinuxNamespace{Type: specs.MountNamespace}
	cg := specs.LinuxNamespace{Type: specs.CgroupNamespace}
	hostCg := specs.LinuxNamespace{Type: specs.CgroupNamespace, Path: "/proc/1/ns/cgroup"}
	joinedMnt := specs.LinuxNamespace{Type: specs.MountNamespace, Path: "/proc/42/ns/mnt"}
	pid := specs.LinuxNamespace{Type: specs.PIDNamespace}
	for _, tc := range []struct {
		name string
		in   []specs.LinuxNamespace
		want []specs.LinuxNamespace
	}{
		{"own mount namespace gets a cgroup namespace", []specs.LinuxNamespace{pid, mnt}, []specs.LinuxNamespace{pid, mnt, cg}},
		{"a listed cgroup namespace stays", []specs.LinuxNamespace{cg, mnt}, []specs.LinuxNamespace{cg, mnt}},
		{"a joined cgroup namespace stays", []specs.LinuxNamespace{mnt, hostCg}, []specs.LinuxNamespace{mnt, hostCg}},
		{"shared mount namespace: inherited", []specs.LinuxNamespace{pid}, []specs.LinuxNamespace{pid}},
		{"joined mount namespace: inherited", []specs.LinuxNamespace{joinedMnt}, []specs.LinuxNamespace{joinedMnt}},
		{"no namespaces at all", nil, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			spec := &specs.Spec{Linux: &specs.Linux{Namespaces: slices.Clone(tc.in)}}
			privateCgroupNamespace(spec)
			if !slices.Equal(spec.Linux.Namespaces, tc.want) {
				t.Errorf("namespaces %v became %v, want %v", tc.in, spec.Linux.Namespaces, tc.want)
			}
		})
	}
}
