package container

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"

	"github.com/containerd/console"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/utils"
	"golang.org/x/sys/unix"
)

// stdio attaches a process to the caller's terminal or file descriptors and
// releases what it set up once the process has started or ended.
type stdio struct {
	// closeAfterStart are our copies of sockets the process inherited.
	closeAfterStart []io.Closer
	// master receives the pseudo-terminal master of a foreground process.
	masterC chan error
	master  console.Console
	host    console.Console
	copies  sync.WaitGroup
	// pipeReaders are our ends of a foreground process's stdout and
	// stderr pipes, closed once their copies are done; stop ends the
	// copies once the process has exited (close).
	pipeReaders []*os.File
	stop        chan struct{}
}

// setupStdio wires the process's standard streams:
//   - terminal, detached: the pty master goes to the caller's console socket;
//   - terminal, foreground: we receive the master and copy between it and
//     our own stdin/stdout, with our terminal (if any) in raw mode;
//   - no terminal, detached: the process inherits our stdin, stdout and
//     stderr, which is how containerd's shim hands it pipes or fifos;
//   - no terminal, foreground: the process gets pipes and we copy between
//     them and our own stdio (as runc does), so it never holds the
//     caller's files: a file our stdout is redirected to could otherwise
//     be fstat'ed, seeked and truncated from inside, and its host path
//     read from /proc/self/fd. The pipes belong to the container's root
//     (rootUID, rootGID), so the process can reopen /proc/self/fd/N.
func setupStdio(p *libcontainer.Process, terminal, detach bool, consoleSocket string, rootUID, rootGID int) (*stdio, error) {
	s := &stdio{}
	if !terminal {
		if detach {
			p.Stdin, p.Stdout, p.Stderr = os.Stdin, os.Stdout, os.Stderr
			return s, nil
		}
		if err := s.pipes(p, rootUID, rootGID); err != nil {
			s.close()
			return nil, err
		}
		return s, nil
	}
	if detach {
		conn, err := net.Dial("unix", consoleSocket)
		if err != nil {
			return nil, fmt.Errorf("connecting to console socket %s: %w", consoleSocket, err)
		}
		uc, ok := conn.(*net.UnixConn)
		if !ok {
			conn.Close()
			return nil, fmt.Errorf("console socket %s is not a unix socket", consoleSocket)
		}
		f, err := uc.File()
		uc.Close()
		if err != nil {
			return nil, fmt.Errorf("console socket %s: %w", consoleSocket, err)
		}
		p.ConsoleSocket = f
		s.closeAfterStart = append(s.closeAfterStart, f)
		return s, nil
	}
	if c, err := console.ConsoleFromFile(os.Stdin); err == nil {
		s.host = c
	}
	parent, child, err := utils.NewSockPair("console")
	if err != nil {
		return nil, fmt.Errorf("creating console socket pair: %w", err)
	}
	p.ConsoleSocket = child
	s.closeAfterStart = append(s.closeAfterStart, child)
	s.masterC = make(chan error, 1)
	go func() {
		defer parent.Close()
		f, err := utils.RecvFile(parent)
		if err != nil {
			s.masterC <- fmt.Errorf("receiving the terminal from the container: %w", err)
			return
		}
		s.masterC <- s.attach(f)
	}()
	return s, nil
}

// pipes gives the process three pipes and copies between them and our
// stdio: stdin until our stdin ends (then the process sees EOF), stdout
// and stderr until every writer in the container has closed them (close
// waits for that, so no output is lost).
func (s *stdio) pipes(p *libcontainer.Process, uid, gid int) error {
	var ends [3][2]*os.File // [stream][read, write]
	for i := range ends {
		r, w, err := os.Pipe()
		if err != nil {
			for _, e := range ends[:i] {
				e[0].Close()
				e[1].Close()
			}
			return fmt.Errorf("creating the process's stdio pipes: %w", err)
		}
		ends[i] = [2]*os.File{r, w}
	}
	// The process's ends: stdin's read end, stdout's and stderr's write ends.
	child := []*os.File{ends[0][0], ends[1][1], ends[2][1]}
	for _, f := range child {
		if err := unix.Fchown(int(f.Fd()), uid, gid); err != nil {
			for _, e := range ends {
				e[0].Close()
				e[1].Close()
			}
			return fmt.Errorf("giving the process's stdio pipes to uid %d: %w", uid, err)
		}
	}
	p.Stdin, p.Stdout, p.Stderr = child[0], child[1], child[2]
	for _, f := range child {
		s.closeAfterStart = append(s.closeAfterStart, f)
	}
	stdinW := ends[0][1]
	go func() {
		_, _ = io.Copy(stdinW, os.Stdin)
		stdinW.Close()
	}()
	s.stop = make(chan struct{})
	for i, dst := range []*os.File{os.Stdout, os.Stderr} {
		r := ends[i+1][0]
		s.copies.Add(1)
		s.pipeReaders = append(s.pipeReaders, r)
		go func() {
			defer s.copies.Done()
			relayPipe(dst, r, s.stop)
		}()
	}
	return nil
}

// relayPipe copies r to dst until r ends (every writer closed it) or stop
// is closed; then it copies what the pipe already holds and returns. The
// process has exited by the time stop is closed, so all it wrote is in
// the pipe; a background process of the container that still holds the
// pipe cannot keep the command waiting (it gets EPIPE once we close it).
func relayPipe(dst io.Writer, r *os.File, stop <-chan struct{}) {
	interrupted := make(chan struct{})
	go func() {
		select {
		case <-stop:
			_ = r.SetReadDeadline(time.Now())
		case <-interrupted:
		}
	}()
	defer close(interrupted)
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if errors.Is(err, os.ErrDeadlineExceeded) {
			break
		}
		if err != nil {
			return // EOF: every writer is gone
		}
	}
	// Stopped: drain what is buffered, without waiting for more, and no
	// more than the pipe holds (a writer still running cannot keep us).
	_ = r.SetReadDeadline(time.Time{})
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	left := 1 << 20
	_ = rc.Control(func(fd uintptr) {
		if size, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && size > 0 {
			left = size
		}
	})
	for left > 0 {
		n := 0
		_ = rc.Read(func(fd uintptr) bool {
			n, _ = unix.Read(int(fd), buf[:min(len(buf), left)])
			return true // never wait
		})
		if n <= 0 {
			return
		}
		left -= n
		if _, err := dst.Write(buf[:n]); err != nil {
			return
		}
	}
}

// attach starts copying between our stdio and the container's terminal.
func (s *stdio) attach(f *os.File) error {
	master, err := console.ConsoleFromFile(f)
	if err != nil {
		f.Close()
		return fmt.Errorf("container terminal: %w", err)
	}
	if err := console.ClearONLCR(master.Fd()); err != nil {
		return fmt.Errorf("container terminal: %w", err)
	}
	s.master = master
	if s.host != nil {
		if err := s.host.SetRaw(); err != nil {
			return fmt.Errorf("setting our terminal to raw mode: %w", err)
		}
		s.resize()
	}
	go func() { _, _ = io.Copy(master, os.Stdin) }()
	s.copies.Add(1)
	go func() {
		defer s.copies.Done()
		_, _ = io.Copy(os.Stdout, master)
	}()
	return nil
}

// started is called once the process runs: it drops our copies of the
// inherited sockets and, in the foreground, waits for the terminal.
func (s *stdio) started() error {
	for _, c := range s.closeAfterStart {
		c.Close()
	}
	s.closeAfterStart = nil
	if s.masterC != nil {
		return <-s.masterC
	}
	return nil
}

// resize gives the container's terminal our terminal's size.
func (s *stdio) resize() {
	if s.host == nil || s.master == nil {
		return
	}
	if ws, err := s.host.Size(); err == nil {
		_ = s.master.Resize(ws)
	}
}

// close, once the process has ended, waits for the output copies to drain
// and restores our terminal.
func (s *stdio) close() {
	for _, c := range s.closeAfterStart {
		c.Close()
	}
	if s.master != nil {
		s.copies.Wait()
		s.master.Close()
	}
	if len(s.pipeReaders) > 0 {
		close(s.stop)
		s.copies.Wait()
		for _, r := range s.pipeReaders {
			r.Close()
		}
	}
	if s.host != nil {
		_ = s.host.Reset()
	}
}

// errNoConsoleSocket is returned when a detached process wants a terminal
// but nobody is there to receive it.
var errNoConsoleSocket = errors.New("a terminal was requested (process.terminal) for a detached process, but no --console-socket was given")
