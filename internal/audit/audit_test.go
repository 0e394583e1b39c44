package audit

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"
)

// readLines returns the lines of the file at path; every line, the last
// included, must end in a newline.
func readLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	if !bytes.HasSuffix(data, []byte("\n")) {
		t.Fatalf("%s does not end in a newline: %q", path, data[max(0, len(data)-40):])
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// decode parses one line as exactly one JSON object and returns it as an
// Event and as its raw keys.
func decode(t *testing.T, line string) (Event, map[string]json.RawMessage) {
	t.Helper()
	var keys map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&keys); err != nil {
		t.Fatalf("line %q is not a JSON object: %v", line, err)
	}
	if dec.More() {
		t.Fatalf("line %q holds more than one JSON value", line)
	}
	var e Event
	dec = json.NewDecoder(strings.NewReader(line))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil {
		t.Fatalf("line %q is not an Event: %v", line, err)
	}
	return e, keys
}

func TestWriteAndReadBack(t *testing.T) {
	base := time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.UTC)
	events := []Event{
		{
			Time: base, Container: "web-1", Pid: 100, Tid: 101,
			Syscall: "uname", Nr: 63, Decision: "emulate", Result: 0, LatencyNs: 1234,
			Args: map[string]string{"buf": "0x7ffc0000"},
		},
		{
			Time: base.Add(time.Millisecond), Container: "web-1", Pid: 100, Tid: 100,
			Syscall: "mount", Nr: 165, Decision: "deny", Result: -1, Errno: "EPERM", LatencyNs: 99,
		},
		{
			Time: base.Add(time.Second), Container: "db \"quoted\"\n", Pid: 7, Tid: 8,
			Syscall: "connect", Nr: 42, Decision: "proxy", Result: 3, LatencyNs: 1 << 40,
			Args: map[string]string{"fd": "3", "addr": "10.0.0.1:5432", "odd": "<&>\u2028"},
		},
		{
			Time: base.Add(time.Minute), Container: "", Pid: 0, Tid: 0,
			Syscall: "syscall_999", Nr: 999, Decision: "continue", Result: -9223372036854775808,
			Args: map[string]string{},
		},
	}
	// Fields every line carries; args and errno only when set.
	always := []string{"time", "container", "pid", "tid", "syscall", "nr", "decision", "result", "latency_ns"}

	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	for i := range events {
		if err := w.Write(&events[i]); err != nil {
			t.Fatalf("Write(%d): %v", i, err)
		}
		// Each event is flushed: a reader sees it before Close.
		if got := readLines(t, path); len(got) != i+1 {
			t.Fatalf("after %d writes the file has %d lines", i+1, len(got))
		}
	}
	if err := w.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("audit file mode %v, want 0600", perm)
	}

	lines := readLines(t, path)
	if len(lines) != len(events) {
		t.Fatalf("%d lines for %d events:\n%s", len(lines), len(events), strings.Join(lines, "\n"))
	}
	for i, want := range events {
		t.Run(fmt.Sprintf("%d %s", i, want.Decision), func(t *testing.T) {
			got, keys := decode(t, lines[i])
			for _, k := range always {
				if _, ok := keys[k]; !ok {
					t.Errorf("key %q missing from %s", k, lines[i])
				}
			}
			if _, ok := keys["args"]; ok != (len(want.Args) > 0) {
				t.Errorf("key args present %v, want %v: %s", ok, len(want.Args) > 0, lines[i])
			}
			if _, ok := keys["errno"]; ok != (want.Errno != "") {
				t.Errorf("key errno present %v, want %v: %s", ok, want.Errno != "", lines[i])
			}
			if !got.Time.Equal(want.Time) {
				t.Errorf("time %v, want %v", got.Time, want.Time)
			}
			if len(want.Args) == 0 {
				want.Args = nil // an empty map is left out, and so read back as nil
			}
			got.Time, want.Time = time.Time{}, time.Time{}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("read back\n%+v\nwant\n%+v", got, want)
			}
		})
	}
}

func TestOpenAppends(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	for i, name := range []string{"first", "second", "third"} {
		w, err := Open(path)
		if err != nil {
			t.Fatalf("Open #%d: %v", i+1, err)
		}
		if err := w.Write(&Event{Container: name, Pid: i}); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	lines := readLines(t, path)
	var got []string
	for _, l := range lines {
		e, _ := decode(t, l)
		got = append(got, e.Container)
	}
	if want := []string{"first", "second", "third"}; !reflect.DeepEqual(got, want) {
		t.Errorf("containers %q in the file, want %q", got, want)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		path  string
		errIs error // nil: any error
	}{
		{name: "missing directory", path: filepath.Join(dir, "missing", "audit.jsonl"), errIs: fs.ErrNotExist},
		{name: "path is a directory", path: dir},
		{name: "parent is a file", path: filepath.Join(file, "audit.jsonl")},
		{name: "empty path", path: "", errIs: fs.ErrNotExist},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w, err := Open(tc.path)
			if err == nil {
				w.Close()
				t.Fatalf("Open(%q) succeeded", tc.path)
			}
			if w != nil {
				t.Errorf("Open(%q) returned a writer with its error", tc.path)
			}
			if want := "opening audit log " + tc.path; !strings.Contains(err.Error(), want) {
				t.Errorf("error %q does not contain %q", err, want)
			}
			if tc.errIs != nil && !errors.Is(err, tc.errIs) {
				t.Errorf("error %v is not %v", err, tc.errIs)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open created the missing directory (stat: %v)", err)
	}
}

// TestWriteAfterClose: an event written to a closed writer is reported as
// not written.
func TestWriteAfterClose(t *testing.T) {
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := w.Write(&Event{Container: "late"}); err == nil {
		t.Error("Write after Close succeeded")
	}
	if lines := readLines(t, path); len(lines) != 0 {
		t.Errorf("file has %d lines after a write to a closed writer", len(lines))
	}
}

// TestConcurrentWrites: Writer is documented safe for concurrent use.
// Events of many sizes, most smaller than the writer's buffer (so they are
// copied into it and flushed) and some larger (written straight through):
// without the lock, lines are lost, repeated or interleaved.
func TestConcurrentWrites(t *testing.T) {
	const (
		writers = 8
		each    = 200
	)
	padding := func(g, i int) string {
		return fmt.Sprintf("%d-%d-%s-%d-%d", g, i, strings.Repeat("x", (g*each+i)*37%6000), g, i)
	}
	path := filepath.Join(t.TempDir(), "audit.jsonl")
	w, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for g := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &Event{
					Container: fmt.Sprintf("g%d", g), Pid: g, Tid: i,
					Syscall: "write", Decision: "proxy",
					Args: map[string]string{"pad": padding(g, i)},
				}
				if err := w.Write(e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	if n := len(errs); n > 0 {
		t.Errorf("%d of %d Writes failed, the first: %v", n, writers*each, <-errs)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}

	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 64<<10)
	seen := map[[2]int]int{}
	n := 0
	for sc.Scan() {
		n++
		e, _ := decode(t, sc.Text())
		if e.Container != fmt.Sprintf("g%d", e.Pid) || e.Args["pad"] != padding(e.Pid, e.Tid) {
			t.Fatalf("line %d is not one writer's event: container %q pid %d tid %d", n, e.Container, e.Pid, e.Tid)
		}
		seen[[2]int{e.Pid, e.Tid}]++
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if n != writers*each {
		t.Errorf("%d lines, want %d", n, writers*each)
	}
	var bad []string
	for g := range writers {
		for i := range each {
			if c := seen[[2]int{g, i}]; c != 1 {
				bad = append(bad, fmt.Sprintf("g%d/%d x%d", g, i, c))
			}
		}
	}
	sort.Strings(bad)
	if len(bad) > 0 {
		t.Errorf("events not seen exactly once: %v", bad)
	}
}

// TestWriterBounded: a flood of events stops at the bound, with one
// "dropped" event, and every line in the file is whole.
func TestWriterBounded(t *testing.T) {
	for _, tc := range []struct {
		name   string
		limit  int64
		events int
		drop   bool
	}{
		{"under the bound", 1 << 20, 100, false},
		{"past the bound", 4096, 1000, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "audit.jsonl")
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			w := newWriter(f, tc.limit)
			for i := 0; i < tc.events; i++ {
				if err := w.Write(&Event{Container: "c", Syscall: "keyctl", Decision: "deny", Errno: "EPERM", Pid: i}); err != nil {
					t.Fatal(err)
				}
			}
			dropped := w.Dropped()
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			data, _ := os.ReadFile(path)
			lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
			for i, l := range lines {
				var e Event
				if err := json.Unmarshal([]byte(l), &e); err != nil {
					t.Fatalf("line %d not a whole event: %q", i, l)
				}
			}
			last := lines[len(lines)-1]
			if tc.drop {
				if dropped == 0 || !strings.Contains(last, `"decision":"dropped"`) {
					t.Errorf("past the bound: dropped %d, last line %q", dropped, last)
				}
				if int64(len(data)) > tc.limit+1024 {
					t.Errorf("file is %d bytes, bound %d", len(data), tc.limit)
				}
				if got := uint64(tc.events - (len(lines) - 1)); got != dropped {
					t.Errorf("Dropped() = %d, %d events missing from the file", dropped, got)
				}
			} else if dropped != 0 || len(lines) != tc.events {
				t.Errorf("under the bound: %d lines, %d dropped", len(lines), dropped)
			}
		})
	}
}
