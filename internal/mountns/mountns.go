// Package mountns runs a function in another process's mount namespace,
// on an OS thread of its own that is retired afterwards, so no other
// goroutine ever runs there.
package mountns

import (
	"fmt"
	"runtime"
	"strconv"

	"golang.org/x/sys/unix"
)

// Do runs fn in the mount namespace of pid and returns its error, or why
// the namespace could not be entered. The thread unshares its file-system
// attributes (setns to a mount namespace needs them its own), joins the
// namespace, runs fn and is never handed back to the Go scheduler:
// returning without UnlockOSThread makes the runtime end it.
func Do(pid int, fn func() error) error {
	nsfd, err := unix.Open("/proc/"+strconv.Itoa(pid)+"/ns/mnt", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return fmt.Errorf("opening the container's mount namespace: %w", err)
	}
	defer unix.Close(nsfd)
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		if err := unix.Unshare(unix.CLONE_FS); err != nil {
			errc <- fmt.Errorf("unshare(CLONE_FS): %w", err)
			return
		}
		if err := unix.Setns(nsfd, unix.CLONE_NEWNS); err != nil {
			errc <- fmt.Errorf("entering the container's mount namespace: %w", err)
			return
		}
		errc <- fn()
	}()
	return <-errc
}
