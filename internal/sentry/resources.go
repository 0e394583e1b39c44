package sentry

import (
	"github.com/sirupsen/logrus"

	"github.com/syscage/syscage/internal/resview"
)

// openResources opens the container's resource view (for sysinfo) from
// the init's cgroups: before the sentry confines itself, since the paths
// are resolved here once; afterwards the view only reads files relative
// to the directory fds it holds, read-only. A view that cannot be opened
// leaves sysinfo failing with EIO (never the host's numbers).
func (s *Sentry) openResources(initPid int) {
	if !s.cfg.ResourceViews || s.cfg.Env.Resources != nil {
		return
	}
	v, err := resview.NewView(initPid)
	if err != nil {
		logrus.Warnf("sentry: the container's resource view: %v (sysinfo fails with EIO)", err)
		return
	}
	s.cfg.Env.Resources = v
}
