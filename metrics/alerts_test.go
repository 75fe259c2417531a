package metrics

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

const alertsFile = "../docs/examples/lsrd-alerts.yaml"

// The alert rules operators are given: each has a severity and a for:,
// promtool accepts the file, and its unit tests (lsrd-alerts.test.yaml)
// pass: the alerts fire when they should and stay quiet when not.
func TestAlertRules(t *testing.T) {
	b, err := os.ReadFile(alertsFile)
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Groups []struct {
			Rules []struct {
				Alert  string            `yaml:"alert"`
				Expr   string            `yaml:"expr"`
				For    *string           `yaml:"for"`
				Labels map[string]string `yaml:"labels"`
			} `yaml:"rules"`
		} `yaml:"groups"`
	}
	if err := yaml.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, g := range f.Groups {
		for _, r := range g.Rules {
			n++
			if sev := r.Labels["severity"]; sev != "critical" && sev != "warning" {
				t.Errorf("alert %s: severity %q, want critical or warning", r.Alert, sev)
			}
			if r.For == nil {
				t.Errorf("alert %s: no for:", r.Alert)
			}
		}
	}
	if n < 10 {
		t.Errorf("%d alert rules, want at least 10", n)
	}
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("promtool is not installed (scripts/setup installs Debian's prometheus)")
		}
		t.Skip("promtool is not installed: bash scripts/setup installs it")
	}
	for _, args := range [][]string{{"check", "rules", "lsrd-alerts.yaml"}, {"test", "rules", "lsrd-alerts.test.yaml"}} {
		cmd := exec.Command(promtool, args...)
		cmd.Dir = "../docs/examples"
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
}
