package campaign

import (
	"context"
	"errors"
	"path/filepath"
	"strings"

	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
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
//
// Without lists in spec, the campaign goes to the lists the edition names
// in its front matter ("lists:"), so that an edition written for the
// partners goes to them unless staff say otherwise.
func Create(ctx context.Context, st *store.Storage, spec Spec) (*store.Campaign, error) {
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
		return nil, i18n.Errorf("campaign.err.no_edition", spec.Edition)
	}
	if err != nil {
		return nil, err
	}
	ed, err := ParseStored(se)
	if err != nil {
		return nil, err
	}
	if len(spec.Lists) == 0 {
		spec.Lists = ed.Lists
	}
	if len(spec.Lists) == 0 {
		return nil, i18n.Errorf("campaign.err.no_lists")
	}
	c := &store.Campaign{Name: spec.Name, EditionID: se.ID, Subject: spec.Subject, From: spec.From,
		ReplyTo: spec.ReplyTo, Filter: spec.Filter, Track: spec.Track}
	if c.Subject == "" {
		c.Subject = ed.Subject
	}
	if strings.TrimSpace(c.Subject) == "" {
		return nil, i18n.Errorf("campaign.err.no_subject", se.Slug)
	}
	if err := edition.SingleLine(c.Subject); err != nil {
		return nil, i18n.Errorf("campaign.err.subject", i18n.MessageOf(err))
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
			return nil, i18n.Errorf("campaign.err.no_list", name)
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

// EditionLists returns the lists a stored edition names in its front
// matter, to preselect them when a campaign of it is made; nil when the
// edition is unknown or does not parse.
func EditionLists(ctx context.Context, st *store.Storage, slug string) []string {
	se, err := st.EditionBySlug(ctx, slug)
	if err != nil {
		return nil
	}
	ed, err := ParseStored(se)
	if err != nil {
		return nil
	}
	return ed.Lists
}

// ListFindings returns a warning for each list an edition names in its
// front matter that does not exist in the store: a campaign of it would
// otherwise be refused only when it is created.
func ListFindings(ctx context.Context, st *store.Storage, ed *edition.Edition) ([]render.Finding, error) {
	var fs []render.Finding
	for _, name := range ed.Lists {
		_, err := st.ListByName(ctx, name)
		if errors.Is(err, store.ErrNotFound) {
			fs = append(fs, render.Finding{Severity: render.Warning, Where: ed.FieldWhere("lists"), Message: i18n.M("editor.check.no_list", name)})
			continue
		}
		if err != nil {
			return nil, err
		}
	}
	return fs, nil
}
