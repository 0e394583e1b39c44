package container

import (
	"strings"
	"testing"

	"github.com/opencontainers/runc/libcontainer/configs"
	"github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"
)

func TestConvertRlimit(t *testing.T) {
	tests := []struct {
		name string
		in   specs.POSIXRlimit
		want configs.Rlimit
		err  string
	}{
		{name: "nofile", in: specs.POSIXRlimit{Type: "RLIMIT_NOFILE", Soft: 1024, Hard: 4096},
			want: configs.Rlimit{Type: unix.RLIMIT_NOFILE, Soft: 1024, Hard: 4096}},
		{name: "equal limits", in: specs.POSIXRlimit{Type: "RLIMIT_CORE", Soft: 0, Hard: 0},
			want: configs.Rlimit{Type: unix.RLIMIT_CORE}},
		{name: "unlimited", in: specs.POSIXRlimit{Type: "RLIMIT_STACK", Soft: ^uint64(0), Hard: ^uint64(0)},
			want: configs.Rlimit{Type: unix.RLIMIT_STACK, Soft: ^uint64(0), Hard: ^uint64(0)}},
		{name: "rttime", in: specs.POSIXRlimit{Type: "RLIMIT_RTTIME", Soft: 1, Hard: 2},
			want: configs.Rlimit{Type: unix.RLIMIT_RTTIME, Soft: 1, Hard: 2}},
		{name: "unknown type", in: specs.POSIXRlimit{Type: "RLIMIT_BOGUS"}, err: `unknown rlimit type "RLIMIT_BOGUS"`},
		{name: "lower case", in: specs.POSIXRlimit{Type: "rlimit_nofile"}, err: "unknown rlimit type"},
		{name: "without prefix", in: specs.POSIXRlimit{Type: "NOFILE"}, err: "unknown rlimit type"},
		{name: "soft above hard", in: specs.POSIXRlimit{Type: "RLIMIT_NPROC", Soft: 10, Hard: 5},
			err: "soft limit 10 is above hard limit 5"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := convertRlimit(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("convertRlimit(%+v) = %+v, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("convertRlimit(%+v) = %+v, %v; want %+v", tc.in, got, err, tc.want)
			}
		})
	}
}

// Every OCI rlimit name maps to a distinct kernel resource.
func TestRlimitTypesDistinct(t *testing.T) {
	seen := map[int]string{}
	for name, n := range rlimitTypes {
		if other, ok := seen[n]; ok {
			t.Errorf("%s and %s both map to %d", name, other, n)
		}
		seen[n] = name
	}
}
