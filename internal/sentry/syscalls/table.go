package syscalls

import "sort"

// Entry is one system call of the architecture.
type Entry struct {
	Nr   int
	Name string
	// Handler answers the call for the sentry when a profile emulates or
	// proxies it (HandlerTier says which); nil if the sentry has none
	// (then those tiers fail with ENOSYS, and Check lets the kernel
	// continue after auditing).
	Handler Handler
	// Note says in one line what is supported and why the tiers are what
	// they are.
	Note string
}

var (
	// byNr is indexed by number (the sentry looks every notified call up
	// here: a slice index, not a map access).
	byNr   []*Entry
	byName = map[string]*Entry{}
	// checkByNr holds checkHooks by number (CheckHook).
	checkByNr []Handler
)

func init() {
	sort.Slice(table, func(i, j int) bool { return table[i].Nr < table[j].Nr })
	if n := len(table); n > 0 {
		byNr = make([]*Entry, table[n-1].Nr+1)
		checkByNr = make([]Handler, len(byNr))
	}
	for i := range table {
		e := &table[i]
		byNr[e.Nr] = e
		byName[e.Name] = e
		checkByNr[e.Nr] = checkHooks[e.Name]
	}
}

// ByNr returns the entry for a syscall number of this architecture.
// Numbers without an entry do not exist here; the filter denies them with
// ENOSYS.
func ByNr(nr int) (*Entry, bool) {
	if nr < 0 || nr >= len(byNr) || byNr[nr] == nil {
		return nil, false
	}
	return byNr[nr], true
}

// ByName returns the entry for a syscall name (the kernel's, as in
// libseccomp: "newfstatat", "umount2" ...).
func ByName(name string) (*Entry, bool) {
	e, ok := byName[name]
	return e, ok
}

// All returns a copy of the table in syscall number order.
func All() []Entry { return append([]Entry(nil), table...) }

// handlerTiers says what each handler does: emulate (answer from the
// container's Env, never the host) or proxy (act for the caller after
// copying its arguments once).
var handlerTiers = map[string]Tier{
	"uname": Emulate, "sysinfo": Emulate, "sched_getaffinity": Emulate,
	"connect": Proxy, "adjtimex": Proxy, "clock_adjtime": Proxy,
}

// HandlerTier is the tier the entry's handler serves, Emulate or Proxy; 0
// for an entry without a handler. A profile may give a call that tier
// only.
func (e *Entry) HandlerTier() Tier {
	if e.Handler == nil {
		return 0
	}
	return handlerTiers[e.Name]
}
