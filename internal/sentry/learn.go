package sentry

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"sync"

	"github.com/sirupsen/logrus"
	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/policy"
)

// ServeLearning serves a learn-mode container: it records every call and
// hands the learned profile to its watchdog (a "learned <base64>" status
// line; the watchdog writes it where create chose) when the container's
// last process is gone, or when the runtime stops the sentry (SIGTERM,
// at delete); on a signal it sends the profile and exits the process
// (status 1 if it could not). The sentry itself, confined, writes no
// file: its filter gains nothing in learn mode.
func ServeLearning(l *net.UnixListener, cfg Config) error {
	if cfg.Status == nil {
		return errors.New("sentry: learn mode needs its watchdog's status pipe (the sentry is started by create)")
	}
	status := &lockedWriter{w: cfg.Status}
	cfg.Status = status
	base, _ := policy.Builtin(policy.DefaultName)
	rec := policy.NewRecorder(base.ForCaps(cfg.Caps), cfg.ContainerID)
	cfg.Observer = rec
	name := "learned-" + cfg.ContainerID
	var once sync.Mutex
	sent := false
	send := func() error {
		once.Lock()
		defer once.Unlock()
		if sent {
			return nil
		}
		data, err := rec.Marshal(name)
		if err == nil {
			_, err = fmt.Fprintf(status, "learned %s\n", base64.StdEncoding.EncodeToString(data))
		}
		if err != nil {
			logrus.Errorf("sentry: handing the learned profile to the watchdog: %v", err)
			return err
		}
		sent = true
		logrus.Infof("sentry: learned profile (%d distinct calls) handed to the watchdog", rec.Len())
		return nil
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, unix.SIGTERM, unix.SIGINT)
	go func() {
		<-sig
		code := 0
		if send() != nil {
			code = 1
		}
		os.Exit(code)
	}()
	err := Serve(l, cfg)
	if serr := send(); err == nil {
		err = serr
	}
	return err
}

// lockedWriter makes each Write whole: status lines from the serving
// loop and the learned profile never interleave.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
