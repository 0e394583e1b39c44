package syscalls

import (
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Task is the calling thread as a handler sees it; the sentry implements it.
type Task interface {
	// Pid is the caller's thread id in the sentry's pid namespace.
	Pid() int
	// WriteMemory copies b into the caller's memory at addr.
	WriteMemory(addr uintptr, b []byte) error
	// ReadMemory copies len(b) bytes of the caller's memory at addr into
	// b, the sentry's own memory: a proxy decides and acts on this copy
	// only, never on the caller's memory again.
	ReadMemory(addr uintptr, b []byte) error
	// GetFd duplicates the caller's fd into the sentry (pidfd_getfd): the
	// same open file description. The caller closes it.
	GetFd(fd int) (int, error)
	// HasCapability reports whether cap is in the caller's effective set
	// (relative to its own user namespace).
	HasCapability(cap int) (bool, error)
	// OwnUTS reports whether the caller's UTS namespace is not the
	// host's (the sentry's own).
	OwnUTS() (bool, error)
	// OwnMountNS reports whether the caller's mount namespace is not
	// the host's (the sentry's own).
	OwnMountNS() (bool, error)
}

// UTSNames are the container's node and domain name as uname reports
// them: read from the container's UTS namespace at create, then followed
// through the container's own sethostname and setdomainname. Safe for
// concurrent use: a pair is never changed once published, so a reader
// (every emulated uname) takes no lock.
type UTSNames struct {
	names atomic.Pointer[utsPair]
	mu    sync.Mutex // orders the writers
}

type utsPair struct{ node, domain string }

// NewUTSNames starts from the names create read.
func NewUTSNames(node, domain string) *UTSNames {
	u := &UTSNames{}
	u.names.Store(&utsPair{node, domain})
	return u
}

// Get returns the node and domain name.
func (u *UTSNames) Get() (node, domain string) {
	p := u.names.Load()
	return p.node, p.domain
}

// SetNode records a node name the container set.
func (u *UTSNames) SetNode(s string) {
	u.mu.Lock()
	u.names.Store(&utsPair{s, u.names.Load().domain})
	u.mu.Unlock()
}

// SetDomain records a domain name the container set.
func (u *UTSNames) SetDomain(s string) {
	u.mu.Lock()
	u.names.Store(&utsPair{u.names.Load().node, s})
	u.mu.Unlock()
}

// Env is what the container is told about the kernel it runs on: the
// utsname fields. The sentry fills it from the profile, the command line
// and the container's annotations.
type Env struct {
	Sysname, Nodename, Release, Version, Machine, Domainname string
	// UTS, when set, holds the live node and domain name (they win over
	// Nodename and Domainname).
	UTS *UTSNames
	// Resources, when set, is the container's resource view (sysinfo).
	Resources Resources
}

// names is the node and domain name uname reports.
func (e *Env) names() (node, domain string) {
	if e.UTS != nil {
		return e.UTS.Get()
	}
	return e.Nodename, e.Domainname
}

// Result is a handler's answer: the return value, or an errno (non-zero
// Errno wins).
type Result struct {
	Val   int64
	Errno unix.Errno
}

// Handler answers a notified call (Emulate or Proxy) for the sentry. args
// are the call's six argument registers as the kernel saved them.
type Handler func(t Task, args [6]uint64, env *Env) Result
