package container

import (
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestParseSignal(t *testing.T) {
	tests := []struct {
		in   string
		want unix.Signal
		err  string
	}{
		{in: "9", want: unix.SIGKILL},
		{in: "15", want: unix.SIGTERM},
		{in: "64", want: unix.Signal(64)},
		{in: "KILL", want: unix.SIGKILL},
		{in: "SIGKILL", want: unix.SIGKILL},
		{in: "term", want: unix.SIGTERM},
		{in: "sigterm", want: unix.SIGTERM},
		{in: "SigHup", want: unix.SIGHUP},
		{in: "usr1", want: unix.SIGUSR1},
		{in: "WINCH", want: unix.SIGWINCH},
		{in: "0", err: "invalid signal number 0"},
		{in: "-1", err: "invalid signal number -1"},
		{in: "65", err: "invalid signal number 65"},
		{in: "", err: "unknown signal"},
		{in: "SIG", err: "unknown signal"},
		{in: "NOPE", err: `unknown signal "NOPE"`},
		{in: "SIGSIGKILL", err: "unknown signal"},
		{in: "9x", err: "unknown signal"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := ParseSignal(tc.in)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseSignal(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.err)
				}
				return
			}
			if err != nil || got != tc.want {
				t.Fatalf("ParseSignal(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
			}
		})
	}
}
