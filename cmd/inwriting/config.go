package main

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/inwriting/inwriting/agreements"
	"github.com/inwriting/inwriting/mailout"
)

// DefaultConfigFile is read from the working directory when no --config is
// given and the file exists.
const DefaultConfigFile = "inwriting.toml"

// EnvPrefix starts the environment variable of every config key:
// log.level is INWRITING_LOG_LEVEL.
const EnvPrefix = "INWRITING_"

// Config is inwriting's configuration: a TOML file, then INWRITING_…
// environment variables over it. Keys that end in _file name a file whose
// content is the value (secrets are never flags).
type Config struct {
	// DataDir holds the database and anything else the service keeps.
	DataDir string `toml:"data_dir"`

	// Database is the SQLite file; default <data_dir>/inwriting.db.
	Database string `toml:"database"`

	// DefaultTimeZone is given to parties whose time zone an agreement does
	// not state. Empty means the agreement must state every time zone.
	DefaultTimeZone string `toml:"default_time_zone"`

	// MaxMessageBytes is the largest inbound message the service reads; a
	// larger one is kept aside unread.
	MaxMessageBytes int64 `toml:"max_message_bytes"`

	// Night is the time of day, in each party's own zone, when no mail
	// they did not ask for reaches them: it waits for the morning. A
	// check-in comes at the time the parties chose; an answer to a
	// party's own message comes at once. "off" for none.
	Night string `toml:"night"`
	night agreements.Night

	// TemplatesDir holds mail templates that replace the built-in ones,
	// file by file; "" for the built-in ones only.
	TemplatesDir string `toml:"templates_dir"`

	Log     LogConfig     `toml:"log"`
	Service ServiceConfig `toml:"service"`
	IMAP    IMAPConfig    `toml:"imap"`
	SMTP    SMTPConfig    `toml:"smtp"`
	DKIM    DKIMConfig    `toml:"dkim"`
	Auth    AuthConfig    `toml:"auth"`
	Confirm ConfirmConfig `toml:"confirm"`
	Start   StartConfig   `toml:"start"`
}

// StartConfig says who may start an agreement by writing to the service's
// address (design F1): the subject is the title, the other person is in
// To or Cc, and the text is written as for "inwriting new".
type StartConfig struct {
	// Allow lists, separated by commas or spaces, the addresses
	// ("alice@example.org") and domains ("@example.org") whose people
	// may start an agreement by mail. Empty (the default): nobody; the
	// operator starts agreements with "inwriting new".
	Allow string `toml:"allow"`
	// PerDay is how many start messages from one person are answered in a
	// day: agreements started and answers saying what is missing.
	PerDay int `toml:"per_day"`
	// DeclinedWait is how long a person who declined an agreement that
	// someone started is not invited again by them.
	DeclinedWait string `toml:"declined_wait"`

	allow   []string
	decline time.Duration
}

// Rules returns the rules the store applies, with defaultZone for the
// parties a message gives no time zone.
func (c StartConfig) Rules(defaultZone string) agreements.StartRules {
	return agreements.StartRules{Allow: c.allow, PerDay: c.PerDay, DeclinedWait: c.decline, DefaultTimeZone: defaultZone}
}

// IMAPConfig is the mailbox the service reads replies from.
type IMAPConfig struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// TLS is tls (implicit, port 993, the default), starttls, or none
	// (plain text; refused unless Host is loopback).
	TLS      string `toml:"tls"`
	Username string `toml:"username"`
	// PasswordFile holds the password; INWRITING_IMAP_PASSWORD overrides it.
	PasswordFile string `toml:"password_file"`
	// CAFile is a PEM bundle to verify the server with, beside the system's.
	CAFile  string `toml:"ca_file"`
	Mailbox string `toml:"mailbox"`
	// PollInterval is how often to look for mail when the server has no IDLE.
	PollInterval string `toml:"poll_interval"`

	Password     string        `toml:"-"`
	PollDuration time.Duration `toml:"-"`
}

// AuthConfig says which authentication results to trust and require.
type AuthConfig struct {
	// AuthServID is the authserv-id of your receiving server's
	// Authentication-Results header; only those are trusted (RFC 8601 §5).
	AuthServID string `toml:"authserv_id"`
	// Require makes a confirmation count only when DKIM or DMARC passed.
	Require bool `toml:"require"`
}

// ConfirmConfig times the confirmation of a version.
type ConfirmConfig struct {
	RemindAfter string `toml:"remind_after"` // the one reminder, e.g. "48h"
	ExpireAfter string `toml:"expire_after"` // e.g. "168h" (7 days)

	Remind time.Duration `toml:"-"`
	Expire time.Duration `toml:"-"`
}

// ServiceConfig says who the service is in its mail.
type ServiceConfig struct {
	// Address is the service's mailbox; replies come to its plus-addresses.
	Address string `toml:"address"`
	// Name is the From display name.
	Name string `toml:"name"`
	// PublicURL is the https base URL for one-click unsubscribe; optional.
	PublicURL string `toml:"public_url"`
	// Listen is where serve's web listener (one-click unsubscribe, a
	// health check) listens, behind the public URL's proxy; "" for none.
	Listen string `toml:"listen"`
	// PlusAddressing says that mail to Address's plus-addresses reaches
	// Address (the default). Where the server refuses them ("doctor"
	// tells), set it false: replies then go to Address itself, and the
	// subject tag and thread headers carry the token.
	PlusAddressing bool `toml:"plus_addressing"`
}

// SMTPConfig is the server the service sends through.
type SMTPConfig struct {
	Host string `toml:"host"`
	Port int    `toml:"port"`
	// TLS is starttls (required STARTTLS, the default), tls (implicit,
	// port 465) or none (plain text; refused unless Host is loopback).
	TLS      string `toml:"tls"`
	Username string `toml:"username"`
	// PasswordFile holds the password; INWRITING_SMTP_PASSWORD overrides it.
	PasswordFile string `toml:"password_file"`
	// CAFile is a PEM bundle to verify the server with, beside the system's.
	CAFile string `toml:"ca_file"`
	// RetryFor is how long a temporary failure is retried, e.g. "72h".
	RetryFor string `toml:"retry_for"`

	Password      string        `toml:"-"`
	RetryDuration time.Duration `toml:"-"`
}

// DKIMConfig signs outgoing mail when KeyFile is set.
type DKIMConfig struct {
	Domain   string `toml:"domain"`
	Selector string `toml:"selector"`
	KeyFile  string `toml:"key_file"` // PEM, RSA or Ed25519, PKCS#1 or PKCS#8
}

// LogConfig says how the service logs.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Config errors, for errors.Is.
var (
	ErrConfigLogLevel    = errors.New("log.level must be debug, info, warn or error")
	ErrConfigLogFormat   = errors.New("log.format must be text or json")
	ErrConfigDataDir     = errors.New("data_dir is empty and there is no home folder to default to; set data_dir")
	ErrConfigTimeZone    = errors.New("default_time_zone is not an IANA time zone name like Europe/Lisbon")
	ErrConfigSMTPTLS     = errors.New("smtp.tls must be starttls, tls or none")
	ErrConfigPlainSMTP   = errors.New("smtp.tls = none sends passwords and mail in plain text; it is allowed only to a server on loopback")
	ErrConfigPlainAuth   = errors.New("smtp.tls = none with a username sends the password in plain text, which the SMTP library allows only to localhost, 127.0.0.1 or ::1; name the server so, or use starttls")
	ErrConfigDuration    = errors.New("durations are written like 72h, 90m or 30s")
	ErrConfigRemind      = errors.New("confirm.remind_after must be shorter than confirm.expire_after")
	ErrConfigIMAPTLS     = errors.New("imap.tls must be tls, starttls or none")
	ErrConfigPlainIMAP   = errors.New("imap.tls = none sends the password and mail in plain text; it is allowed only to a server on loopback")
	ErrConfigNoIMAP      = errors.New("imap.host is needed to read replies")
	ErrConfigDKIM        = errors.New("dkim needs domain, selector and key_file together")
	ErrConfigNoSMTP      = errors.New("smtp.host is needed to send mail")
	ErrConfigMaxMessage  = errors.New("max_message_bytes must be at least 1024")
	ErrConfigNoService   = errors.New("service.address (the service's mailbox) is needed to send mail")
	ErrConfigStartAllow  = errors.New(`start.allow lists addresses ("alice@example.org") and domains ("@example.org")`)
	ErrConfigStartPerDay = errors.New("start.per_day must be at least 1")
)

// DefaultConfig returns the configuration that applies when nothing is set.
func DefaultConfig(getenv func(string) string) Config {
	return Config{
		DataDir:         defaultDataDir(getenv),
		MaxMessageBytes: 10 << 20,
		Night:           "21:00-08:00",
		Log:             LogConfig{Level: "info", Format: "text"},
		Service:         ServiceConfig{Name: "inwriting", PlusAddressing: true},
		SMTP:            SMTPConfig{Port: 587, TLS: "starttls", RetryFor: "72h"},
		IMAP:            IMAPConfig{Port: 993, TLS: "tls", Mailbox: "INBOX", PollInterval: "60s"},
		Confirm:         ConfirmConfig{RemindAfter: "48h", ExpireAfter: "168h"},
		Start:           StartConfig{PerDay: 3, DeclinedWait: "720h"},
	}
}

// defaultDataDir is $XDG_DATA_HOME/inwriting or ~/.local/share/inwriting.
func defaultDataDir(getenv func(string) string) string {
	if d := getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "inwriting")
	}
	if h := getenv("HOME"); h != "" {
		return filepath.Join(h, ".local", "share", "inwriting")
	}
	return ""
}

// LoadConfig reads the config file at path (or DefaultConfigFile when path
// is "" and it exists), expands $VARIABLES in its values, applies the
// INWRITING_… environment variables, and validates the result.
func LoadConfig(path string, getenv func(string) string) (Config, error) {
	c := DefaultConfig(getenv)
	explicit := path != ""
	if !explicit {
		path = DefaultConfigFile
	}
	data, err := os.ReadFile(path)
	switch {
	case err == nil:
		md, err := toml.Decode(os.Expand(string(data), getenv), &c)
		if err != nil {
			return c, fmt.Errorf("config %s: %w", path, err)
		}
		if keys := md.Undecoded(); len(keys) > 0 {
			return c, fmt.Errorf("config %s: unknown key %q", path, keys[0].String())
		}
	case explicit || !errors.Is(err, os.ErrNotExist):
		return c, fmt.Errorf("config: %w", err)
	}
	if err := applyEnv(&c, getenv); err != nil {
		return c, err
	}
	for _, sec := range []struct {
		name, file string
		dst        *string
	}{{"smtp", c.SMTP.PasswordFile, &c.SMTP.Password}, {"imap", c.IMAP.PasswordFile, &c.IMAP.Password}} {
		if sec.file != "" {
			b, err := os.ReadFile(sec.file)
			if err != nil {
				return c, fmt.Errorf("config: %s.password_file: %w", sec.name, err)
			}
			*sec.dst = strings.TrimRight(string(b), "\r\n")
		}
		if p := getenv(EnvPrefix + strings.ToUpper(sec.name) + "_PASSWORD"); p != "" {
			*sec.dst = p
		}
	}
	if err := c.Validate(); err != nil {
		return c, err
	}
	return c, nil
}

// Validate checks c and fills in the values derived from others.
func (c *Config) Validate() error {
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("config: %w, not %q", ErrConfigLogLevel, c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return fmt.Errorf("config: %w, not %q", ErrConfigLogFormat, c.Log.Format)
	}
	if c.DefaultTimeZone != "" {
		if _, err := agreements.LoadLocation(c.DefaultTimeZone); err != nil {
			return fmt.Errorf("config: %w, not %q", ErrConfigTimeZone, c.DefaultTimeZone)
		}
	}
	if c.MaxMessageBytes < 1024 {
		return fmt.Errorf("config: %w, not %d", ErrConfigMaxMessage, c.MaxMessageBytes)
	}
	n, err := agreements.ParseNight(c.Night)
	if err != nil {
		return fmt.Errorf("config: night: %w", err)
	}
	c.night = n
	switch c.SMTP.TLS {
	case "starttls", "tls":
	case "none":
		if c.SMTP.Host != "" && !isLoopback(c.SMTP.Host) {
			return fmt.Errorf("config: %w (host %q)", ErrConfigPlainSMTP, c.SMTP.Host)
		}
		if c.SMTP.Host != "" && c.SMTP.Username != "" && !plainAuthHost(c.SMTP.Host) {
			return fmt.Errorf("config: %w (host %q)", ErrConfigPlainAuth, c.SMTP.Host)
		}
	default:
		return fmt.Errorf("config: %w, not %q", ErrConfigSMTPTLS, c.SMTP.TLS)
	}
	switch c.IMAP.TLS {
	case "tls", "starttls":
	case "none":
		if c.IMAP.Host != "" && !isLoopback(c.IMAP.Host) {
			return fmt.Errorf("config: %w (host %q)", ErrConfigPlainIMAP, c.IMAP.Host)
		}
	default:
		return fmt.Errorf("config: %w, not %q", ErrConfigIMAPTLS, c.IMAP.TLS)
	}
	for _, d := range []struct {
		key, value string
		dst        *time.Duration
	}{
		{"smtp.retry_for", c.SMTP.RetryFor, &c.SMTP.RetryDuration},
		{"imap.poll_interval", c.IMAP.PollInterval, &c.IMAP.PollDuration},
		{"confirm.remind_after", c.Confirm.RemindAfter, &c.Confirm.Remind},
		{"confirm.expire_after", c.Confirm.ExpireAfter, &c.Confirm.Expire},
		{"start.declined_wait", c.Start.DeclinedWait, &c.Start.decline},
	} {
		v, err := time.ParseDuration(d.value)
		if err != nil || v <= 0 {
			return fmt.Errorf("config: %w: %s is %q", ErrConfigDuration, d.key, d.value)
		}
		*d.dst = v
	}
	c.Start.allow = nil
	for _, a := range strings.FieldsFunc(c.Start.Allow, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		_, domain, ok := strings.Cut(a, "@")
		if !ok || domain == "" || strings.Contains(domain, "@") {
			return fmt.Errorf("config: %w, not %q", ErrConfigStartAllow, a)
		}
		c.Start.allow = append(c.Start.allow, a)
	}
	if c.Start.PerDay < 1 {
		return fmt.Errorf("config: %w, not %d", ErrConfigStartPerDay, c.Start.PerDay)
	}
	if c.Confirm.Remind >= c.Confirm.Expire {
		return fmt.Errorf("config: %w", ErrConfigRemind)
	}
	if (c.DKIM.Domain != "" || c.DKIM.Selector != "" || c.DKIM.KeyFile != "") && (c.DKIM.Domain == "" || c.DKIM.Selector == "" || c.DKIM.KeyFile == "") {
		return fmt.Errorf("config: %w", ErrConfigDKIM)
	}
	if c.Database == "" {
		if c.DataDir == "" {
			return fmt.Errorf("config: %w", ErrConfigDataDir)
		}
		c.Database = filepath.Join(c.DataDir, "inwriting.db")
	}
	return nil
}

// applyEnv sets every key of c that has an INWRITING_… variable: the key's
// TOML path in capitals with "_" for ".", e.g. INWRITING_LOG_LEVEL.
func applyEnv(c *Config, getenv func(string) string) error {
	return walkConfig(reflect.ValueOf(c).Elem(), "", func(name string, v reflect.Value) error {
		s := getenv(name)
		if s == "" {
			return nil
		}
		switch v.Kind() {
		case reflect.String:
			v.SetString(s)
		case reflect.Int, reflect.Int64:
			n, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not a whole number", name, s)
			}
			v.SetInt(n)
		case reflect.Bool:
			b, err := strconv.ParseBool(s)
			if err != nil {
				return fmt.Errorf("config: %s: %q is not true or false", name, s)
			}
			v.SetBool(b)
		default:
			return fmt.Errorf("config: %s cannot be set from the environment", name)
		}
		return nil
	})
}

func walkConfig(v reflect.Value, prefix string, fn func(name string, v reflect.Value) error) error {
	t := v.Type()
	for i := range t.NumField() {
		key := t.Field(i).Tag.Get("toml")
		if key == "" || key == "-" {
			continue
		}
		name := prefix + strings.ToUpper(key)
		f := v.Field(i)
		if f.Kind() == reflect.Struct {
			if err := walkConfig(f, name+"_", fn); err != nil {
				return err
			}
			continue
		}
		if err := fn(EnvPrefix+name, f); err != nil {
			return err
		}
	}
	return nil
}

// Keys returns every key of the configuration, as the file writes it
// ("smtp.host"), with its default (DefaultConfig's value, "" for none),
// in the order of the Config struct.
func Keys(getenv func(string) string) (keys []string, defaults map[string]string) {
	defaults = map[string]string{}
	var walk func(v reflect.Value, prefix string)
	walk = func(v reflect.Value, prefix string) {
		t := v.Type()
		for i := range t.NumField() {
			key := t.Field(i).Tag.Get("toml")
			if key == "" || key == "-" {
				continue
			}
			if f := v.Field(i); f.Kind() == reflect.Struct {
				walk(f, prefix+key+".")
			} else {
				keys = append(keys, prefix+key)
				defaults[prefix+key] = fmt.Sprint(f.Interface())
			}
		}
	}
	c := DefaultConfig(getenv)
	walk(reflect.ValueOf(c), "")
	return keys, defaults
}

// EnvNames returns every environment variable the config reads, sorted;
// the help text lists them.
func EnvNames() []string {
	var names []string
	var c Config
	walkConfig(reflect.ValueOf(&c).Elem(), "", func(name string, _ reflect.Value) error {
		names = append(names, name)
		return nil
	})
	sort.Strings(names)
	return names
}

// plainAuthHost reports whether go-mail will send a password without TLS
// to host: only to these three names (smtp.PlainAuth), though every
// 127.x address is this machine.
func plainAuthHost(host string) bool {
	return host == "localhost" || host == "127.0.0.1" || host == "::1"
}

// isLoopback reports whether host names this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Identity returns the service's identity for its mail, or an error when
// the service address is not set or not usable.
func (c *Config) Identity() (mailout.Identity, error) {
	id := mailout.Identity{Address: c.Service.Address, Name: c.Service.Name, PublicURL: c.Service.PublicURL, NoPlus: !c.Service.PlusAddressing}
	if c.Service.Address == "" {
		return id, fmt.Errorf("config: %w", ErrConfigNoService)
	}
	if err := id.Validate(); err != nil {
		return id, fmt.Errorf("config: service: %w", err)
	}
	return id, nil
}
