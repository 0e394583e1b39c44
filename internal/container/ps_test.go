package container

import (
	"strings"
	"testing"
)

const psEF = `UID          PID    PPID  C STIME TTY          TIME CMD
root           1       0  0 10:00 ?        00:00:01 /sbin/init
root         100       1  0 10:01 ?        00:00:00 sleep 1000
root         101     100  0 10:01 ?        00:00:00 sh -c echo 100
root        1000       1  0 10:02 pts/0    00:00:00 bash
`

func TestFilterPS(t *testing.T) {
	tests := []struct {
		name, out string
		pids      []int
		want      []string // lines expected after the header
		err       string
	}{
		{name: "some", out: psEF, pids: []int{100, 101}, want: []string{"sleep 1000", "sh -c echo 100"}},
		{name: "pid only in command", out: psEF, pids: []int{10}, want: nil},
		{name: "none", out: psEF, pids: nil, want: nil},
		{name: "pid first column", out: "  PID COMMAND\n  100 sleep\n  200 other\n", pids: []int{100}, want: []string{"sleep"}},
		{name: "no PID column", out: "COMMAND\nsleep\n", pids: []int{1}, err: "no PID column"},
		{name: "garbage pid", out: "PID CMD\nabc sleep\n", pids: []int{1}, err: `PID column holds "abc"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := FilterPS(tc.out, tc.pids)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("FilterPS = %q, %v; want error %q", got, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			lines := strings.Split(strings.TrimSuffix(got, "\n"), "\n")
			header := strings.SplitN(tc.out, "\n", 2)[0]
			if lines[0] != header {
				t.Errorf("header = %q, want %q", lines[0], header)
			}
			if len(lines)-1 != len(tc.want) {
				t.Fatalf("got %d lines %q, want %d", len(lines)-1, lines[1:], len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasSuffix(lines[i+1], w) {
					t.Errorf("line %d = %q, want it to end in %q", i+1, lines[i+1], w)
				}
			}
		})
	}
}
