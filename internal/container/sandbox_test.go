package container

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLearnedPath(t *testing.T) {
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	for _, tc := range []struct {
		flag, ann, cri string
		want, err      string
	}{
		{flag: filepath.Join(dir, "a.json"), ann: "x.json", want: filepath.Join(dir, "a.json")},
		{flag: filepath.Join(dir, "missing", "a.json"), err: "does not exist"},
		{want: filepath.Join(state, learnedInState)},
		{ann: "/etc/cron.d/x", err: "must be a file name in " + LearnedDir},
		{ann: "../x.json", err: "must be a file name in " + LearnedDir},
		{ann: "sub/x.json", err: "must be a file name in " + LearnedDir},
		{ann: ".hidden.json", err: "must be a file name in " + LearnedDir},
		{ann: "web.json", want: filepath.Join(LearnedDir, "web.json")},
		{ann: LearnedDir + "/web.json", cri: "app", want: filepath.Join(LearnedDir, "web.app.json")},
		{ann: "web.json", cri: "sandbox", want: filepath.Join(LearnedDir, "web.sandbox.json")},
	} {
		if tc.want != "" && strings.HasPrefix(tc.want, LearnedDir) && os.Geteuid() != 0 {
			continue // would create LearnedDir
		}
		got, err := learnedPath(tc.flag, tc.ann, tc.cri, state)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want error %q", tc.flag, tc.ann, tc.cri, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("learnedPath(%q, %q, %q) = %q, %v; want %q", tc.flag, tc.ann, tc.cri, got, err, tc.want)
		}
	}
	if got := criContainer(map[string]string{"io.kubernetes.cri.container-type": "sandbox", "io.kubernetes.cri.container-name": "x"}); got != "sandbox" {
		t.Errorf("criContainer(sandbox) = %q", got)
	}
}
