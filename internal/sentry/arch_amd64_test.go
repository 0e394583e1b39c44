package sentry

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestForeignABI: only native x86_64 numbers are decided by the table.
func TestForeignABI(t *testing.T) {
	for _, tc := range []struct {
		name string
		arch uint32
		nr   int32
		want bool
	}{
		{"x86_64 uname", unix.AUDIT_ARCH_X86_64, unix.SYS_UNAME, false},
		{"x86_64 highest", unix.AUDIT_ARCH_X86_64, 469, false},
		{"i386 uname (122: setfsuid on x86_64)", unix.AUDIT_ARCH_I386, 122, true},
		{"x32 uname", unix.AUDIT_ARCH_X86_64, x32Bit | unix.SYS_UNAME, true},
		{"aarch64", unix.AUDIT_ARCH_AARCH64, 160, true},
	} {
		if got := foreignABI(tc.arch, tc.nr); got != tc.want {
			t.Errorf("%s: foreignABI = %v, want %v", tc.name, got, tc.want)
		}
	}
}
