package container

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckTerminal(t *testing.T) {
	tests := []struct {
		name             string
		terminal, detach bool
		socket           string
		err              string
	}{
		{name: "foreground, no terminal"},
		{name: "foreground terminal", terminal: true},
		{name: "detached, no terminal", detach: true},
		{name: "detached terminal with socket", terminal: true, detach: true, socket: "/run/sock"},
		{name: "detached terminal without socket", terminal: true, detach: true, err: "no --console-socket"},
		{name: "socket without terminal", detach: true, socket: "/run/sock", err: "--console-socket is only used"},
		{name: "socket in the foreground", terminal: true, socket: "/run/sock", err: "--console-socket is only used"},
		{name: "socket, foreground, no terminal", socket: "/run/sock", err: "--console-socket is only used"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := checkTerminal(tc.terminal, tc.detach, tc.socket)
			if tc.err == "" {
				if err != nil {
					t.Fatalf("checkTerminal: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Fatalf("checkTerminal = %v, want error %q", err, tc.err)
			}
		})
	}
	if err := checkTerminal(true, true, ""); !errors.Is(err, errNoConsoleSocket) {
		t.Errorf("missing socket error = %v, want errNoConsoleSocket", err)
	}
}
