package container

import (
	"maps"
	"strings"
	"testing"
)

func TestParseUser(t *testing.T) {
	tests := []struct {
		in       string
		uid      uint32
		gid      int
		errMatch string
	}{
		{in: "0", uid: 0, gid: -1},
		{in: "1000", uid: 1000, gid: -1},
		{in: "1000:100", uid: 1000, gid: 100},
		{in: "0:0", uid: 0, gid: 0},
		{in: "4294967295:4294967295", uid: 4294967295, gid: 4294967295},
		{in: "", errMatch: "uid must be a number"},
		{in: "root", errMatch: "uid must be a number"},
		{in: "-1", errMatch: "uid must be a number"},
		{in: "4294967296", errMatch: "uid must be a number"},
		{in: "1000:", errMatch: "gid must be a number"},
		{in: "1000:wheel", errMatch: "gid must be a number"},
		{in: "1:2:3", errMatch: "gid must be a number"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			uid, gid, err := parseUser(tc.in)
			if tc.errMatch != "" {
				if err == nil || !strings.Contains(err.Error(), tc.errMatch) {
					t.Fatalf("parseUser(%q) = %d, %d, %v; want error %q", tc.in, uid, gid, err, tc.errMatch)
				}
				if !strings.Contains(err.Error(), "--user") {
					t.Errorf("error %q does not name --user", err)
				}
				return
			}
			if err != nil || uid != tc.uid || gid != tc.gid {
				t.Fatalf("parseUser(%q) = %d, %d, %v; want %d, %d", tc.in, uid, gid, err, tc.uid, tc.gid)
			}
		})
	}
}

func TestParseSubCgroups(t *testing.T) {
	tests := []struct {
		in   string
		want map[string]string
		err  string
	}{
		{in: "", want: nil},
		{in: "/sub", want: map[string]string{"": "/sub"}},
		{in: "cpu:/a", want: map[string]string{"cpu": "/a"}},
		{in: "cpu,memory:/a", want: map[string]string{"cpu": "/a", "memory": "/a"}},
		{in: "cpu:/a;pids:/b", want: map[string]string{"cpu": "/a", "pids": "/b"}},
		{in: "cpu:/a;/b", err: "cannot be mixed"},
		{in: "/b;cpu:/a", err: "cannot be mixed"},
		{in: "/a;/b", err: "cannot be mixed"},
		{in: ":/a", err: "empty controller"},
		{in: "cpu,:/a", err: "empty controller"},
		{in: "cpu:/a;cpu:/b", err: "more than once"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseSubCgroups(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("parseSubCgroups(%q) = %v, %v; want error %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || !maps.Equal(got, tc.want) {
				t.Fatalf("parseSubCgroups(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
