package sentry

import "golang.org/x/sys/unix"

// nativeArch is the seccomp_data arch of a call the syscall table
// describes (internal/sentry/syscalls is x86_64's).
const nativeArch = unix.AUDIT_ARCH_X86_64

// x32Bit marks an x32 system call number: native arch, another ABI.
const x32Bit = 0x40000000

// foreignABI reports whether a notified call was made through an ABI the
// table does not describe: the 32-bit entry (i386 numbers, another arch)
// or the x32 one (the x32 bit in the number). The filter lists only the
// native architecture, so the kernel should never notify one; if a merged
// profile ever did, its number would name another call in this table.
func foreignABI(arch uint32, nr int32) bool {
	return arch != nativeArch || nr&x32Bit != 0
}
