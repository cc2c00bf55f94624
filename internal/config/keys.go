package config

import (
	"fmt"
	"maps"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// envPrefix starts the origin of a value set by the environment, as Where
// writes it: "environment BULLETIN_SMTP_PORT".
const envPrefix = "environment "

// Clone returns a copy of c that Set may change without touching c.
func (c *Config) Clone() Config {
	out := *c
	out.where = maps.Clone(c.where)
	if out.where == nil {
		out.where = map[string]string{}
	}
	return out
}

// Set sets key ("organisation.name") from its text, as config.yaml would,
// and records where the value came from ("console"), so that Where and the
// errors of Problems point at it. The value is not validated beyond its
// type: Problems does that for the whole configuration.
func (c *Config) Set(key, value, where string) error {
	f, err := c.lookup(key)
	if err != nil {
		return err
	}
	if err := set(f, value); err != nil {
		return &Error{Where: where, Key: key, Msg: err.Error()}
	}
	if c.where == nil {
		c.where = map[string]string{}
	}
	c.where[key] = where
	return nil
}

// Value returns key's value as text, as it would be written in config.yaml.
func (c *Config) Value(key string) (string, error) {
	f, err := c.lookup(key)
	if err != nil {
		return "", err
	}
	switch {
	case f.Type() == durationType:
		return time.Duration(f.Int()).String(), nil
	case f.Kind() == reflect.Float64:
		return strconv.FormatFloat(f.Float(), 'f', -1, 64), nil
	default:
		return fmt.Sprint(f.Interface()), nil
	}
}

// EnvVar returns the environment variable that set key
// ("BULLETIN_ORGANISATION_NAME"), or "" when the environment did not.
func (c *Config) EnvVar(key string) string {
	if name, ok := strings.CutPrefix(c.where[key], envPrefix); ok {
		return name
	}
	return ""
}

// lookup returns the field of key, "section.key".
func (c *Config) lookup(key string) (reflect.Value, error) {
	sname, kname, ok := strings.Cut(key, ".")
	if ok {
		if section, found := field(reflect.ValueOf(c).Elem(), sname); found && section.Kind() == reflect.Struct {
			if f, found := field(section, kname); found {
				return f, nil
			}
		}
	}
	return reflect.Value{}, &Error{Where: "default", Key: key, Msg: "unknown key"}
}
