package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/inwriting/inwriting/agreements"
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

	Log LogConfig `toml:"log"`
}

// LogConfig says how the service logs.
type LogConfig struct {
	Level  string `toml:"level"`  // debug, info, warn, error
	Format string `toml:"format"` // text or json
}

// Config errors, for errors.Is.
var (
	ErrConfigLogLevel  = errors.New("log.level must be debug, info, warn or error")
	ErrConfigLogFormat = errors.New("log.format must be text or json")
	ErrConfigDataDir   = errors.New("data_dir is empty and there is no home folder to default to; set data_dir")
	ErrConfigTimeZone  = errors.New("default_time_zone is not an IANA time zone name like Europe/Lisbon")
)

// DefaultConfig returns the configuration that applies when nothing is set.
func DefaultConfig(getenv func(string) string) Config {
	return Config{
		DataDir: defaultDataDir(getenv),
		Log:     LogConfig{Level: "info", Format: "text"},
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
