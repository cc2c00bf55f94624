package campaign

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"

	"bulletin/internal/edition"
	"bulletin/internal/store"
)

// AddEdition reads an edition file and stores it under its slug (an edition
// with the same slug is replaced: staff correct a file and add it again).
// Its media folder is the file's folder, made absolute so that the daemon
// finds it from any working directory.
func AddEdition(ctx context.Context, st *store.Storage, path string) (*store.Edition, *edition.Edition, bool, error) {
	ed, err := edition.ParseFile(path)
	if err != nil {
		return nil, nil, false, err
	}
	dir, err := filepath.Abs(ed.Dir)
	if err != nil {
		return nil, nil, false, err
	}
	se := &store.Edition{Slug: ed.Slug, Title: ed.Title, Source: string(ed.Source), Dir: dir}
	created, err := st.SaveEdition(ctx, se)
	if err != nil {
		return nil, nil, false, err
	}
	return se, ed, created, nil
}

// ParseStored parses a stored edition's source.
func ParseStored(se *store.Edition) (*edition.Edition, error) {
	// Findings then read "edition SLUG:LINE": the file it came from may be
	// gone, and its name is not kept.
	ed, err := edition.Parse("edition "+se.Slug, []byte(se.Source))
	if err != nil {
		return nil, err
	}
	ed.Slug, ed.Dir = se.Slug, se.Dir
	return ed, nil
}

// Spec is what staff say when creating a campaign.
type Spec struct {
	Edition string   // the slug of a stored edition
	Lists   []string // list names
	Name    string   // default: the edition's title
	Subject string   // default: the edition's subject
	From    string   // default: sending.from at send time
	ReplyTo string
	Filter  string // see ParseFilter
	// Track counts opens and clicks. Off by default: the CNIL asks for the
	// readers' consent first.
	Track bool
}

// Create creates a draft campaign of a stored edition from spec. It never
// reads files: the command line adds an edition file first (AddEdition),
// and the web side and the API name stored editions only.
func Create(ctx context.Context, st *store.Storage, spec Spec) (*store.Campaign, error) {
	if len(spec.Lists) == 0 {
		return nil, errors.New("a campaign needs at least one list")
	}
	if _, err := ParseFilter(spec.Filter); err != nil {
		return nil, err
	}
	for _, a := range []struct{ what, v string }{{"from", spec.From}, {"reply-to", spec.ReplyTo}} {
		if _, err := parseAddress(a.what, a.v, ""); err != nil {
			return nil, err
		}
	}
	se, err := st.EditionBySlug(ctx, spec.Edition)
	if errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("no edition %q (see bulletin edition ls)", spec.Edition)
	}
	if err != nil {
		return nil, err
	}
	ed, err := ParseStored(se)
	if err != nil {
		return nil, err
	}
	c := &store.Campaign{Name: spec.Name, EditionID: se.ID, Subject: spec.Subject, From: spec.From,
		ReplyTo: spec.ReplyTo, Filter: spec.Filter, Track: spec.Track}
	if c.Subject == "" {
		c.Subject = ed.Subject
	}
	if strings.TrimSpace(c.Subject) == "" {
		return nil, fmt.Errorf("edition %s has no subject: give one with --subject", se.Slug)
	}
	if err := edition.SingleLine(c.Subject); err != nil {
		return nil, fmt.Errorf("campaign subject %w", err)
	}
	if c.Name == "" {
		c.Name = ed.Title
		if c.Name == "" {
			c.Name = se.Slug
		}
	}
	for _, name := range spec.Lists {
		l, err := st.ListByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			return nil, fmt.Errorf("no list named %q (see bulletin list ls)", name)
		}
		if err != nil {
			return nil, err
		}
		c.ListIDs = append(c.ListIDs, l.ID)
	}
	if err := CheckFilter(ctx, st, spec.Filter, spec.Lists); err != nil {
		return nil, err
	}
	if err := st.CreateCampaign(ctx, c); err != nil {
		return nil, err
	}
	return st.CampaignByID(ctx, c.ID)
}
