package syscalls

import "strconv"

// argNames names the value arguments worth showing in the audit stream for
// the calls the sentry sees; other calls are shown by number only.
var argNames = map[string][]string{
	"uname":             {"buf"},
	"socket":            {"family", "type", "protocol"},
	"kill":              {"pid", "sig"},
	"tkill":             {"tid", "sig"},
	"tgkill":            {"tgid", "tid", "sig"},
	"pidfd_send_signal": {"pidfd", "sig", "info", "flags"},
	"prctl":             {"option", "arg2", "arg3", "arg4", "arg5"},
	"setuid":            {"uid"},
	"setgid":            {"gid"},
	"setreuid":          {"ruid", "euid"},
	"setregid":          {"rgid", "egid"},
	"setresuid":         {"ruid", "euid", "suid"},
	"setresgid":         {"rgid", "egid", "sgid"},
	"setfsuid":          {"fsuid"},
	"setfsgid":          {"fsgid"},
	"clone":             {"flags"},
	"unshare":           {"flags"},
	"personality":       {"persona"},
	"ioctl":             {"fd", "cmd"},
}

// DecodeArgs returns the named value arguments of a call, in hex, for the
// audit stream; nil for calls without names here. Pointer arguments are
// shown as addresses, never dereferenced.
func DecodeArgs(nr int, args [6]uint64) map[string]string {
	e, ok := ByNr(nr)
	if !ok {
		return nil
	}
	names := argNames[e.Name]
	if len(names) == 0 {
		return nil
	}
	m := make(map[string]string, len(names))
	for i, n := range names {
		m[n] = "0x" + strconv.FormatUint(args[i], 16)
	}
	return m
}
