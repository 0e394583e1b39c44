package container

import (
	"reflect"
	"testing"

	"github.com/opencontainers/runtime-spec/specs-go"
)

func TestNormalizeSpec(t *testing.T) {
	for _, tc := range []struct {
		name   string
		in     specs.Mount
		wantOp []string
	}{
		{"bind data dropped", specs.Mount{Destination: "/a", Type: "bind", Options: []string{"rbind", "ro", "mode=755", "size=1k"}}, []string{"rbind", "ro"}},
		{"bind by option", specs.Mount{Destination: "/b", Type: "none", Options: []string{"bind", "uid=1"}}, []string{"bind"}},
		{"idmap kept", specs.Mount{Destination: "/c", Type: "bind", Options: []string{"bind", "idmap"}}, []string{"bind", "idmap"}},
		{"tmpfs untouched", specs.Mount{Destination: "/d", Type: "tmpfs", Options: []string{"mode=755", "size=1k"}}, []string{"mode=755", "size=1k"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &specs.Spec{Mounts: []specs.Mount{tc.in}}
			normalizeSpec(s)
			if !reflect.DeepEqual(s.Mounts[0].Options, tc.wantOp) {
				t.Fatalf("options = %v, want %v", s.Mounts[0].Options, tc.wantOp)
			}
		})
	}
	fifo := &specs.Spec{Linux: &specs.Linux{Devices: []specs.LinuxDevice{
		{Path: "/dev/p", Type: "p", Major: 8, Minor: 666},
		{Path: "/dev/c", Type: "c", Major: 1, Minor: 3},
	}}}
	normalizeSpec(fifo)
	if d := fifo.Linux.Devices[0]; d.Major != 0 || d.Minor != 0 {
		t.Errorf("fifo keeps device numbers %d:%d", d.Major, d.Minor)
	}
	if d := fifo.Linux.Devices[1]; d.Major != 1 || d.Minor != 3 {
		t.Errorf("char device changed to %d:%d", d.Major, d.Minor)
	}
}
