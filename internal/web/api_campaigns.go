package web

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// apiEdition is an edition as the API shows it.
type apiEdition struct {
	UUID      string       `json:"uuid"`
	Slug      string       `json:"slug"`
	Title     string       `json:"title"`
	Source    string       `json:"source,omitempty"` // single edition only
	CreatedAt time.Time    `json:"created_at"`
	UpdatedAt time.Time    `json:"updated_at"`
	Findings  []apiFinding `json:"findings,omitempty"`
	Errors    []string     `json:"errors,omitempty"`
}

type apiFinding struct {
	Severity string `json:"severity"`
	Where    string `json:"where"`
	Message  string `json:"message"`
}

func toAPIEdition(se *store.Edition) apiEdition {
	return apiEdition{UUID: se.UUID.String(), Slug: se.Slug, Title: se.Title, CreatedAt: se.CreatedAt, UpdatedAt: se.UpdatedAt}
}

func toFindings(fs []render.Finding) []apiFinding {
	out := []apiFinding{}
	for _, f := range fs {
		out = append(out, apiFinding{Severity: f.Severity.String(), Where: f.Where, Message: f.Message.String()})
	}
	return out
}

// apiEditions: GET /api/v1/editions.
func (s *Server) apiEditions(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	all, err := s.store.Editions(r.Context())
	if err != nil {
		return err
	}
	out := []apiEdition{}
	for _, se := range all {
		out = append(out, toAPIEdition(se))
	}
	return writeJSON(w, http.StatusOK, map[string]any{"editions": out})
}

// apiGetEdition: GET /api/v1/editions/{slug}: the source and the check's
// findings.
func (s *Server) apiGetEdition(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	se, err := s.store.EditionBySlug(r.Context(), r.PathValue("slug"))
	if err != nil {
		return err
	}
	out := toAPIEdition(se)
	out.Source = se.Source
	if s.content != nil {
		if ed, err := campaign.ParseStored(se); err == nil {
			out.Findings = toFindings(render.Check(s.content.Current().Templates, ed))
		} else {
			out.Errors = inEnglish(parseErrors(err))
		}
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiPutEdition: PUT /api/v1/editions/{slug} with the edition's source
// (text/markdown or text/plain) creates or replaces it. A source that does
// not parse is 422 with each error and its line, and nothing is saved.
func (s *Server) apiPutEdition(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	slug := r.PathValue("slug")
	if edition.Slugify(slug) != slug || slug == "" {
		return invalid("slug", "a slug is lower-case letters, digits and hyphens: %q", edition.Slugify(slug))
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "" && mt != "text/markdown" && mt != "text/plain" {
		return apiErr(http.StatusUnsupportedMediaType, codeBadRequest, "send the edition's source as text/markdown, not %s", mt)
	}
	src, err := io.ReadAll(r.Body)
	if err != nil {
		return err
	}
	source := strings.ReplaceAll(string(src), "\r\n", "\n")
	se, err := s.store.EditionBySlug(r.Context(), slug)
	if errors.Is(err, store.ErrNotFound) {
		se, err = &store.Edition{Slug: slug}, nil
	}
	if err != nil {
		return err
	}
	ed, err := campaign.ParseStored(&store.Edition{Slug: slug, Source: source, Dir: se.Dir})
	if err != nil {
		return &APIError{Status: http.StatusUnprocessableEntity, Code: codeInvalid, Field: "source",
			Message: strings.Join(inEnglish(parseErrors(err)), "\n")}
	}
	se.Source, se.Title = source, ed.Title
	created, err := s.store.SaveEdition(r.Context(), se)
	if err != nil {
		return err
	}
	out := toAPIEdition(se)
	if s.content != nil {
		out.Findings = toFindings(render.Check(s.content.Current().Templates, ed))
	}
	code := http.StatusOK
	if created {
		code = http.StatusCreated
	}
	return writeJSON(w, code, out)
}

// apiCampaign is a campaign as the API shows it.
type apiCampaign struct {
	UUID    string           `json:"uuid"`
	Name    string           `json:"name"`
	Edition string           `json:"edition"`
	Subject string           `json:"subject"`
	From    string           `json:"from,omitempty"`
	ReplyTo string           `json:"reply_to,omitempty"`
	Filter  string           `json:"filter,omitempty"`
	Track   bool             `json:"track"`
	Lists   []string         `json:"lists"`
	WebView string           `json:"web_view,omitempty"`
	Status  *campaignFigures `json:"status"`
}

func (s *Server) toAPICampaign(r *http.Request, c *store.Campaign) (apiCampaign, error) {
	f, err := s.figures(r.Context(), c)
	if err != nil {
		return apiCampaign{}, err
	}
	out := apiCampaign{UUID: c.UUID.String(), Name: c.Name, Edition: c.EditionSlug, Subject: c.Subject, From: c.From,
		ReplyTo: c.ReplyTo, Filter: c.Filter, Track: c.Track, Lists: c.Lists, Status: f}
	if out.Lists == nil {
		out.Lists = []string{}
	}
	if !c.StartedAt.IsZero() {
		out.WebView = s.links.WebViewURL(c.UUID)
	}
	return out, nil
}

// apiCampaigns: GET /api/v1/campaigns, the newest first.
func (s *Server) apiCampaigns(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	all, err := s.store.Campaigns(r.Context())
	if err != nil {
		return err
	}
	out := []apiCampaign{}
	for _, c := range all {
		ac, err := s.toAPICampaign(r, c)
		if err != nil {
			return err
		}
		out = append(out, ac)
	}
	return writeJSON(w, http.StatusOK, map[string]any{"campaigns": out})
}

// campaignInput is the body of POST /api/v1/campaigns.
type campaignInput struct {
	Edition string   `json:"edition"` // slug of a stored edition
	Lists   []string `json:"lists"`
	Name    string   `json:"name"`
	Subject string   `json:"subject"`
	From    string   `json:"from"`
	ReplyTo string   `json:"reply_to"`
	Filter  string   `json:"filter"`
	// Track counts opens and clicks; off unless asked (CNIL: consent).
	Track bool `json:"track"`
}

// apiCreateCampaign: POST /api/v1/campaigns creates a draft.
func (s *Server) apiCreateCampaign(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	var in campaignInput
	if err := decodeJSON(r, &in); err != nil {
		return err
	}
	switch {
	case in.Edition == "":
		return invalid("edition", "edition is required: the slug of a stored edition")
	case len(in.Lists) == 0 && len(campaign.EditionLists(r.Context(), s.store, in.Edition)) == 0:
		return invalid("lists", "a campaign needs at least one list (or an edition that names its lists)")
	}
	c, err := campaign.Create(r.Context(), s.store, campaign.Spec{Edition: in.Edition, Lists: in.Lists, Name: in.Name,
		Subject: in.Subject, From: in.From, ReplyTo: in.ReplyTo, Filter: in.Filter, Track: in.Track})
	if errors.Is(err, campaign.ErrFilter) {
		return invalid("filter", "%v", err)
	}
	if err != nil {
		return &APIError{Status: http.StatusUnprocessableEntity, Code: codeInvalid, Message: err.Error()}
	}
	out, err := s.toAPICampaign(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, out)
}

// apiCampaignOf returns the campaign of the {campaign} path value: its
// UUID, a unique prefix of it, or its name.
func (s *Server) apiCampaignOf(r *http.Request) (*store.Campaign, error) {
	ref := r.PathValue("campaign")
	if id, err := uuid.Parse(ref); err == nil {
		return s.store.CampaignByUUID(r.Context(), id)
	}
	c, err := s.store.FindCampaign(r.Context(), ref)
	if errors.Is(err, store.ErrAmbiguous) {
		return nil, apiErr(http.StatusConflict, codeConflict, "%q names several campaigns: give its UUID", ref)
	}
	return c, err
}

// apiGetCampaign: GET /api/v1/campaigns/{campaign}, with its status.
func (s *Server) apiGetCampaign(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	c, err := s.apiCampaignOf(r)
	if err != nil {
		return err
	}
	out, err := s.toAPICampaign(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}

// apiCampaignAction: POST /api/v1/campaigns/{campaign}/{action}, one of
// schedule (body {"at": "2026-01-15T09:00"} in schedule.timezone, or RFC
// 3339), send, pause, resume, cancel, unschedule.
func (s *Server) apiCampaignAction(w http.ResponseWriter, r *http.Request, tok *store.APIToken) error {
	c, err := s.apiCampaignOf(r)
	if err != nil {
		return err
	}
	a := action(r.PathValue("action"))
	at := s.now()
	switch a {
	case actSchedule:
		var in struct {
			At string `json:"at"`
		}
		if err := decodeJSON(r, &in); err != nil {
			return err
		}
		if at, err = s.parseSendTime(in.At); err != nil {
			return invalid("at", "%v", err)
		}
	case actSend, actPause, actResume, actCancel, actUnschedule:
	default:
		return apiErr(http.StatusNotFound, codeNotFound, "no campaign action %q (schedule, send, pause, resume, cancel, unschedule)", a)
	}
	err = s.act(r.Context(), c, a, at, i18n.M("campaign.cause.api", tok.Name))
	switch {
	case errors.Is(err, errPast):
		return invalid("at", "the send time is in the past")
	case errors.Is(err, errBlocked):
		return apiErr(http.StatusConflict, codeBadState, "the edition has errors: GET /api/v1/editions/%s shows them", c.EditionSlug)
	case errors.Is(err, campaign.ErrFilter):
		return invalid("filter", "%v", err)
	case err != nil:
		return err
	}
	out, err := s.toAPICampaign(r, c)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
