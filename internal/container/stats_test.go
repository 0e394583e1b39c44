package container

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runc/libcontainer"
	"github.com/opencontainers/runc/libcontainer/intelrdt"
	"github.com/opencontainers/runc/types"
)

func sampleStats() *libcontainer.Stats {
	cg := cgroups.NewStats()
	cg.CpuStats = cgroups.CpuStats{
		CpuUsage: cgroups.CpuUsage{
			TotalUsage:              300,
			PercpuUsage:             []uint64{100, 200},
			PercpuUsageInKernelmode: []uint64{10, 20},
			PercpuUsageInUsermode:   []uint64{90, 180},
			UsageInKernelmode:       30,
			UsageInUsermode:         270,
		},
		ThrottlingData: cgroups.ThrottlingData{Periods: 5, ThrottledPeriods: 2, ThrottledTime: 1000},
		PSI:            &cgroups.PSIStats{Some: cgroups.PSIData{Avg10: 1.5, Total: 7}},
	}
	cg.CPUSetStats = cgroups.CPUSetStats{CPUs: []uint16{0, 1}, Mems: []uint16{0}, SchedLoadBalance: 1}
	cg.MemoryStats = cgroups.MemoryStats{
		Cache:          4096,
		Usage:          cgroups.MemoryData{Usage: 1 << 20, MaxUsage: 2 << 20, Failcnt: 3, Limit: 64 << 20},
		SwapUsage:      cgroups.MemoryData{Usage: 2 << 20, Limit: 128 << 20},
		KernelUsage:    cgroups.MemoryData{Usage: 300, MaxUsage: 400},
		KernelTCPUsage: cgroups.MemoryData{Usage: 5, Limit: 9},
		Stats:          map[string]uint64{"rss": 1234, "pgfault": 99},
	}
	cg.PidsStats = cgroups.PidsStats{Current: 3, Limit: 100}
	cg.BlkioStats = cgroups.BlkioStats{
		IoServiceBytesRecursive: []cgroups.BlkioStatEntry{{Major: 8, Minor: 0, Op: "Read", Value: 512}},
		IoServicedRecursive:     []cgroups.BlkioStatEntry{{Major: 8, Minor: 0, Op: "Write", Value: 2}},
		SectorsRecursive:        []cgroups.BlkioStatEntry{{Major: 8, Minor: 16, Value: 8}},
	}
	cg.HugetlbStats["2MB"] = cgroups.HugetlbStats{Usage: 2 << 20, MaxUsage: 4 << 20, Failcnt: 1}
	return &libcontainer.Stats{
		CgroupStats: cg,
		Interfaces:  []*types.NetworkInterface{{Name: "eth0", RxBytes: 10, TxBytes: 20}},
	}
}

func TestConvertStats(t *testing.T) {
	s := ConvertStats(sampleStats())
	checks := []struct {
		name      string
		got, want any
	}{
		{"cpu total", s.CPU.Usage.Total, uint64(300)},
		{"cpu percpu", s.CPU.Usage.Percpu, []uint64{100, 200}},
		{"cpu percpu kernel", s.CPU.Usage.PercpuKernel, []uint64{10, 20}},
		{"cpu percpu user", s.CPU.Usage.PercpuUser, []uint64{90, 180}},
		{"cpu kernel", s.CPU.Usage.Kernel, uint64(30)},
		{"cpu user", s.CPU.Usage.User, uint64(270)},
		{"throttling", s.CPU.Throttling, types.Throttling{Periods: 5, ThrottledPeriods: 2, ThrottledTime: 1000}},
		{"cpu psi", s.CPU.PSI.Some.Total, uint64(7)},
		{"cpuset cpus", s.CPUSet.CPUs, []uint16{0, 1}},
		{"cpuset balance", s.CPUSet.SchedLoadBalance, uint64(1)},
		{"memory cache", s.Memory.Cache, uint64(4096)},
		{"memory usage", s.Memory.Usage, types.MemoryEntry{Usage: 1 << 20, Max: 2 << 20, Failcnt: 3, Limit: 64 << 20}},
		{"memory swap", s.Memory.Swap, types.MemoryEntry{Usage: 2 << 20, Limit: 128 << 20}},
		{"memory kernel", s.Memory.Kernel, types.MemoryEntry{Usage: 300, Max: 400}},
		{"memory kernel tcp", s.Memory.KernelTCP, types.MemoryEntry{Usage: 5, Limit: 9}},
		{"memory raw", s.Memory.Raw, map[string]uint64{"rss": 1234, "pgfault": 99}},
		{"pids", s.Pids, types.Pids{Current: 3, Limit: 100}},
		{"blkio bytes", s.Blkio.IoServiceBytesRecursive, []types.BlkioEntry{{Major: 8, Minor: 0, Op: "Read", Value: 512}}},
		{"blkio serviced", s.Blkio.IoServicedRecursive, []types.BlkioEntry{{Major: 8, Minor: 0, Op: "Write", Value: 2}}},
		{"blkio sectors", s.Blkio.SectorsRecursive, []types.BlkioEntry{{Major: 8, Minor: 16, Value: 8}}},
		{"blkio empty", s.Blkio.IoQueuedRecursive, []types.BlkioEntry(nil)},
		{"hugetlb", s.Hugetlb, map[string]types.Hugetlb{"2MB": {Usage: 2 << 20, Max: 4 << 20, Failcnt: 1}}},
		{"network", s.NetworkInterfaces[0].Name, "eth0"},
		{"no rdt", s.IntelRdt, types.IntelRdt{}},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %+v, want %+v", c.name, c.got, c.want)
		}
	}
}

func TestConvertStatsEdges(t *testing.T) {
	if s := ConvertStats(nil); s != nil {
		t.Errorf("ConvertStats(nil) = %+v, want nil", s)
	}
	if s := ConvertStats(&libcontainer.Stats{}); s != nil {
		t.Errorf("ConvertStats without cgroup stats = %+v, want nil", s)
	}
	// An empty cgroup (no controller reported anything) still converts,
	// with an empty (not null) hugetlb map as runc prints it.
	s := ConvertStats(&libcontainer.Stats{CgroupStats: &cgroups.Stats{}})
	if s == nil || s.Hugetlb == nil || len(s.Hugetlb) != 0 {
		t.Errorf("empty stats = %+v", s)
	}
	rdt := ConvertStats(&libcontainer.Stats{
		CgroupStats: &cgroups.Stats{},
		IntelRdtStats: &intelrdt.Stats{
			L3CacheInfo:   &intelrdt.L3CacheInfo{CbmMask: "fff", NumClosids: 16},
			L3CacheSchema: "L3:0=ff",
			MemBwInfo:     &intelrdt.MemBwInfo{MinBandwidth: 10},
		},
	})
	if rdt.IntelRdt.L3CacheInfo.CbmMask != "fff" || rdt.IntelRdt.L3CacheSchema != "L3:0=ff" ||
		rdt.IntelRdt.MemBwInfo.MinBandwidth != 10 {
		t.Errorf("intel rdt = %+v", rdt.IntelRdt)
	}
}

// The JSON uses runc's event field names, which containerd decodes.
func TestStatsEventJSON(t *testing.T) {
	ev := types.Event{Type: "stats", ID: "c1", Data: ConvertStats(sampleStats())}
	data, err := json.Marshal(ev)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{
		`"type":"stats"`, `"id":"c1"`, `"data":{"cpu":`, `"percpu_kernel":[10,20]`,
		`"throttledPeriods":2`, `"kernelTCP":{"limit":9,"usage":5`, `"raw":{"pgfault":99,"rss":1234}`,
		`"pids":{"current":3,"limit":100}`, `"ioServiceBytesRecursive":[{"major":8,"op":"Read","value":512}]`,
		`"hugetlb":{"2MB":{"usage":2097152,"max":4194304,"failcnt":1}}`, `"network_interfaces":[{"Name":"eth0"`,
	} {
		if !strings.Contains(string(data), key) {
			t.Errorf("JSON lacks %s:\n%s", key, data)
		}
	}
}
