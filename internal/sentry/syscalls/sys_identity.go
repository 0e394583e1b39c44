package syscalls

import "golang.org/x/sys/unix"

// Identity: what the workload learns about the kernel. uname(2) is answered
// here from Env; /proc/version, /proc/sys/kernel/osrelease and
// /proc/sys/kernel/version are files the runtime serves with the same
// values (bind mounts set up at create), so no open() is notified for them.

// Uname emulates uname(2): it writes a struct utsname built from env to the
// buffer args[0] points to. Each field is 65 bytes, NUL-terminated;
// longer values are truncated. A buffer the caller cannot have written
// gives EFAULT, as from the kernel.
func Uname(t Task, args [6]uint64, env *Env) Result {
	var u unix.Utsname
	put := func(dst *[65]byte, s string) {
		n := copy(dst[:len(dst)-1], s)
		dst[n] = 0
	}
	put(&u.Sysname, env.Sysname)
	put(&u.Nodename, env.Nodename)
	put(&u.Release, env.Release)
	put(&u.Version, env.Version)
	put(&u.Machine, env.Machine)
	put(&u.Domainname, env.Domainname)
	if err := t.WriteMemory(uintptr(args[0]), utsnameBytes(&u)); err != nil {
		return Result{Errno: unix.EFAULT}
	}
	return Result{}
}

// utsnameBytes lays u out as the kernel's struct new_utsname: six
// consecutive 65-byte arrays, no padding.
func utsnameBytes(u *unix.Utsname) []byte {
	b := make([]byte, 0, 6*65)
	for _, f := range []*[65]byte{&u.Sysname, &u.Nodename, &u.Release, &u.Version, &u.Machine, &u.Domainname} {
		b = append(b, f[:]...)
	}
	return b
}
