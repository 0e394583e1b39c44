package sentry

import (
	"errors"
	"net"
	"os"
	"os/signal"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/policy"
)

// ServeLearning serves a learn-mode container: it records every call and
// writes the learned profile when the container's last process is gone, or
// when the runtime stops the sentry (SIGTERM, at delete); on a signal it
// writes the profile and exits the process (status 1 if it could not).
// out is where the profile goes (the runtime resolved it at create).
func ServeLearning(l *net.UnixListener, cfg Config, out string) error {
	if out == "" {
		return errors.New("sentry: learn mode needs --learned-profile")
	}
	base, _ := policy.Builtin(policy.DefaultName)
	rec := policy.NewRecorder(base, cfg.ContainerID)
	cfg.Observer = rec
	cfg.ExtraAllowed = LearnAllowed()
	name := "learned-" + cfg.ContainerID
	var once sync.Mutex
	write := func() error {
		once.Lock()
		defer once.Unlock()
		if err := rec.WriteFile(out, name); err != nil {
			logrus.Errorf("sentry: %v", err)
			return err
		}
		logrus.Infof("sentry: learned profile (%d distinct calls) written to %s", rec.Len(), out)
		return nil
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	go func() {
		<-sig
		code := 0
		if write() != nil {
			code = 1
		}
		os.Exit(code)
	}()
	err := Serve(l, cfg)
	if werr := write(); err == nil {
		err = werr
	}
	return err
}
