//go:build amd64

package syscalls

import "golang.org/x/sys/unix"

// archRanges are the syscall numbers the kernel (6.18) has on x86_64.
var archRanges = [][2]int{{0, 336}, {424, 469}}

var sysNumbers = map[string]int{
	"read": unix.SYS_READ, "write": unix.SYS_WRITE, "newfstatat": unix.SYS_NEWFSTATAT, "uname": unix.SYS_UNAME,
	"clone": unix.SYS_CLONE, "clone3": unix.SYS_CLONE3, "unshare": unix.SYS_UNSHARE, "setns": unix.SYS_SETNS,
	"socket": unix.SYS_SOCKET, "ioctl": unix.SYS_IOCTL, "personality": unix.SYS_PERSONALITY,
	"mount": unix.SYS_MOUNT, "umount2": unix.SYS_UMOUNT2, "pivot_root": unix.SYS_PIVOT_ROOT,
	"bpf": unix.SYS_BPF, "perf_event_open": unix.SYS_PERF_EVENT_OPEN, "userfaultfd": unix.SYS_USERFAULTFD,
	"io_uring_setup": unix.SYS_IO_URING_SETUP, "keyctl": unix.SYS_KEYCTL, "kexec_file_load": unix.SYS_KEXEC_FILE_LOAD,
	"finit_module": unix.SYS_FINIT_MODULE, "open_by_handle_at": unix.SYS_OPEN_BY_HANDLE_AT, "ptrace": unix.SYS_PTRACE,
	"process_vm_writev": unix.SYS_PROCESS_VM_WRITEV, "kcmp": unix.SYS_KCMP, "fsopen": unix.SYS_FSOPEN,
	"mount_setattr": unix.SYS_MOUNT_SETATTR, "quotactl_fd": unix.SYS_QUOTACTL_FD, "syslog": unix.SYS_SYSLOG,
	"fanotify_init": unix.SYS_FANOTIFY_INIT, "uretprobe": unix.SYS_URETPROBE, "mseal": unix.SYS_MSEAL,
	"removexattrat": unix.SYS_REMOVEXATTRAT, "statmount": unix.SYS_STATMOUNT, "rseq": unix.SYS_RSEQ,
	"epoll_ctl_old": unix.SYS_EPOLL_CTL_OLD, "_sysctl": unix.SYS__SYSCTL, "tuxcall": unix.SYS_TUXCALL,
}
