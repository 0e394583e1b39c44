package cli

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"

	"github.com/sirupsen/logrus"
	"github.com/urfave/cli"

	"github.com/syscage/syscage/internal/container"
	"github.com/syscage/syscage/internal/resview"
	"github.com/syscage/syscage/internal/viewfs"
)

// maxViewsThreads bounds the views server's OS threads.
const maxViewsThreads = 256

func init() {
	commands = append(commands, cli.Command{
		Name:   "views",
		Usage:  "(internal) serve a container's resource views over its /proc files; started by create",
		Hidden: true,
		Flags: []cli.Flag{
			cli.StringFlag{Name: "state-dir"},
			cli.Uint64Flag{Name: "uid", Value: 65534, Usage: "the uid and gid to serve as once set up"},
		},
		Action: runViews,
	})
}

// runViews waits for the container's init pid on the pid fd (create
// starts it before the container exists; the pipe's end without a pid
// means create failed), sets up the container's views, tells create on
// the ready fd ("ok" or "error REASON"), then serves until the container
// is gone.
func runViews(ctx *cli.Context) error {
	logrus.SetFormatter(&logrus.JSONFormatter{})
	ready := os.NewFile(container.ViewsReadyFd, "ready")
	stateDir := ctx.String("state-dir")
	fail := func(err error) error {
		fmt.Fprintf(ready, "error %v\n", err)
		ready.Close()
		return err
	}
	// On cgroup v2 the server shares its container's cgroup, so `kill
	// --all` reaches it too: the workload's signals are not its own. It
	// ends with the container's mount namespace, or by SIGKILL (delete,
	// or the cgroup's kill).
	signal.Ignore(syscall.SIGTERM, syscall.SIGINT, syscall.SIGHUP, syscall.SIGQUIT, syscall.SIGUSR1, syscall.SIGUSR2)
	if stateDir == "" {
		return fail(errors.New("views: --state-dir is required (the views server is started by create)"))
	}
	pidPipe := os.NewFile(container.ViewsPidFd, "pid")
	line, err := bufio.NewReader(io.LimitReader(pidPipe, 64)).ReadString('\n')
	pidPipe.Close()
	if err != nil {
		// create ended (or failed) before the container's init ran.
		return nil
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line))
	if err != nil || pid <= 0 {
		return fail(fmt.Errorf("views: bad init pid %q", line))
	}
	// Two threads run Go code at most (with one, a request waits for the
	// runtime to take the processor back from the thread blocked reading
	// /dev/fuse: +40 µs a read); and the server runs in the container's
	// own cgroups, so what its readers make it spend is theirs.
	runtime.GOMAXPROCS(2)
	// GOMAXPROCS bounds the threads running Go code, not those blocked
	// in system calls, which a flood of readers can multiply (a review
	// saw 280). Past this bound the server ends, and its container's
	// views fail (ENOTCONN), never the host's: the container spends its
	// own views, not the node's threads.
	debug.SetMaxThreads(maxViewsThreads)
	dirs, err := resview.DirsOf(pid)
	if err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	if err := viewfs.JoinCgroups(dirs); err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	view, err := resview.NewView(pid)
	if err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	srv, err := viewfs.Start(view, dirs)
	if err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	if err := srv.Attach(pid, filepath.Join(stateDir, "views")); err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	if err := viewfs.DropPrivileges(uint32(ctx.Uint64("uid"))); err != nil {
		return fail(fmt.Errorf("views: %w", err))
	}
	fmt.Fprintln(ready, "ok")
	ready.Close()
	srv.Wait()
	return nil
}
