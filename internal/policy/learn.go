package policy

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/syscage/syscage/internal/sentry/syscalls"
)

// Learn is the name of the learn mode profile: the base profile's
// decisions, but every call it passes is notified so the sentry can record
// it (and then lets the kernel continue: nothing is decided on memory).
const Learn = "learn"

// unobserved are the calls learn mode leaves to the filter (they keep the
// base's rule) and every learned profile includes with the base's rule:
//
//   - write: libcontainer refuses to notify it (it hands the seccomp
//     listener over with it).
//   - process creation and fd plumbing (clone, fork, vfork, pipe, pipe2,
//     close, dup, dup2, dup3, fcntl): a signal that arrives while a call
//     waits for the sentry interrupts the wait, and the call fails with
//     EINTR, not run, when the signal's handler lacks SA_RESTART. A
//     shell's SIGCHLD handler is one: "can't fork", "can't create pipe:
//     Interrupted system call", or a close that silently did not happen,
//     leaving a pipe open and the pipeline hanging. Unwatched, these calls
//     never fail that way, so programs do not retry them.
//     (SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV would narrow the window;
//     libseccomp 2.5 cannot set it.)
var unobserved = map[string]string{
	"write": "write cannot be observed (libcontainer hands the seccomp listener over with it) and the runtime's init needs it",
	"clone": notObservedEINTR, "fork": notObservedEINTR, "vfork": notObservedEINTR,
	"pipe": notObservedEINTR, "pipe2": notObservedEINTR, "close": notObservedEINTR,
	"dup": notObservedEINTR, "dup2": notObservedEINTR, "dup3": notObservedEINTR,
	"fcntl": notObservedEINTR,
	// Found by CPython's test_signal under learn (docs/compatibility.md):
	// getpid "returned" -EINTR, so the test signalled pid -4.
	"getpid": notObservedEINTR, "getppid": notObservedEINTR, "gettid": notObservedEINTR,
	"kill": notObservedEINTR, "tkill": notObservedEINTR, "tgkill": notObservedEINTR,
	// A signal-interrupted wait resumes through restart_syscall; a learned
	// profile that refused it made glibc abort ("futex facility returned an
	// unexpected error code": test_subprocess, test_multiprocessing_fork).
	"restart_syscall": "a call interrupted by a signal resumes through it: never refused, whatever the learning run saw",
}

const notObservedEINTR = "not observed while learning (a signal during the notification would make it fail with EINTR, which programs do not expect of it); kept as the base allows it"

// unobservedOrder lists unobserved in the order learned profiles show them.
var unobservedOrder = []string{"write", "clone", "fork", "vfork", "pipe", "pipe2", "close", "dup", "dup2", "dup3", "fcntl",
	"getpid", "getppid", "gettid", "kill", "tkill", "tgkill", "restart_syscall"}

// runtimeInit are calls the runtime's own init (libcontainer's, a Go
// program with cgo) may make between loading the filter and exec'ing the
// workload, depending on timing: the Go scheduler's and allocator's
// (futex wake-ups, sysmon's sleeps, preemption signals, heap growth and
// scavenging, new threads) and the listener hand-over. A learning run sees
// only those that happened in it, so every learned profile includes them
// all; a workload that does not need them gains nothing from them that
// the base's pass does not already give.
var runtimeInit = []string{
	"futex", "sched_yield", "nanosleep", "clock_nanosleep", "madvise", "mmap", "munmap", "mprotect",
	"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "tgkill", "getpid", "gettid",
	"exit", "exit_group", "set_robust_list", "rseq", "sched_getaffinity", "epoll_pwait",
	"epoll_ctl", "epoll_create1", "eventfd2", "read", "execve",
	"arch_prctl", "brk", "getppid",
}

// LearnProfile is base with every pass turned into check (notified, then
// continued), except the unobserved and runtime-init calls, which keep
// the base's rule.
func LearnProfile(base *Profile) *Profile {
	p := NewForCaps(Learn, func(e *syscalls.Entry, c syscalls.Caps) syscalls.Rule {
		r := base.ruleFor(e, c)
		if _, ok := unobserved[e.Name]; ok {
			return r
		}
		// The runtime-init calls are in every learned profile anyway;
		// notifying them only risks EINTR where programs never expect
		// it (an interrupted rt_sigreturn or exit_group, a FUTEX_WAKE:
		// CPython's test_signal died of SIGSEGV under learn).
		if slices.Contains(runtimeInit, e.Name) {
			return r
		}
		if r.Tier == syscalls.Pass {
			r.Tier = syscalls.Check
		}
		if len(r.Cases) > 0 {
			cs := make([]syscalls.Case, len(r.Cases))
			copy(cs, r.Cases)
			for i := range cs {
				if cs[i].Tier == syscalls.Pass {
					cs[i].Tier = syscalls.Check
				}
			}
			r.Cases = cs
		}
		return r
	})
	p.Description = descriptions[Learn]
	p.Base = base.Name
	p.Learning = true
	return p
}

// Resolve turns a --profile value into a profile: a built-in name,
// "learn", or the path of a profile file (it contains a slash or ends in
// .json).
func Resolve(ref string) (*Profile, error) {
	switch {
	case ref == Learn:
		base, _ := Builtin(DefaultName)
		return LearnProfile(base), nil
	case IsFileRef(ref):
		return LoadFile(ref)
	}
	return Builtin(ref)
}

// detail is the value-argument detail a learned profile keeps for a call:
// the arguments (and the bits of each) whose exact values it records, so
// the profile allows only the values seen (socket families and types,
// ioctl requests, prctl options, clone flags...).
type detail struct {
	arg  uint
	mask uint64
}

const (
	w32 = uint64(0xffffffff)
	w64 = ^uint64(0)
)

var learnDetail = map[string][]detail{
	"socket":      {{0, w32}, {1, w32}, {2, w32}},
	"socketpair":  {{0, w32}, {1, w32}, {2, w32}},
	"ioctl":       {{1, w32}},
	"prctl":       {{0, w32}},
	"arch_prctl":  {{0, w32}},
	"clone":       {{0, w64}},
	"unshare":     {{0, w32}},
	"personality": {{0, w32}},
	"setsockopt":  {{1, w32}, {2, w32}},
	"getsockopt":  {{1, w32}, {2, w32}},
	"kill":        {{1, w32}},
	"tgkill":      {{2, w32}},
}

// MaxLearnedValues bounds the argument detail learn mode keeps: past this
// many distinct value sets for one syscall (and base case), the call's
// detail collapses into one entry that allows any value the base allows,
// so a workload looping over distinct ioctl numbers cannot make its
// sentry's record (and the learned profile) grow without bound.
const MaxLearnedValues = 64

// learnKey identifies one distinct learned call: the syscall, the base
// case it matched and the recorded argument values (or, collapsed, any).
type learnKey struct {
	nr     int
	bcase  int // index of the base rule's case, -1 for an unconditional rule
	values [3]uint64
	any    bool // past MaxLearnedValues: any values the base case allows
}

type learnRecord struct {
	first   int
	comm    string
	count   uint64
	outcome syscalls.Outcome
}

// Recorder collects the calls a learning container makes. The sentry calls
// Observe for every notification; WriteFile writes the profile.
type Recorder struct {
	base      *Profile
	container string
	mu        sync.Mutex
	calls     map[learnKey]*learnRecord
	distinct  map[int]int  // detailed records per syscall number
	collapsed map[int]bool // syscalls past MaxLearnedValues
	started   time.Time
}

// NewRecorder records calls decided by base.
func NewRecorder(base *Profile, containerID string) *Recorder {
	return &Recorder{base: base, container: containerID, calls: map[learnKey]*learnRecord{},
		distinct: map[int]int{}, collapsed: map[int]bool{}, started: time.Now().UTC()}
}

// Observe records one call by thread tid.
func (r *Recorder) Observe(tid, nr int, args [6]uint64) {
	e, ok := syscalls.ByNr(nr)
	if !ok {
		return
	}
	rule := r.base.Rule(e)
	k := learnKey{nr: nr, bcase: -1}
	var out syscalls.Outcome
	if len(rule.Cases) == 0 {
		out = syscalls.Outcome{Tier: rule.Tier, Errno: rule.ErrnoOf()}
	} else {
		out = syscalls.Outcome{Tier: syscalls.Deny, Errno: unix.ENOSYS}
		for i, c := range rule.Cases {
			if holdsAll(c.When, args) {
				k.bcase, out = i, c.Outcome
				break
			}
		}
	}
	if out.Tier == syscalls.Deny {
		return // the base denies it: not part of what the workload needs
	}
	for i, d := range learnDetail[e.Name] {
		k.values[i] = args[d.arg] & d.mask
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(learnDetail[e.Name]) > 0 {
		if !r.collapsed[k.nr] && r.calls[k] == nil && r.distinct[k.nr] >= MaxLearnedValues {
			r.collapse(k.nr)
		}
		if r.collapsed[k.nr] {
			k.values, k.any = [3]uint64{}, true
		}
	}
	rec := r.calls[k]
	if rec == nil {
		rec = &learnRecord{first: tid, comm: comm(tid), outcome: out}
		r.calls[k] = rec
		if !k.any {
			r.distinct[k.nr]++
		}
	}
	rec.count++
}

// collapse folds the detailed records of syscall nr into one record per
// base case that allows any value the base case allows; from then on the
// call's values are not recorded.
func (r *Recorder) collapse(nr int) {
	for k, rec := range r.calls {
		if k.nr != nr {
			continue
		}
		delete(r.calls, k)
		into := learnKey{nr: nr, bcase: k.bcase, any: true}
		if m := r.calls[into]; m != nil {
			m.count += rec.count
			continue
		}
		r.calls[into] = rec
	}
	r.collapsed[nr] = true
	r.distinct[nr] = 0
}

func comm(tid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tid) + "/comm")
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(b))
}

// Len is the number of distinct calls recorded so far.
func (r *Recorder) Len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.calls)
}

// Profile builds the learned profile: base, "unlisted": "deny", one entry
// per distinct call with the tier the base gave it, write (never
// observable) and the calls the base refuses with ENOSYS so that libc's
// fallbacks (clone3 → clone) behave as they did while learning.
func (r *Recorder) Profile(name string) *File {
	r.mu.Lock()
	defer r.mu.Unlock()
	keys := make([]learnKey, 0, len(r.calls))
	for k := range r.calls {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		a, b := keys[i], keys[j]
		if a.nr != b.nr {
			return a.nr < b.nr
		}
		if a.bcase != b.bcase {
			return a.bcase < b.bcase
		}
		if a.any != b.any {
			return a.any
		}
		for i := range a.values {
			if a.values[i] != b.values[i] {
				return a.values[i] < b.values[i]
			}
		}
		return false
	})
	f := &File{
		SyscageProfile: FileVersion,
		Name:           name,
		Description: fmt.Sprintf("learned by syscage from container %s (%s to %s) on base %s",
			r.container, r.started.Format(time.RFC3339), time.Now().UTC().Format(time.RFC3339), r.base.Name),
		Base:     r.base.Name,
		Unlisted: UnlistedDeny,
		Syscalls: []FileEntry{},
	}
	learned := map[string]bool{}
	for _, k := range keys {
		rec := r.calls[k]
		e, _ := syscalls.ByNr(k.nr)
		if _, ok := unobserved[e.Name]; ok {
			continue
		}
		learned[e.Name] = true
		ent := FileEntry{
			Names: []string{e.Name},
			Tier:  rec.outcome.Tier.String(),
			Why:   fmt.Sprintf("first by pid %d (%s); %d calls", rec.first, rec.comm, rec.count),
		}
		if k.any {
			ent.Why += fmt.Sprintf(" with more than %d distinct argument values: any the base allows", MaxLearnedValues)
		}
		ent.When = learnedConds(e, r.base.Rule(e), k, !k.any)
		f.Syscalls = append(f.Syscalls, ent)
	}
	for _, name := range unobservedOrder {
		e, _ := syscalls.ByName(name)
		rule := r.base.Rule(e)
		why := "always: " + unobserved[name]
		if len(rule.Cases) == 0 {
			if rule.Tier != syscalls.Deny {
				f.Syscalls = append(f.Syscalls, FileEntry{Names: []string{name}, Tier: rule.Tier.String(), Why: why})
			}
			continue
		}
		for i, c := range rule.Cases {
			if c.Tier == syscalls.Deny {
				continue
			}
			f.Syscalls = append(f.Syscalls, FileEntry{Names: []string{name}, Tier: c.Tier.String(), Why: why,
				When: learnedConds(e, syscalls.Rule{Cases: rule.Cases}, learnKey{nr: e.Nr, bcase: i, values: [3]uint64{}}, false)})
		}
	}
	var init []string
	for _, name := range runtimeInit {
		e, _ := syscalls.ByName(name)
		_, always := unobserved[name] // listed above already
		if rule := r.base.Rule(e); !learned[name] && !always && len(rule.Cases) == 0 && rule.Tier == syscalls.Pass {
			init = append(init, name)
		}
	}
	if len(init) > 0 {
		f.Syscalls = append(f.Syscalls, FileEntry{Names: init, Tier: "pass",
			Why: "always: the runtime's init (Go) may make these between loading the filter and exec, depending on timing; this run did not"})
	}
	var enosys []string
	for _, e := range syscalls.All() {
		rule := r.base.Rule(&e)
		if len(rule.Cases) == 0 && rule.Tier == syscalls.Deny && rule.ErrnoOf() == unix.ENOSYS {
			enosys = append(enosys, e.Name)
		}
	}
	if len(enosys) > 0 {
		f.Syscalls = append(f.Syscalls, FileEntry{Names: enosys, Tier: "deny", Errno: "ENOSYS",
			Why: "the base refuses these with ENOSYS, so libc falls back (clone3 → clone); kept so enforcement behaves as learning did"})
	}
	return f
}

// learnedConds is the conditions of a learned entry: the exact recorded
// values of the detail arguments, and the conditions of the base case the
// call matched on any other argument (so a learned entry never allows
// more than the base did).
func learnedConds(e *syscalls.Entry, base syscalls.Rule, k learnKey, exact bool) []FileCond {
	byArg := map[uint]syscalls.Cond{}
	if k.bcase >= 0 {
		for _, c := range base.Cases[k.bcase].When {
			byArg[c.Index] = c
		}
	}
	for i, d := range learnDetail[e.Name] {
		if !exact {
			break
		}
		c, ok := byArg[d.arg]
		// The exact value implies the base condition when the base looks
		// at no bits outside d.mask; otherwise keep the base's.
		if ok && !(c.Op == syscalls.OpMaskedEq && c.Mask&^d.mask == 0) {
			continue
		}
		byArg[d.arg] = syscalls.Cond{Index: d.arg, Op: syscalls.OpMaskedEq, Mask: d.mask, Value: k.values[i]}
	}
	var out []FileCond
	for a := uint(0); a < 6; a++ {
		c, ok := byArg[a]
		if !ok {
			continue
		}
		arg, val := a, c.Value
		fc := FileCond{Arg: &arg, Op: fileOpName(c.Op), Value: &val}
		if c.Op == syscalls.OpMaskedEq {
			m := c.Mask
			fc.Mask = &m
		}
		out = append(out, fc)
	}
	return out
}

// Marshal is the learned profile as a file holds it: indented JSON.
func (r *Recorder) Marshal(name string) ([]byte, error) {
	data, err := json.MarshalIndent(r.Profile(name), "", "  ")
	if err != nil {
		return nil, err
	}
	return append(data, '\n'), nil
}

// WriteFileAtomic writes data to path atomically (a temporary file in the
// same directory, renamed over it), mode 0644. The learn-mode sentry,
// confined, writes no file: it hands its profile to its watchdog, which
// writes it with this to the path create chose.
func WriteFileAtomic(path string, data []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), ".learned-*.json")
	if err != nil {
		return fmt.Errorf("writing learned profile: %w", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing learned profile: %w", err)
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return fmt.Errorf("writing learned profile: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing learned profile: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing learned profile: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing learned profile: %w", err)
	}
	return nil
}
