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

// Writer appends events to a file as JSON lines. It is safe for
// concurrent use; each event is flushed so a reader sees whole lines.
type Writer struct {
	mu  sync.Mutex
	f   *os.File
	buf *bufio.Writer
	enc *json.Encoder
}

// Open creates (or appends to) the audit file at path.
func Open(path string) (*Writer, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening audit log %s: %w", path, err)
	}
	buf := bufio.NewWriter(f)
	return &Writer{f: f, buf: buf, enc: json.NewEncoder(buf)}, nil
}

// Write records one event.
func (w *Writer) Write(e *Event) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if err := w.enc.Encode(e); err != nil {
		return err
	}
	return w.buf.Flush()
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
