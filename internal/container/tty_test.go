package container

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRelayPipe: a foreground process's output is copied whole, whether
// the pipe ends (every writer closed) or the process exited while
// something else still holds the pipe (stop): then what is buffered is
// copied and the relay returns instead of waiting for an EOF that may
// never come.
func TestRelayPipe(t *testing.T) {
	tests := []struct {
		name     string
		data     string
		holdOpen bool // a second writer (a background process) keeps the pipe open
		flood    bool // and keeps writing after the process exited
	}{
		{name: "writer closes", data: "out\n"},
		{name: "writer closes, large", data: strings.Repeat("x", 1<<20)},
		{name: "held open, stopped", data: "last words\n", holdOpen: true},
		{name: "held open, nothing written", data: "", holdOpen: true},
		{name: "held open, flooding", data: "last words\n", holdOpen: true, flood: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, w, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			var dst bytes.Buffer
			stop := make(chan struct{})
			done := make(chan struct{})
			go func() { relayPipe(&dst, r, stop); close(done) }()
			if _, err := w.WriteString(tt.data); err != nil {
				t.Fatal(err)
			}
			if tt.holdOpen {
				// The writer "exits" but a copy of its end stays open.
				held, err := os.OpenFile("/proc/self/fd/"+strconv.Itoa(int(w.Fd())), os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				defer held.Close()
				w.Close()
				if tt.flood {
					quit := make(chan struct{})
					defer close(quit)
					go func() {
						chunk := []byte(strings.Repeat("y", 4096))
						for {
							select {
							case <-quit:
								return
							default:
							}
							if _, err := held.Write(chunk); err != nil {
								return
							}
						}
					}()
				}
				close(stop)
			} else {
				w.Close()
			}
			<-done
			if tt.flood {
				if !strings.HasPrefix(dst.String(), tt.data) {
					t.Errorf("relayed %q..., want it to start with %q", dst.String()[:min(dst.Len(), 20)], tt.data)
				}
				return
			}
			if dst.String() != tt.data {
				t.Errorf("relayed %d bytes, want %d", dst.Len(), len(tt.data))
			}
		})
	}
}
