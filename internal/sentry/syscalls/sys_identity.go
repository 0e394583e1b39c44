package syscalls

import (
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// Identity: what the workload learns about the kernel. uname(2) is answered
// here from Env; /proc/version, /proc/sys/kernel/osrelease and
// /proc/sys/kernel/version are files the runtime serves with the same
// values (bind mounts set up at create), so no open() is notified for them.

// Uname emulates uname(2): it writes a struct utsname built from env to the
// buffer args[0] points to. Each field is 65 bytes, NUL-terminated;
// longer values are truncated. A buffer the caller cannot have written
// gives EFAULT, as from the kernel.
func Uname(t Task, args [6]uint64, env *Env) Result {
	node, domain := env.names()
	img := utsnameImage(utsFields{env.Sysname, node, env.Release, env.Version, env.Machine, domain})
	if err := t.WriteMemory(uintptr(args[0]), img[:]); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	return Result{}
}

// utsFields are the six strings of a struct utsname, in the kernel's
// order: sysname, nodename, release, version, machine, domainname.
type utsFields [6]string

// utsImage is a struct utsname laid out from its fields. It is never
// changed once published: receivers write it into callers concurrently.
type utsImage struct {
	fields utsFields
	b      [6 * 65]byte
}

// lastUtsname is the image the last uname wrote: the fields change only
// when the container renames itself, so uname neither lays the struct out
// nor allocates per call.
var lastUtsname atomic.Pointer[utsImage]

// utsnameImage is the kernel's struct new_utsname for f (six consecutive
// 65-byte arrays, no padding), from the cache when f is what it was laid
// out from. The returned array must not be modified.
func utsnameImage(f utsFields) *[6 * 65]byte {
	if img := lastUtsname.Load(); img != nil && img.fields == f {
		return &img.b
	}
	img := &utsImage{fields: f}
	for i, s := range f {
		dst := img.b[i*65 : (i+1)*65]
		n := copy(dst[:64], s)
		dst[n] = 0
	}
	lastUtsname.Store(img)
	return &img.b
}

// checkHooks run when a call is checked (notified, decided on values,
// then let go on to the kernel): they may refuse on values, and follow
// what the kernel is about to do. They are apart from Entry.Handler,
// which emulates or performs a call: a call that is proxied under one
// profile (connect under strict) is only checked under another (learn).
var checkHooks = map[string]Handler{
	"sethostname":   SethostnameCheck,
	"setdomainname": SetdomainnameCheck,
	"mount":         MountCheck,
	"umount2":       MountCheck,
}

// CheckHook is the hook a checked call of e runs before the kernel goes
// on, or nil (also for a nil e: a number outside the table). Looked up
// by number in a slice filled from checkHooks when the table is built:
// no map access per call.
func (e *Entry) CheckHook() Handler {
	if e == nil {
		return nil
	}
	if e.Nr >= 0 && e.Nr < len(checkByNr) && byNr[e.Nr] == e {
		return checkByNr[e.Nr]
	}
	return checkHooks[e.Name] // an Entry that is not the table's

}

// newUTSLen is the kernel's __NEW_UTS_LEN: longer names get EINVAL.
const newUTSLen = 64

// SethostnameCheck and SetdomainnameCheck run for the checked (value-only)
// sethostname and setdomainname, before the kernel goes on with the call.
// The decision rests on values only: the caller's UTS namespace must be
// its own, not the host's (EPERM otherwise: a container that shares the
// host's must not rename the host). The kernel then checks the caller's
// CAP_SYS_ADMIN over that namespace and sets the name from its memory.
// So that the emulated uname follows, the sentry copies the name too,
// when the kernel will accept the call (the length fits and the caller
// holds CAP_SYS_ADMIN); the copy decides nothing. A thread that rewrites
// the buffer between the sentry's copy and the kernel's own read only
// makes its container's uname disagree with its own gethostname... which
// uname reports.
func SethostnameCheck(t Task, args [6]uint64, env *Env) Result {
	return utsCheck(t, args, env, (*UTSNames).SetNode)
}

// SetdomainnameCheck: see SethostnameCheck.
func SetdomainnameCheck(t Task, args [6]uint64, env *Env) Result {
	return utsCheck(t, args, env, (*UTSNames).SetDomain)
}

func utsCheck(t Task, args [6]uint64, env *Env, set func(*UTSNames, string)) Result {
	own, err := t.OwnUTS()
	if err != nil {
		return Result{Errno: unix.ESRCH}
	}
	if !own {
		return Result{Errno: unix.EPERM}
	}
	n := int(int32(args[1]))
	if n < 0 || n > newUTSLen || env.UTS == nil {
		return Result{} // the kernel answers (EINVAL), nothing to follow
	}
	if ok, err := t.HasCapability(unix.CAP_SYS_ADMIN); err != nil || !ok {
		return Result{} // the kernel answers EPERM
	}
	buf := make([]byte, n)
	if err := t.ReadMemory(uintptr(args[0]), buf); err != nil {
		return Result{} // the kernel answers EFAULT
	}
	set(env.UTS, string(buf))
	return Result{}
}
