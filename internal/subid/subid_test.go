package subid

import (
	"strings"
	"testing"
)

func TestParse(t *testing.T) {
	const file = "# comment\nalice:100000:65536\n1001:200000:1000\nbob:300000:10\n"
	tests := []struct {
		user string
		id   int
		want *Range
		err  bool
	}{
		{"alice", 1000, &Range{100000, 65536}, false},
		{"carol", 1001, &Range{200000, 1000}, false},
		{"dave", 1002, nil, false},
	}
	for _, tc := range tests {
		got, err := parse(strings.NewReader(file), tc.user, tc.id)
		if err != nil || (got == nil) != (tc.want == nil) || (got != nil && *got != *tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.user, got, err, tc.want)
		}
	}
	for _, bad := range []string{"alice:1\n", "alice:x:10\n", "alice:10:0\n"} {
		if _, err := parse(strings.NewReader(bad), "alice", 1); err == nil {
			t.Errorf("%q: no error", bad)
		}
	}
}

func TestCovers(t *testing.T) {
	r := &Range{Start: 100000, Count: 65536}
	tests := []struct {
		start, size uint32
		want        bool
	}{
		{100000, 65536, true}, {100001, 10, true}, {99999, 2, false}, {165535, 2, false},
	}
	for _, tc := range tests {
		if got := Covers(r, tc.start, tc.size); got != tc.want {
			t.Errorf("Covers(%d, %d) = %v", tc.start, tc.size, got)
		}
	}
	if Covers(nil, 1, 1) {
		t.Error("nil covers")
	}
}
