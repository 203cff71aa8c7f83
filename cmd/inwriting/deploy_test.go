package main_test

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	main "github.com/inwriting/inwriting/cmd/inwriting"
)

// unitKeys reads a systemd unit: each key's values, in order.
func unitKeys(t *testing.T, path string) map[string][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	keys := map[string][]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if l == "" || l[0] == '#' || l[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(l, "=")
		if !ok {
			t.Fatalf("%s: %q is not a key=value line", path, l)
		}
		keys[k] = append(keys[k], v)
	}
	return keys
}

// TestDeploy_SystemdUnit: the unit is hardened as the deploy guide says,
// runs serve with the config from /etc/inwriting, hands the passwords over
// as credentials to variables the configuration reads, and
// systemd-analyze finds nothing wrong with it where it is installed.
func TestDeploy_SystemdUnit(t *testing.T) {
	const path = "../../deploy/inwriting.service"
	keys := unitKeys(t, path)
	for k, want := range map[string]string{
		"DynamicUser": "yes", "StateDirectory": "inwriting", "ProtectSystem": "strict", "NoNewPrivileges": "yes",
		"PrivateTmp": "yes", "Restart": "on-failure", "ProtectHome": "yes", "CapabilityBoundingSet": "",
	} {
		if got := keys[k]; len(got) != 1 || got[0] != want {
			t.Errorf("%s=%q, want %q", k, got, want)
		}
	}
	if got := keys["ExecStart"]; len(got) != 1 || got[0] != "/usr/local/bin/inwriting --config /etc/inwriting/inwriting.toml serve" {
		t.Errorf("ExecStart=%q", got)
	}
	creds := map[string]bool{}
	for _, c := range keys["LoadCredential"] {
		name, src, _ := strings.Cut(c, ":")
		if !strings.HasPrefix(src, "/etc/inwriting/") {
			t.Errorf("credential %s is read from %s, not /etc/inwriting", name, src)
		}
		creds[name] = true
	}
	env := main.EnvNames()
	for _, e := range keys["Environment"] {
		name, value, _ := strings.Cut(e, "=")
		if !slices.Contains(env, name) {
			t.Errorf("Environment=%s: the configuration reads no %s", e, name)
		}
		if c, ok := strings.CutPrefix(value, "%d/"); ok && !creds[c] {
			t.Errorf("Environment=%s names credential %s, which no LoadCredential loads", e, c)
		}
	}
	if len(creds) < 2 {
		t.Errorf("credentials %v, want the IMAP and SMTP passwords", creds)
	}
	analyze, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Log("systemd-analyze is not installed: the unit was read, not verified")
		return
	}
	// verify needs ExecStart's binary to exist.
	unit, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(t.TempDir(), "inwriting.service")
	if err := os.WriteFile(tmp, []byte(strings.ReplaceAll(string(unit), "/usr/local/bin/inwriting", "/bin/true")), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(analyze, "verify", tmp).CombinedOutput(); err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// TestDeploy_Containerfile: the image builds with cgo at the Go version
// of go.mod, runs as a non-root user with the database on a volume and a
// health check on /readyz, and sets only variables the configuration
// reads. No container engine runs here, so the build stage's own build
// command is run instead, against this tree.
func TestDeploy_Containerfile(t *testing.T) {
	raw, err := os.ReadFile("../../deploy/Containerfile")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(raw), "\\\n", " ")
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	goVersion := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(gomod))[1]
	for _, want := range []string{
		"FROM golang:" + goVersion + "-bookworm AS build", "CGO_ENABLED=1 go build", "USER inwriting",
		`VOLUME ["/var/lib/inwriting"]`, "INWRITING_DATA_DIR=/var/lib/inwriting", "http://127.0.0.1:8080/readyz",
		"INWRITING_SERVICE_LISTEN=0.0.0.0:8080",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the Containerfile lacks %q", want)
		}
	}
	env := main.EnvNames()
	for _, name := range regexp.MustCompile(`\bINWRITING_[A-Z_]+`).FindAllString(text, -1) {
		if !slices.Contains(env, name) {
			t.Errorf("the Containerfile sets %s, which the configuration does not read", name)
		}
	}
	build := regexp.MustCompile(`(?m)^RUN (CGO_ENABLED=1 go build .*) -o /out/inwriting (\S+)$`).FindStringSubmatch(text)
	if build == nil {
		t.Fatal("no build command in the build stage")
	}
	if testing.Short() {
		t.Skip("-short: the build stage's command is not run")
	}
	out := filepath.Join(t.TempDir(), "inwriting")
	cmd := exec.Command("sh", "-c", build[1]+" -o "+out+" "+build[2])
	cmd.Dir = "../.."
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", build[1], err, b)
	}
	if b, err := exec.Command(out, "version").CombinedOutput(); err != nil || !strings.Contains(string(b), "inwriting") {
		t.Fatalf("the built binary: %v\n%s", err, b)
	}
}
