// Package audit defines the structured events the sentry emits for
// mediated and denied system calls, and a JSON-lines writer for them.
// Auditing is off unless asked for; when off no event is built.
package audit

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"sync"
	"time"
)

// Event is one mediated or denied system call.
type Event struct {
	Time      time.Time         `json:"time"`
	Container string            `json:"container"`
	Pid       int               `json:"pid"` // thread group id
	Tid       int               `json:"tid"`
	Syscall   string            `json:"syscall"`
	Nr        int               `json:"nr"`
	Args      map[string]string `json:"args,omitempty"`
	Decision  string            `json:"decision"` // emulate, proxy, deny, continue
	Result    int64             `json:"result"`
	Errno     string            `json:"errno,omitempty"`
	LatencyNs int64             `json:"latency_ns"`
}

// MaxBytes bounds one container's audit file. A workload decides how many
// audited calls it makes (a loop of denied calls writes megabytes a
// second), and the file sits on the node: in the state dir (often a
// tmpfs: the node's memory) or a directory shared by every container.
// Past the bound the writer records one "dropped" event and writes
// nothing more; Dropped counts what it did not write.
const MaxBytes = 64 << 20

// Writer appends events to a file as JSON lines. It is safe for
// concurrent use; each event is flushed so a reader sees whole lines.
type Writer struct {
	mu      sync.Mutex
	f       *os.File
	buf     *bufio.Writer
	enc     *json.Encoder
	written int64 // bytes in the file
	limit   int64
	dropped uint64
}

// Open creates (or appends to) the audit file at path.
func Open(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log %s: %w", path, err)
	}
	return newWriter(f, MaxBytes), nil
}

// FromFile writes the stream to f, a file its opener created (the sentry
// is handed its audit file open: it cannot open one itself).
func FromFile(f *os.File) *Writer { return newWriter(f, MaxBytes) }

func newWriter(f *os.File, limit int64) *Writer {
	w := &Writer{f: f, limit: limit}
	if fi, err := f.Stat(); err == nil {
		w.written = fi.Size()
	}
	w.buf = bufio.NewWriter(countingWriter{w})
	w.enc = json.NewEncoder(w.buf)
	return w
}

// countingWriter counts what reaches the file.
type countingWriter struct{ w *Writer }

func (c countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.f.Write(p)
	c.w.written += int64(n)
	return n, err
}

// Write records one event; past the file's bound it drops it (the first
// drop is recorded as a "dropped" event).
func (w *Writer) Write(e *Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.written >= w.limit {
		if w.dropped == 0 {
			w.dropped++
			if err := w.enc.Encode(&Event{Time: time.Now().UTC(), Container: e.Container, Decision: "dropped",
				Syscall: fmt.Sprintf("audit file reached %d bytes: later events are not written", w.limit)}); err != nil {
				return err
			}
			return w.buf.Flush()
		}
		w.dropped++
		return nil
	}
	if err := w.enc.Encode(e); err != nil {
		return err
	}
	return w.buf.Flush()
}

// Dropped is how many events were not written (the bound was reached).
func (w *Writer) Dropped() uint64 {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.dropped
}

// Close flushes and closes the file.
func (w *Writer) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.buf.Flush(); err != nil {
		w.f.Close()
		return err
	}
	return w.f.Close()
}
