package doinit

import "testing"

// TestRun: the exit status is the command's, 128+n for a signal, 127 for
// a program that does not exist.
func TestRun(t *testing.T) {
	tests := []struct {
		args []string
		want int
	}{
		{[]string{"true"}, 0},
		{[]string{"sh", "-c", "exit 3"}, 3},
		{[]string{"sh", "-c", "kill -TERM $$"}, 128 + 15},
		{[]string{"/nonexistent/program"}, 127},
		{nil, 127},
	}
	for _, tc := range tests {
		if got := Run(tc.args); got != tc.want {
			t.Errorf("Run(%q) = %d, want %d", tc.args, got, tc.want)
		}
	}
}
