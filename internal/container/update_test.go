package container

import (
	"reflect"
	"strings"
	"testing"

	"github.com/opencontainers/cgroups"
	"github.com/opencontainers/runtime-spec/specs-go"
)

func u64(v uint64) *uint64 { return &v }
func i64(v int64) *int64   { return &v }
func u16(v uint16) *uint16 { return &v }

func TestResourcesFromFlags(t *testing.T) {
	tests := []struct {
		name  string
		flags map[string]string
		check func(r *specs.LinuxResources) any // returns the field to compare
		want  any
		err   string
	}{
		{name: "memory suffix", flags: map[string]string{"memory": "100m"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Limit }, want: int64(100 << 20)},
		{name: "memory plain bytes", flags: map[string]string{"memory": "1048576"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Limit }, want: int64(1 << 20)},
		{name: "memory upper-case suffix", flags: map[string]string{"memory": "2G"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Limit }, want: int64(2 << 30)},
		{name: "memory unlimited", flags: map[string]string{"memory": "-1"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Limit }, want: int64(-1)},
		{name: "swap", flags: map[string]string{"memory-swap": "1g"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Swap }, want: int64(1 << 30)},
		{name: "reservation", flags: map[string]string{"memory-reservation": "512k"},
			check: func(r *specs.LinuxResources) any { return *r.Memory.Reservation }, want: int64(512 << 10)},
		{name: "cpu period and quota", flags: map[string]string{"cpu-period": "100000", "cpu-quota": "-1"},
			check: func(r *specs.LinuxResources) any { return []any{*r.CPU.Period, *r.CPU.Quota} },
			want:  []any{uint64(100000), int64(-1)}},
		{name: "rt", flags: map[string]string{"cpu-rt-period": "1000000", "cpu-rt-runtime": "950000"},
			check: func(r *specs.LinuxResources) any { return []any{*r.CPU.RealtimePeriod, *r.CPU.RealtimeRuntime} },
			want:  []any{uint64(1000000), int64(950000)}},
		{name: "shares", flags: map[string]string{"cpu-share": "512"},
			check: func(r *specs.LinuxResources) any { return *r.CPU.Shares }, want: uint64(512)},
		{name: "burst and idle", flags: map[string]string{"cpu-burst": "10", "cpu-idle": "1"},
			check: func(r *specs.LinuxResources) any { return []any{*r.CPU.Burst, *r.CPU.Idle} },
			want:  []any{uint64(10), int64(1)}},
		{name: "cpuset", flags: map[string]string{"cpuset-cpus": "0-1", "cpuset-mems": "0"},
			check: func(r *specs.LinuxResources) any { return r.CPU.Cpus + "/" + r.CPU.Mems }, want: "0-1/0"},
		{name: "pids", flags: map[string]string{"pids-limit": "-1"},
			check: func(r *specs.LinuxResources) any { return r.Pids.Limit }, want: int64(-1)},
		{name: "blkio weight", flags: map[string]string{"blkio-weight": "500"},
			check: func(r *specs.LinuxResources) any { return *r.BlockIO.Weight }, want: uint16(500)},
		{name: "nothing set leaves nil", flags: map[string]string{},
			check: func(r *specs.LinuxResources) any {
				return r.Memory.Limit == nil && r.CPU.Shares == nil && r.BlockIO.Weight == nil && r.Pids.Limit == 0
			}, want: true},

		{name: "bad memory", flags: map[string]string{"memory": "10x"}, err: `--memory "10x": not a size`},
		{name: "negative memory", flags: map[string]string{"memory": "-5"}, err: `--memory "-5"`},
		{name: "bad swap", flags: map[string]string{"memory-swap": "lots"}, err: `--memory-swap "lots"`},
		{name: "bad period", flags: map[string]string{"cpu-period": "-1"}, err: `--cpu-period "-1": invalid syntax`},
		{name: "bad quota", flags: map[string]string{"cpu-quota": "1.5"}, err: `--cpu-quota "1.5"`},
		{name: "bad shares", flags: map[string]string{"cpu-share": "many"}, err: `--cpu-share "many"`},
		{name: "bad rt runtime", flags: map[string]string{"cpu-rt-runtime": "x"}, err: `--cpu-rt-runtime "x"`},
		{name: "bad idle", flags: map[string]string{"cpu-idle": "2"}, err: `--cpu-idle "2": must be 0 or 1`},
		{name: "bad pids", flags: map[string]string{"pids-limit": "abc"}, err: `--pids-limit "abc"`},
		{name: "weight too small", flags: map[string]string{"blkio-weight": "5"}, err: "between 10 and 1000"},
		{name: "weight too big", flags: map[string]string{"blkio-weight": "1001"}, err: "between 10 and 1000"},
		{name: "weight overflow", flags: map[string]string{"blkio-weight": "70000"}, err: `--blkio-weight "70000": value out of range`},
		{name: "unknown flag", flags: map[string]string{"kernel-memory": "1"}, err: "unknown resource flag --kernel-memory"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ResourcesFromFlags(tc.flags)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ResourcesFromFlags(%v) error = %v, want %q", tc.flags, err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := tc.check(r); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseResources(t *testing.T) {
	tests := []struct{ name, in, err string }{
		{name: "ok", in: `{"memory": {"limit": 1048576}, "cpu": {"shares": 2}}`},
		{name: "empty object", in: `{}`},
		{name: "empty input", in: ``, err: "--resources f.json: malformed JSON"},
		{name: "syntax", in: `{"memory": }`, err: "at byte"},
		{name: "wrong type", in: `{"memory": {"limit": "1g"}}`, err: `field "memory.limit"`},
		{name: "negative unsigned", in: `{"cpu": {"shares": -1}}`, err: `field "cpu.shares"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r, err := ParseResources(strings.NewReader(tc.in), "f.json")
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("ParseResources error = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || r == nil {
				t.Fatalf("ParseResources = %v, %v", r, err)
			}
		})
	}
}

func TestApplyResources(t *testing.T) {
	base := func() cgroups.Resources {
		return cgroups.Resources{
			Memory: 100, MemorySwap: 200, MemoryReservation: 50,
			CpuShares: 1024, CpuWeight: 100, CpuQuota: 50000, CpuPeriod: 100000,
			CpusetCpus: "0-1", CpusetMems: "0", PidsLimit: 10, BlkioWeight: 300,
		}
	}
	tests := []struct {
		name string
		upd  specs.LinuxResources
		want func(r *cgroups.Resources)
	}{
		{name: "empty changes nothing", want: func(*cgroups.Resources) {}},
		{name: "empty sections change nothing",
			upd:  specs.LinuxResources{Memory: &specs.LinuxMemory{}, CPU: &specs.LinuxCPU{}, Pids: &specs.LinuxPids{}, BlockIO: &specs.LinuxBlockIO{}},
			want: func(*cgroups.Resources) {}},
		{name: "memory", upd: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(300), Swap: i64(600), Reservation: i64(10)}},
			want: func(r *cgroups.Resources) { r.Memory, r.MemorySwap, r.MemoryReservation = 300, 600, 10 }},
		{name: "unlimited memory lifts swap", upd: specs.LinuxResources{Memory: &specs.LinuxMemory{Limit: i64(-1)}},
			want: func(r *cgroups.Resources) { r.Memory, r.MemorySwap = -1, 0 }},
		{name: "period alone keeps quota", upd: specs.LinuxResources{CPU: &specs.LinuxCPU{Period: u64(200000)}},
			want: func(r *cgroups.Resources) { r.CpuPeriod = 200000 }},
		{name: "quota alone keeps period", upd: specs.LinuxResources{CPU: &specs.LinuxCPU{Quota: i64(-1)}},
			want: func(r *cgroups.Resources) { r.CpuQuota = -1 }},
		{name: "shares set the v2 weight", upd: specs.LinuxResources{CPU: &specs.LinuxCPU{Shares: u64(2)}},
			want: func(r *cgroups.Resources) { r.CpuShares, r.CpuWeight = 2, 1 }},
		{name: "idle clears shares", upd: specs.LinuxResources{CPU: &specs.LinuxCPU{Idle: i64(1)}},
			want: func(r *cgroups.Resources) { r.CPUIdle, r.CpuShares, r.CpuWeight = i64(1), 0, 0 }},
		{name: "cpuset and rt", upd: specs.LinuxResources{CPU: &specs.LinuxCPU{Cpus: "1", Mems: "0-1", RealtimePeriod: u64(5), RealtimeRuntime: i64(4), Burst: u64(7)}},
			want: func(r *cgroups.Resources) {
				r.CpusetCpus, r.CpusetMems, r.CpuRtPeriod, r.CpuRtRuntime, r.CpuBurst = "1", "0-1", 5, 4, u64(7)
			}},
		{name: "pids", upd: specs.LinuxResources{Pids: &specs.LinuxPids{Limit: -1}},
			want: func(r *cgroups.Resources) { r.PidsLimit = -1 }},
		{name: "blkio weight", upd: specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{Weight: u16(800), LeafWeight: u16(20)}},
			want: func(r *cgroups.Resources) { r.BlkioWeight, r.BlkioLeafWeight = 800, 20 }},
		{name: "unified", upd: specs.LinuxResources{Unified: map[string]string{"memory.high": "1000"}},
			want: func(r *cgroups.Resources) { r.Unified = map[string]string{"memory.high": "1000"} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, want := base(), base()
			applyResources(&got, &tc.upd)
			tc.want(&want)
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("got  %+v\nwant %+v", got, want)
			}
		})
	}
}

// Device limits are updated in place or added, without touching the slices
// of the configuration they came from (libcontainer rolls back to it).
func TestApplyBlockIODevices(t *testing.T) {
	orig := cgroups.Resources{
		BlkioWeightDevice:          []*cgroups.WeightDevice{cgroups.NewWeightDevice(8, 0, 100, 0)},
		BlkioThrottleReadBpsDevice: []*cgroups.ThrottleDevice{cgroups.NewThrottleDevice(8, 0, 1000)},
	}
	r := orig
	upd := &specs.LinuxResources{BlockIO: &specs.LinuxBlockIO{
		WeightDevice: []specs.LinuxWeightDevice{
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Weight: u16(500)},
			{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 16}, LeafWeight: u16(50)},
		},
		ThrottleReadBpsDevice:   []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 2000}},
		ThrottleWriteIOPSDevice: []specs.LinuxThrottleDevice{{LinuxBlockIODevice: specs.LinuxBlockIODevice{Major: 8, Minor: 0}, Rate: 30}},
	}}
	applyResources(&r, upd)
	if len(r.BlkioWeightDevice) != 2 || r.BlkioWeightDevice[0].Weight != 500 ||
		r.BlkioWeightDevice[1].Minor != 16 || r.BlkioWeightDevice[1].LeafWeight != 50 {
		t.Errorf("weight devices = %+v %+v", *r.BlkioWeightDevice[0], r.BlkioWeightDevice[1:])
	}
	if len(r.BlkioThrottleReadBpsDevice) != 1 || r.BlkioThrottleReadBpsDevice[0].Rate != 2000 {
		t.Errorf("read bps = %+v", r.BlkioThrottleReadBpsDevice)
	}
	if len(r.BlkioThrottleWriteIOPSDevice) != 1 || r.BlkioThrottleWriteIOPSDevice[0].Rate != 30 {
		t.Errorf("write iops = %+v", r.BlkioThrottleWriteIOPSDevice)
	}
	if orig.BlkioWeightDevice[0].Weight != 100 || orig.BlkioThrottleReadBpsDevice[0].Rate != 1000 {
		t.Errorf("the original configuration was changed: %+v %+v",
			*orig.BlkioWeightDevice[0], *orig.BlkioThrottleReadBpsDevice[0])
	}
}
