// Package doinit is the pid 1 of a `syscage do` sandbox. A command that
// is pid 1 of its pid namespace ignores every signal it has no handler
// for (the kernel protects a namespace's init), so Ctrl-C or a forwarded
// SIGTERM would not stop `sleep`; and orphans would pile up unreaped.
// Run starts the command as its child instead, gives it the terminal's
// foreground, forwards signals to it, reaps every child, and exits as the
// command did (128+n when signal n ended it, as a shell reports).
package doinit

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"syscall"

	"golang.org/x/sys/unix"
)

// Run runs args and returns the exit status for pid 1 to exit with.
func Run(args []string) int {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, "syscage do-init: no command")
		return 127
	}
	sigs := make(chan os.Signal, 64)
	signal.Notify(sigs)
	defer signal.Stop(sigs)
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	if _, err := unix.IoctlGetTermios(0, unix.TCGETS); err == nil {
		// The command's own process group, in the terminal's foreground:
		// the keys that signal (Ctrl-C, Ctrl-\, Ctrl-Z) reach it, not us.
		cmd.SysProcAttr = &syscall.SysProcAttr{Foreground: true, Ctty: 0}
	}
	if err := cmd.Start(); err != nil {
		fmt.Fprintf(os.Stderr, "syscage do: %s: %v\n", args[0], errors.Unwrap(err))
		if errors.Is(err, exec.ErrNotFound) || errors.Is(err, os.ErrNotExist) {
			return 127
		}
		return 126
	}
	child := cmd.Process.Pid
	for sig := range sigs {
		switch sig {
		case unix.SIGCHLD:
			for {
				var ws unix.WaitStatus
				pid, err := unix.Wait4(-1, &ws, unix.WNOHANG, nil)
				if err != nil || pid <= 0 {
					break
				}
				if pid == child {
					if ws.Signaled() {
						return 128 + int(ws.Signal())
					}
					return ws.ExitStatus()
				}
			}
		case unix.SIGURG: // the Go runtime's preemption signal
		default:
			_ = unix.Kill(child, sig.(unix.Signal))
		}
	}
	return 1
}
