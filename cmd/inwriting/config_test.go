package main_test

import (
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	main "github.com/inwriting/inwriting/cmd/inwriting"
)

func getenv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	dir := t.TempDir()
	write := func(content string) string {
		p := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}

	t.Run("Defaults", func(t *testing.T) {
		c, err := main.LoadConfig("", getenv(map[string]string{"HOME": "/home/x"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.DataDir != "/home/x/.local/share/inwriting" || c.Database != "/home/x/.local/share/inwriting/inwriting.db" || c.Log.Level != "info" {
			t.Fatalf("config = %+v", c)
		}
	})

	t.Run("FileEnvAndExpansion", func(t *testing.T) {
		p := write("data_dir = \"$BASE/data\"\ndefault_time_zone = \"Europe/Lisbon\"\n[log]\nlevel = \"debug\"\n")
		c, err := main.LoadConfig(p, getenv(map[string]string{"BASE": "/srv", "INWRITING_LOG_FORMAT": "json"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.DataDir != "/srv/data" || c.Log.Level != "debug" || c.Log.Format != "json" || c.DefaultTimeZone != "Europe/Lisbon" {
			t.Fatalf("config = %+v", c)
		}
		// The environment wins over the file.
		c, err = main.LoadConfig(p, getenv(map[string]string{"INWRITING_LOG_LEVEL": "warn", "INWRITING_DATABASE": "/tmp/x.db"}))
		if err != nil {
			t.Fatal(err)
		}
		if c.Log.Level != "warn" || c.Database != "/tmp/x.db" {
			t.Fatalf("config = %+v", c)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		for _, tt := range []struct {
			file string
			env  map[string]string
			is   error
			msg  string
		}{
			{file: "[log]\nlevel = \"loud\"\n", is: main.ErrConfigLogLevel},
			{file: "", env: map[string]string{"INWRITING_LOG_FORMAT": "xml"}, is: main.ErrConfigLogFormat},
			{file: "default_time_zone = \"Lisbon\"\n", is: main.ErrConfigTimeZone},
			{file: "colour = \"blue\"\n", msg: `unknown key "colour"`},
			{file: "data_dir = [\n", msg: "c.toml"},
			{file: "", env: map[string]string{}, is: main.ErrConfigDataDir},
		} {
			p := write(tt.file)
			env := tt.env
			if env == nil {
				env = map[string]string{"HOME": "/home/x"}
			}
			_, err := main.LoadConfig(p, getenv(env))
			if err == nil || (tt.is != nil && !errors.Is(err, tt.is)) || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("%q %v: LoadConfig = %v, want %v %q", tt.file, tt.env, err, tt.is, tt.msg)
			}
		}
		if _, err := main.LoadConfig(filepath.Join(dir, "missing.toml"), getenv(nil)); err == nil {
			t.Fatal("a named config file that is missing is not an error")
		}
	})

	t.Run("CLI", func(t *testing.T) {
		e := newEnv(t)
		p := write("[log]\nlevel = \"loud\"\n")
		if r := e.run("", "--config", p, "list"); r.code != 1 || !strings.Contains(r.stderr, "log.level") {
			t.Fatalf("exit %d stderr %q", r.code, r.stderr)
		}
		if r := e.run("", "list", "--config", p); r.code != 1 {
			t.Fatalf("--config after the command: exit %d", r.code)
		}
	})
}

func TestLoadConfig_Example(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("x\n"), 0o600)
	c, err := main.LoadConfig("../../deploy/inwriting.toml", getenv(map[string]string{"INWRITING_SMTP_PASSWORD_FILE": pw, "INWRITING_IMAP_PASSWORD_FILE": pw}))
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/inwriting" || c.Database != "/var/lib/inwriting/inwriting.db" || c.SMTP.Host != "smtp.example.org" || c.SMTP.Password != "x" || c.IMAP.Password != "x" || c.Confirm.Expire != 168*time.Hour {
		t.Fatalf("config = %+v", c)
	}
	if _, err := c.Identity(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfig_SMTP(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	write := func(content string) string {
		p := filepath.Join(dir, "c.toml")
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	env := map[string]string{"HOME": dir}

	c, err := main.LoadConfig(write("[smtp]\nhost = \"smtp.example.org\"\npassword_file = \""+pw+"\"\n"), getenv(env))
	if err != nil {
		t.Fatal(err)
	}
	if c.SMTP.Password != "s3cret" || c.SMTP.Port != 587 || c.SMTP.TLS != "starttls" || c.SMTP.RetryDuration.Hours() != 72 {
		t.Fatalf("smtp = %+v", c.SMTP)
	}
	env["INWRITING_SMTP_PASSWORD"] = "from-env"
	if c, err = main.LoadConfig(write("[smtp]\npassword_file = \""+pw+"\"\n"), getenv(env)); err != nil || c.SMTP.Password != "from-env" {
		t.Fatalf("env password: %q, %v", c.SMTP.Password, err)
	}
	delete(env, "INWRITING_SMTP_PASSWORD")

	for _, tt := range []struct {
		file string
		is   error
	}{
		{"[smtp]\nhost = \"smtp.example.org\"\ntls = \"none\"\n", main.ErrConfigPlainSMTP},
		{"[smtp]\nhost = \"127.0.0.2\"\ntls = \"none\"\nusername = \"service\"\n", main.ErrConfigPlainAuth},
		{"[smtp]\ntls = \"maybe\"\n", main.ErrConfigSMTPTLS},
		{"[smtp]\nretry_for = \"3 days\"\n", main.ErrConfigDuration},
		{"[imap]\nhost = \"imap.example.org\"\ntls = \"none\"\n", main.ErrConfigPlainIMAP},
		{"[imap]\ntls = \"ssl\"\n", main.ErrConfigIMAPTLS},
		{"[confirm]\nremind_after = \"200h\"\n", main.ErrConfigRemind},
		{"[dkim]\ndomain = \"example.org\"\n", main.ErrConfigDKIM},
		{"[start]\nallow = \"alice, bob@example.org\"\n", main.ErrConfigStartAllow},
		{"[start]\nallow = \"@\"\n", main.ErrConfigStartAllow},
		{"[start]\nper_day = 0\n", main.ErrConfigStartPerDay},
		{"[start]\ndeclined_wait = \"a month\"\n", main.ErrConfigDuration},
	} {
		if _, err := main.LoadConfig(write(tt.file), getenv(env)); !errors.Is(err, tt.is) {
			t.Fatalf("%q: %v, want %v", tt.file, err, tt.is)
		}
	}
	for _, file := range []string{
		"[smtp]\nhost = \"127.0.0.1\"\ntls = \"none\"\n",
		"[smtp]\nhost = \"127.0.0.2\"\ntls = \"none\"\n",                         // no password to send
		"[smtp]\nhost = \"localhost\"\ntls = \"none\"\nusername = \"service\"\n", // what go-mail allows
	} {
		if _, err := main.LoadConfig(write(file), getenv(env)); err != nil {
			t.Fatalf("plain SMTP to loopback, %q: %v", file, err)
		}
	}
	if _, err := main.LoadConfig(write("[smtp]\npassword_file = \"/nonexistent\"\n"), getenv(env)); err == nil {
		t.Fatal("a missing password file is not an error")
	}
}

// TestLoadConfig_Start: who may start by mail, from the file or the
// environment, as the store reads it.
func TestLoadConfig_Start(t *testing.T) {
	c, err := main.LoadConfig("", getenv(map[string]string{"HOME": t.TempDir()}))
	if err != nil {
		t.Fatal(err)
	}
	if r := c.Start.Rules(""); len(r.Allow) != 0 || r.Allows("alice@example.org") || r.PerDay != 3 || r.DeclinedWait.Hours() != 720 {
		t.Fatalf("default start rules = %+v, want nobody, 3 a day, 30 days", r)
	}
	c, err = main.LoadConfig("", getenv(map[string]string{"HOME": t.TempDir(), "INWRITING_START_ALLOW": "alice@example.org, @family.example\tbob@x.example", "INWRITING_START_PER_DAY": "5"}))
	if err != nil {
		t.Fatal(err)
	}
	r := c.Start.Rules("Europe/Lisbon")
	for addr, want := range map[string]bool{"alice@example.org": true, "ALICE@example.org": true, "carol@example.org": false, "kim@family.example": true,
		"kim@sub.family.example": false, "bob@x.example": true, "family.example": false} {
		if r.Allows(addr) != want {
			t.Errorf("Allows(%q) = %v, want %v", addr, !want, want)
		}
	}
	if r.PerDay != 5 || r.DefaultTimeZone != "Europe/Lisbon" {
		t.Fatalf("rules = %+v", r)
	}
}

// TestConfig_Documented: every key of the configuration is in
// deploy/inwriting.toml (set, or commented out) with a comment, and in the
// README's table with its environment variable and the code's default;
// neither names a key the code does not read.
func TestConfig_Documented(t *testing.T) {
	keys, defaults := main.Keys(func(string) string { return "" })
	env := main.EnvNames()

	// deploy/inwriting.toml: "key = value" or "# key = value" lines under
	// "[section]" or "# [section]".
	example := mustRead(t, "../../deploy/inwriting.toml")
	inExample := map[string]bool{}
	section := ""
	lineRE := regexp.MustCompile(`^#? ?([a-z_]+) = `)
	sectionRE := regexp.MustCompile(`^#? ?\[([a-z_]+)\]`)
	commented := map[string]bool{} // a comment line comes before or after the key on its line
	prevComment := false
	for _, l := range strings.Split(example, "\n") {
		if m := sectionRE.FindStringSubmatch(l); m != nil {
			section = m[1] + "."
			prevComment = strings.HasPrefix(l, "#") || prevComment
			continue
		}
		if m := lineRE.FindStringSubmatch(l); m != nil {
			k := section + m[1]
			if section == "" || !slices.Contains(keys, k) && slices.Contains(keys, m[1]) {
				k = m[1]
			}
			inExample[k] = true
			commented[k] = prevComment || strings.Contains(l, "  #")
			if !slices.Contains(keys, k) {
				t.Errorf("deploy/inwriting.toml sets %s, which the configuration does not read", k)
			}
			continue
		}
		prevComment = strings.HasPrefix(strings.TrimSpace(l), "#")
		if strings.TrimSpace(l) == "" {
			prevComment = false
		}
	}

	// The README: a table row is | `key`, `key` | `ENV`, … | default |.
	readme := mustRead(t, "../../README.md")
	rowRE := regexp.MustCompile("(?m)^\\| (`[a-z_.]+`(?:, `[a-z_.]+`)*) \\| ([^|]*) \\| (.*) \\|$")
	inReadme := map[string]string{} // key: its default cell
	for _, m := range rowRE.FindAllStringSubmatch(readme, -1) {
		for _, k := range regexp.MustCompile("`([a-z_.]+)`").FindAllStringSubmatch(m[1], -1) {
			inReadme[k[1]] = m[3]
			if !slices.Contains(keys, k[1]) {
				t.Errorf("the README's table has %s, which the configuration does not read", k[1])
			}
		}
		for _, e := range regexp.MustCompile(`INWRITING_[A-Z_]*[A-Z](?:_…)?`).FindAllString(m[2], -1) {
			if prefix, ok := strings.CutSuffix(e, "…"); ok {
				if !slices.ContainsFunc(env, func(n string) bool { return strings.HasPrefix(n, prefix) }) {
					t.Errorf("the README's table names %s, but the configuration reads no such variable", e)
				}
				continue
			}
			if !slices.Contains(env, e) && !strings.HasSuffix(e, "_PASSWORD") {
				t.Errorf("the README's table names %s, which the configuration does not read", e)
			}
		}
	}

	for _, k := range keys {
		if !inExample[k] {
			t.Errorf("deploy/inwriting.toml lacks %s", k)
		} else if !commented[k] {
			t.Errorf("deploy/inwriting.toml has %s without a comment", k)
		}
		cell, ok := inReadme[k]
		if !ok {
			t.Errorf("the README's configuration table lacks %s", k)
			continue
		}
		switch d := defaults[k]; {
		case k == "data_dir" || k == "database":
			// derived from the environment; the cell says how
		case d == "":
			if !strings.Contains(cell, "none") {
				t.Errorf("README: %s has no default, but its row says %q", k, cell)
			}
		case !strings.Contains(cell, "`"+d+"`"):
			t.Errorf("README: the default of %s is %q, but its row says %q", k, d, cell)
		}
	}
}
