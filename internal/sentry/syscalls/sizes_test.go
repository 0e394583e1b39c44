package syscalls

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

const unsafeSizeofUtsname = unsafe.Sizeof(unix.Utsname{})
