// Package settings is the configuration the daemon runs with while it runs:
// config.yaml and the environment, as loaded at start, and over them the
// values staff changed in the console's settings page, kept in the database.
//
// Only what staff change is editable there (the organisation as readers
// see it, From and Reply-To, the sending pace). Secrets and the addresses of
// servers stay in config.yaml and the environment. Precedence is
// environment > console > file: the environment is the operator's hard
// override, and a key it sets is locked in the console.
package settings

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strings"
	"sync"

	"bulletin/internal/config"
	"bulletin/internal/store"
)

// prefix starts the keys of console values in the store's settings table.
const prefix = "console:"

// Group is a section of the settings form.
type Group struct {
	Name string   // "organisation": the message key settings.group.NAME
	Keys []string // configuration keys, in the order of the form
}

// Groups are the keys staff may change in the console, by section.
var Groups = []Group{
	{Name: "organisation", Keys: []string{"organisation.name", "organisation.address", "organisation.logo_url",
		"organisation.colour", "organisation.facebook", "organisation.linkedin", "organisation.x",
		"organisation.instagram", "organisation.mastodon"}},
	{Name: "sender", Keys: []string{"sending.from", "sending.reply_to"}},
	{Name: "pace", Keys: []string{"sending.rate", "sending.hourly_quota", "sending.daily_quota",
		"sending.quiet_hours", "sending.quiet_weekends"}},
}

// Editable reports whether key may be changed in the console.
func Editable(key string) bool {
	for _, g := range Groups {
		if slices.Contains(g.Keys, key) {
			return true
		}
	}
	return false
}

// Origin says where a value comes from.
type Origin string

// The origins of a value, from the weakest.
const (
	Default     Origin = "default"
	File        Origin = "file"
	Console     Origin = "console"
	Environment Origin = "environment"
)

// Field is one editable key as the form shows it.
type Field struct {
	Key    string // "organisation.name"
	Value  string // the value in force
	Origin Origin
	// Where is the file and line ("config.yaml:12") of a value from the
	// file, the variable ("BULLETIN_ORGANISATION_NAME") of one from the
	// environment.
	Where string
	// Below is the value the console's hides (the file's or the
	// default), so that staff see what taking theirs back returns to.
	Below string
}

// Locked reports whether the environment sets the field: the console
// cannot change it.
func (f Field) Locked() bool { return f.Origin == Environment }

// Provider gives the configuration in force. It is safe for concurrent use.
type Provider struct {
	base  *config.Config
	store *store.Storage

	mu      sync.RWMutex
	console map[string]string // the values saved in the console, by key
	cur     *config.Config
	version uint64
}

// Load returns the provider over base, the configuration as loaded, with
// the values saved in st. A saved value that the configuration no longer
// accepts (config.yaml changed since) is left out, so that the daemon
// starts with what the file says.
func Load(ctx context.Context, base *config.Config, st *store.Storage) (*Provider, error) {
	p := &Provider{base: base, store: st}
	saved, cur, err := p.read(ctx)
	if err != nil {
		return nil, err
	}
	p.console, p.cur = saved, cur
	return p, nil
}

// read returns the values saved in the store and the configuration they
// make, leaving out those the configuration does not accept.
func (p *Provider) read(ctx context.Context) (map[string]string, *config.Config, error) {
	saved, err := p.store.Settings(ctx, prefix)
	if err != nil {
		return nil, nil, err
	}
	cur, bad := p.merge(saved)
	for _, e := range append(bad, cur.Problems()...) {
		delete(saved, e.Key)
	}
	cur, _ = p.merge(saved)
	return saved, &cur, nil
}

// Current returns the configuration in force. It must not be changed.
func (p *Provider) Current() *config.Config {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.cur
}

// Version counts the saves: what is made from the configuration (the
// layout) is made again when it changes.
func (p *Provider) Version() uint64 {
	p.mu.RLock()
	defer p.mu.RUnlock()
	return p.version
}

// Fields returns the editable keys as the form shows them, by group.
func (p *Provider) Fields() map[string]Field {
	p.mu.RLock()
	defer p.mu.RUnlock()
	out := map[string]Field{}
	for _, g := range Groups {
		for _, key := range g.Keys {
			f := Field{Key: key, Value: value(p.cur, key), Below: value(p.base, key)}
			_, saved := p.console[key]
			switch w := p.base.Where(key); {
			case p.base.EnvVar(key) != "":
				f.Origin, f.Where = Environment, p.base.EnvVar(key)
			case saved:
				f.Origin = Console
			case w == "default":
				f.Origin = Default
			default:
				f.Origin, f.Where = File, w
			}
			out[key] = f
		}
	}
	return out
}

// Save validates the editable values of a form, keyed by configuration
// key, with the loader's own rules, and keeps them when all are valid. A
// value equal to what the file (or the default) says is not kept: the key
// goes back to the file's. Keys the environment sets and keys not
// editable are ignored. It returns the problems, each naming its key, and
// then changes nothing.
func (p *Provider) Save(ctx context.Context, values map[string]string) ([]*config.Error, error) {
	keep := map[string]string{}
	for k, v := range values {
		v = strings.TrimSpace(v)
		if !Editable(k) || p.base.EnvVar(k) != "" || v == value(p.base, k) {
			continue
		}
		keep[k] = v
	}
	cur, problems := p.merge(keep)
	for _, e := range cur.Problems() {
		if Editable(e.Key) {
			problems = append(problems, e)
		}
	}
	if len(problems) > 0 {
		return problems, nil
	}
	if err := p.store.ReplaceSettings(ctx, prefix, keep); err != nil {
		return nil, err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.console, p.cur = keep, &cur
	p.version++
	return nil, nil
}

// Refresh reads the console's values again from the store, for a change
// saved by another daemon sharing the database: when they differ from the
// ones in force, they replace them as a save here would.
func (p *Provider) Refresh(ctx context.Context) error {
	saved, cur, err := p.read(ctx)
	if err != nil {
		return err
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if maps.Equal(saved, p.console) {
		return nil
	}
	p.console, p.cur = saved, cur
	p.version++
	return nil
}

// merge returns the base configuration with the console's values over it,
// except where the environment decides, and the values that do not parse.
func (p *Provider) merge(console map[string]string) (config.Config, []*config.Error) {
	cur := p.base.Clone()
	var problems []*config.Error
	for k, v := range console {
		if !Editable(k) || p.base.EnvVar(k) != "" {
			continue
		}
		var e *config.Error
		if err := cur.Set(k, v, string(Console)); errors.As(err, &e) {
			problems = append(problems, e)
		}
	}
	return cur, problems
}

// value returns key's value in cfg as text; the keys of Groups all exist.
func value(cfg *config.Config, key string) string {
	v, _ := cfg.Value(key)
	return v
}

// Derived is a value made from the configuration in force (the layout
// campaigns and previews are rendered with), made again on first use after
// a save. It is safe for concurrent use.
type Derived[T any] struct {
	p       *Provider
	make    func(*config.Config) (T, error)
	failed  func(error)
	mu      sync.Mutex
	version uint64
	v       T
}

// NewDerived returns the value made by make, first made from the
// configuration in force; failed is told when making it again fails, and
// the last value made is then kept.
func NewDerived[T any](p *Provider, make func(*config.Config) (T, error), failed func(error)) (*Derived[T], error) {
	version := p.Version()
	v, err := make(p.Current())
	if err != nil {
		return nil, err
	}
	return &Derived[T]{p: p, make: make, failed: failed, version: version, v: v}, nil
}

// Get returns the value made from the configuration in force.
func (d *Derived[T]) Get() T {
	d.mu.Lock()
	defer d.mu.Unlock()
	if version := d.p.Version(); version != d.version {
		d.version = version
		v, err := d.make(d.p.Current())
		if err != nil {
			d.failed(err)
			return d.v
		}
		d.v = v
	}
	return d.v
}
