package container

import (
	"fmt"
	"io"
	"strconv"

	"github.com/docker/go-units"
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runtime-spec/specs-go"
	"github.com/sirupsen/logrus"
)

// UpdateFlags are runc's individual `update` flags, each naming the OCI
// resource it sets. ResourcesFromFlags accepts exactly these names.
var UpdateFlags = []struct{ Name, Usage string }{
	{"blkio-weight", "block IO weight, 10 to 1000"},
	{"cpu-period", "CPU CFS period in microseconds (0: system default)"},
	{"cpu-quota", "CPU CFS quota in microseconds per period"},
	{"cpu-burst", "CPU CFS burst in microseconds per period"},
	{"cpu-rt-period", "CPU realtime period in microseconds"},
	{"cpu-rt-runtime", "CPU realtime runtime in microseconds per period"},
	{"cpu-share", "CPU shares (relative weight)"},
	{"cpu-idle", "1: SCHED_IDLE for the cgroup, 0: default"},
	{"cpuset-cpus", "CPUs the container may use (0-3,5)"},
	{"cpuset-mems", "memory nodes the container may use"},
	{"memory", "memory limit in bytes, or with a suffix (100m, 1g); -1: unlimited"},
	{"memory-reservation", "memory soft limit in bytes or with a suffix"},
	{"memory-swap", "memory plus swap limit in bytes or with a suffix; -1: unlimited"},
	{"pids-limit", "maximum number of processes; -1: unlimited"},
}

// ResourcesFromFlags builds the OCI resources to update from the flags
// that were given (flag name without dashes → value). Every error names
// the flag and its value.
func ResourcesFromFlags(set map[string]string) (*specs.LinuxResources, error) {
	r := &specs.LinuxResources{
		Memory:  &specs.LinuxMemory{},
		CPU:     &specs.LinuxCPU{},
		BlockIO: &specs.LinuxBlockIO{},
		Pids:    &specs.LinuxPids{},
	}
	for name := range set {
		if !knownUpdateFlag(name) {
			return nil, fmt.Errorf("update: unknown resource flag --%s", name)
		}
	}
	for _, f := range UpdateFlags {
		name := f.Name
		val, ok := set[name]
		if !ok {
			continue
		}
		var err error
		switch name {
		case "blkio-weight":
			var w uint64
			if w, err = strconv.ParseUint(val, 10, 16); err == nil && (w < 10 || w > 1000) {
				err = fmt.Errorf("must be between 10 and 1000")
			}
			weight := uint16(w)
			r.BlockIO.Weight = &weight
		case "cpu-period":
			r.CPU.Period, err = parseUint(val)
		case "cpu-burst":
			r.CPU.Burst, err = parseUint(val)
		case "cpu-rt-period":
			r.CPU.RealtimePeriod, err = parseUint(val)
		case "cpu-share":
			r.CPU.Shares, err = parseUint(val)
		case "cpu-quota":
			r.CPU.Quota, err = parseInt(val)
		case "cpu-rt-runtime":
			r.CPU.RealtimeRuntime, err = parseInt(val)
		case "cpu-idle":
			if r.CPU.Idle, err = parseInt(val); err == nil && *r.CPU.Idle != 0 && *r.CPU.Idle != 1 {
				err = fmt.Errorf("must be 0 or 1")
			}
		case "cpuset-cpus":
			r.CPU.Cpus = val
		case "cpuset-mems":
			r.CPU.Mems = val
		case "memory":
			r.Memory.Limit, err = parseBytes(val)
		case "memory-reservation":
			r.Memory.Reservation, err = parseBytes(val)
		case "memory-swap":
			r.Memory.Swap, err = parseBytes(val)
		case "pids-limit":
			var n *int64
			if n, err = parseInt(val); err == nil {
				r.Pids.Limit = *n
			}
		}
		if err != nil {
			return nil, fmt.Errorf("--%s %q: %v", name, val, unwrapNum(err))
		}
	}
	return r, nil
}

func knownUpdateFlag(name string) bool {
	for _, f := range UpdateFlags {
		if f.Name == name {
			return true
		}
	}
	return false
}

func parseUint(s string) (*uint64, error) {
	v, err := strconv.ParseUint(s, 10, 64)
	return &v, err
}

func parseInt(s string) (*int64, error) {
	v, err := strconv.ParseInt(s, 10, 64)
	return &v, err
}

// parseBytes reads a size in bytes, with an optional binary suffix
// (k, m, g, t, p; "100m" is 100 MiB), or -1 for unlimited.
func parseBytes(s string) (*int64, error) {
	if s == "-1" {
		v := int64(-1)
		return &v, nil
	}
	v, err := units.RAMInBytes(s)
	if err != nil {
		return nil, fmt.Errorf("not a size (use bytes or a suffix such as 512k, 100m, 2g)")
	}
	if v < 0 {
		return nil, fmt.Errorf("a size cannot be negative (use -1 for unlimited)")
	}
	return &v, nil
}

// unwrapNum shortens strconv's errors to their reason ("invalid syntax").
func unwrapNum(err error) error {
	if ne, ok := err.(*strconv.NumError); ok {
		return ne.Err
	}
	return err
}

// ParseResources reads an OCI LinuxResources JSON document (`update
// --resources`); name is used in errors.
func ParseResources(r io.Reader, name string) (*specs.LinuxResources, error) {
	data, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("--resources %s: %w", name, err)
	}
	var res specs.LinuxResources
	if err := decodeJSON(data, &res); err != nil {
		return nil, fmt.Errorf("--resources %s: %v", name, err)
	}
	return &res, nil
}

// Update changes a running (or created, or paused) container's cgroup
// limits. Only the resources present in u change; the rest keep their
// current values.
func (rt *Runtime) Update(id string, u *specs.LinuxResources) error {
	c, err := rt.Load(id)
	if err != nil {
		return err
	}
	if st, err := c.Status(); err != nil {
		return fmt.Errorf("container %q: reading status: %w", id, err)
	} else if st == libcontainer.Stopped {
		return fmt.Errorf("cannot update container %q: it has stopped", id)
	}
	config := c.Config()
	if config.Cgroups == nil {
		return fmt.Errorf("cannot update container %q: it has no cgroup configuration", id)
	}
	// Config is a shallow copy: copy what we change so that libcontainer
	// can still roll back to the old values if the kernel refuses.
	cg := *config.Cgroups
	res := cgroups.Resources{}
	if cg.Resources != nil {
		res = *cg.Resources
	}
	cg.Resources = &res
	config.Cgroups = &cg
	applyResources(&res, u)
	// Device rules cannot be changed by update; rewriting them could
	// disturb devices added by others (a GPU plugin, say).
	res.SkipDevices = true
	if err := c.Set(config); err != nil {
		return fmt.Errorf("updating container %q: %w", id, err)
	}
	return nil
}

// applyResources copies the resources present in u over r.
func applyResources(r *cgroups.Resources, u *specs.LinuxResources) {
	if m := u.Memory; m != nil {
		setIf(&r.Memory, m.Limit)
		setIf(&r.MemoryReservation, m.Reservation)
		setIf(&r.MemorySwap, m.Swap)
		if m.Limit != nil && *m.Limit == -1 && m.Swap == nil {
			// Unlimited memory: let the driver lift the swap limit too.
			r.MemorySwap = 0
		}
		//lint:ignore SA1019 read only to warn that it is ignored
		if m.Kernel != nil || m.KernelTCP != nil {
			logrus.Warn("update: kernel memory limits are obsolete and ignored")
		}
	}
	if c := u.CPU; c != nil {
		if c.Shares != nil {
			r.CpuShares = *c.Shares
			r.CpuWeight = cgroups.ConvertCPUSharesToCgroupV2Value(*c.Shares)
		}
		setIf(&r.CpuPeriod, c.Period)
		setIf(&r.CpuQuota, c.Quota)
		setIf(&r.CpuRtPeriod, c.RealtimePeriod)
		setIf(&r.CpuRtRuntime, c.RealtimeRuntime)
		if c.Burst != nil {
			r.CpuBurst = c.Burst
		}
		if c.Idle != nil {
			r.CPUIdle = c.Idle
			if c.Shares == nil {
				// cgroup v2 refuses a weight together with idle.
				r.CpuShares, r.CpuWeight = 0, 0
			}
		}
		if c.Cpus != "" {
			r.CpusetCpus = c.Cpus
		}
		if c.Mems != "" {
			r.CpusetMems = c.Mems
		}
	}
	if p := u.Pids; p != nil && p.Limit != 0 {
		r.PidsLimit = p.Limit
	}
	if b := u.BlockIO; b != nil {
		applyBlockIO(r, b)
	}
	if u.Unified != nil {
		r.Unified = u.Unified
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// applyBlockIO updates weights and per-device limits; a device already
// listed gets the new value, a new one is added. Slices are copied, never
// changed in place, so the container's current config stays intact.
func applyBlockIO(r *cgroups.Resources, b *specs.LinuxBlockIO) {
	setIf(&r.BlkioWeight, b.Weight)
	setIf(&r.BlkioLeafWeight, b.LeafWeight)
	if len(b.WeightDevice) > 0 {
		devs := make([]*cgroups.WeightDevice, len(r.BlkioWeightDevice))
		copy(devs, r.BlkioWeightDevice)
	next:
		for _, wd := range b.WeightDevice {
			for i, d := range devs {
				if d.Major == wd.Major && d.Minor == wd.Minor {
					nd := *d
					setIf(&nd.Weight, wd.Weight)
					setIf(&nd.LeafWeight, wd.LeafWeight)
					devs[i] = &nd
					continue next
				}
			}
			var w, lw uint16
			setIf(&w, wd.Weight)
			setIf(&lw, wd.LeafWeight)
			devs = append(devs, cgroups.NewWeightDevice(wd.Major, wd.Minor, w, lw))
		}
		r.BlkioWeightDevice = devs
	}
	r.BlkioThrottleReadBpsDevice = upsertThrottle(r.BlkioThrottleReadBpsDevice, b.ThrottleReadBpsDevice)
	r.BlkioThrottleWriteBpsDevice = upsertThrottle(r.BlkioThrottleWriteBpsDevice, b.ThrottleWriteBpsDevice)
	r.BlkioThrottleReadIOPSDevice = upsertThrottle(r.BlkioThrottleReadIOPSDevice, b.ThrottleReadIOPSDevice)
	r.BlkioThrottleWriteIOPSDevice = upsertThrottle(r.BlkioThrottleWriteIOPSDevice, b.ThrottleWriteIOPSDevice)
}

func upsertThrottle(cur []*cgroups.ThrottleDevice, upd []specs.LinuxThrottleDevice) []*cgroups.ThrottleDevice {
	if len(upd) == 0 {
		return cur
	}
	out := make([]*cgroups.ThrottleDevice, len(cur))
	copy(out, cur)
next:
	for _, td := range upd {
		for i, d := range out {
			if d.Major == td.Major && d.Minor == td.Minor {
				out[i] = cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate)
				continue next
			}
		}
		out = append(out, cgroups.NewThrottleDevice(td.Major, td.Minor, td.Rate))
	}
	return out
}
