package container

import (
	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runc/types"
)

// ConvertStats renders libcontainer's statistics in runc's stable event
// format (github.com/opencontainers/runc/types), the shape containerd's
// go-runc client decodes from `events`. It returns nil when there are no
// cgroup statistics at all.
func ConvertStats(ls *libcontainer.Stats) *types.Stats {
	if ls == nil || ls.CgroupStats == nil {
		return nil
	}
	cg := ls.CgroupStats
	out := &types.Stats{
		CPU:               cpuStats(cg.CpuStats),
		CPUSet:            types.CPUSet(cg.CPUSetStats),
		Memory:            memoryStats(cg.MemoryStats),
		Pids:              types.Pids{Current: cg.PidsStats.Current, Limit: cg.PidsStats.Limit},
		Blkio:             blkioStats(cg.BlkioStats),
		Hugetlb:           make(map[string]types.Hugetlb, len(cg.HugetlbStats)),
		NetworkInterfaces: ls.Interfaces,
	}
	for size, h := range cg.HugetlbStats {
		out.Hugetlb[size] = types.Hugetlb{Usage: h.Usage, Max: h.MaxUsage, Failcnt: h.Failcnt}
	}
	if rdt := ls.IntelRdtStats; rdt != nil {
		out.IntelRdt = intelRdtStats(rdt)
	}
	return out
}

// intelRdtStats copies what the Intel RDT manager reported; fields of a
// feature the host lacks are already empty.
func intelRdtStats(s *intelrdt.Stats) types.IntelRdt {
	out := types.IntelRdt{
		L3CacheSchemaRoot: s.L3CacheSchemaRoot,
		L3CacheSchema:     s.L3CacheSchema,
		MemBwSchemaRoot:   s.MemBwSchemaRoot,
		MemBwSchema:       s.MemBwSchema,
		MBMStats:          s.MBMStats,
		CMTStats:          s.CMTStats,
	}
	if i := s.L3CacheInfo; i != nil {
		out.L3CacheInfo = &types.L3CacheInfo{CbmMask: i.CbmMask, MinCbmBits: i.MinCbmBits, NumClosids: i.NumClosids}
	}
	if i := s.MemBwInfo; i != nil {
		out.MemBwInfo = &types.MemBwInfo{
			BandwidthGran: i.BandwidthGran,
			DelayLinear:   i.DelayLinear,
			MinBandwidth:  i.MinBandwidth,
			NumClosids:    i.NumClosids,
		}
	}
	return out
}

func cpuStats(c cgroups.CpuStats) types.Cpu {
	u := c.CpuUsage
	return types.Cpu{
		Usage: types.CpuUsage{
			Total:        u.TotalUsage,
			Percpu:       u.PercpuUsage,
			PercpuKernel: u.PercpuUsageInKernelmode,
			PercpuUser:   u.PercpuUsageInUsermode,
			Kernel:       u.UsageInKernelmode,
			User:         u.UsageInUsermode,
		},
		Throttling: types.Throttling{
			Periods:          c.ThrottlingData.Periods,
			ThrottledPeriods: c.ThrottlingData.ThrottledPeriods,
			ThrottledTime:    c.ThrottlingData.ThrottledTime,
		},
		PSI: c.PSI,
	}
}

func memoryStats(m cgroups.MemoryStats) types.Memory {
	return types.Memory{
		Cache:     m.Cache,
		Usage:     memoryEntry(m.Usage),
		Swap:      memoryEntry(m.SwapUsage),
		Kernel:    memoryEntry(m.KernelUsage),
		KernelTCP: memoryEntry(m.KernelTCPUsage),
		Raw:       m.Stats,
		PSI:       m.PSI,
	}
}

func memoryEntry(d cgroups.MemoryData) types.MemoryEntry {
	return types.MemoryEntry{Limit: d.Limit, Usage: d.Usage, Max: d.MaxUsage, Failcnt: d.Failcnt}
}

func blkioStats(b cgroups.BlkioStats) types.Blkio {
	return types.Blkio{
		IoServiceBytesRecursive: blkioEntries(b.IoServiceBytesRecursive),
		IoServicedRecursive:     blkioEntries(b.IoServicedRecursive),
		IoQueuedRecursive:       blkioEntries(b.IoQueuedRecursive),
		IoServiceTimeRecursive:  blkioEntries(b.IoServiceTimeRecursive),
		IoWaitTimeRecursive:     blkioEntries(b.IoWaitTimeRecursive),
		IoMergedRecursive:       blkioEntries(b.IoMergedRecursive),
		IoTimeRecursive:         blkioEntries(b.IoTimeRecursive),
		SectorsRecursive:        blkioEntries(b.SectorsRecursive),
		PSI:                     b.PSI,
	}
}

func blkioEntries(in []cgroups.BlkioStatEntry) []types.BlkioEntry {
	if len(in) == 0 {
		return nil
	}
	out := make([]types.BlkioEntry, len(in))
	for i, e := range in {
		out[i] = types.BlkioEntry{Major: e.Major, Minor: e.Minor, Op: e.Op, Value: e.Value}
	}
	return out
}
