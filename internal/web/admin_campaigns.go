package web

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"

	"bulletin/internal/campaign"
	"bulletin/internal/i18n"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

type campaignRow struct {
	*store.Campaign
	Figures *campaignFigures
}

// campaignsPage lists the campaigns, the newest first, with their figures.
func (s *Server) campaignsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	all, err := s.store.Campaigns(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var rows []campaignRow
	for _, c := range all {
		f, err := s.figures(r.Context(), c)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		rows = append(rows, campaignRow{c, f})
	}
	s.render(w, r, http.StatusOK, "admin/campaigns", s.adminPage(r, sess, "campaigns", "campaigns.title", rows))
}

type campaignNewData struct {
	Editions []*store.Edition
	Lists    []*store.List
	Form     campaign.Spec
	Error    string
}

// newCampaignPage shows the form to create a campaign.
func (s *Server) newCampaignPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	d := campaignNewData{Form: campaign.Spec{Edition: r.URL.Query().Get("edition")}}
	d.Form.Lists = campaign.EditionLists(r.Context(), s.store, d.Form.Edition) // preselected
	s.showNewCampaign(w, r, sess, http.StatusOK, d)
}

func (s *Server) showNewCampaign(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d campaignNewData) {
	var err error
	if d.Editions, err = s.store.Editions(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Lists, err = s.store.Lists(r.Context()); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, code, "admin/campaign_new", s.adminPage(r, sess, "campaigns", "campaigns.new", d))
}

// createCampaign creates a draft campaign.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	spec := campaign.Spec{
		Edition: r.PostFormValue("edition"), Lists: r.PostForm["list"], Name: clip(r.PostFormValue("name"), 200),
		Subject: clip(r.PostFormValue("subject"), 300), From: strings.TrimSpace(r.PostFormValue("from")),
		ReplyTo: strings.TrimSpace(r.PostFormValue("reply_to")), Filter: strings.TrimSpace(r.PostFormValue("filter")),
		Track: r.PostFormValue("track") == "1",
	}
	c, err := campaign.Create(r.Context(), s.store, spec)
	if err != nil {
		// The campaign package's words name the field at fault.
		s.showNewCampaign(w, r, sess, http.StatusUnprocessableEntity, campaignNewData{Form: spec, Error: s.newPage(r, "", nil).Err(err)})
		return
	}
	redirectOK(w, r, "/admin/campaigns/"+c.UUID.String(), "campaign_created")
}

// campaignOf returns the campaign of the {campaign} UUID in the path.
func (s *Server) campaignOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.Campaign, bool) {
	return byPathUUID(s, w, r, sess, "campaign", s.store.CampaignByUUID)
}

type campaignData struct {
	Campaign    *store.Campaign
	Figures     *campaignFigures
	Findings    []render.Finding
	Blocking    bool
	Transitions []store.CampaignTransitionRecord
	Error       string
	Zone        string // the schedule's time zone, for the date-time picker
	MinAt       string // now, as the picker's minimum
	DefaultAt   string // tomorrow 09:00, the picker's default
	Live        bool   // progress worth following: scheduled, sending or paused
	TestTo      string
	Result      []string
	CanSend     bool
}

// campaignPage shows a campaign: its figures and progress, the check of its
// edition, the actions its state allows, and its history.
func (s *Server) campaignPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.campaignOf(w, r, sess)
	if !ok {
		return
	}
	s.showCampaign(w, r, sess, http.StatusOK, &campaignData{Campaign: c, TestTo: sess.User.Email})
}

func (s *Server) showCampaign(w http.ResponseWriter, r *http.Request, sess *store.Session, code int, d *campaignData) {
	ctx := r.Context()
	c := d.Campaign
	var err error
	if d.Figures, err = s.figures(ctx, c); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Transitions, err = s.store.CampaignTransitions(ctx, c.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	if c.State == store.Draft || c.State == store.Scheduled {
		if fs, err := s.checkEdition(ctx, c); err == nil {
			d.Findings, d.Blocking = fs, render.HasErrors(fs)
		} else {
			d.Findings, d.Blocking = []render.Finding{{Severity: render.Error, Message: i18n.MessageOf(err)}}, true
		}
	}
	now := s.now().In(s.loc)
	d.Zone = s.loc.String()
	d.MinAt = now.Format("2006-01-02T15:04")
	tomorrow := now.AddDate(0, 0, 1)
	d.DefaultAt = tomorrow.Format("2006-01-02") + "T09:00"
	if !c.SendAt.IsZero() {
		d.DefaultAt = c.SendAt.In(s.loc).Format("2006-01-02T15:04")
	}
	d.Live = c.State == store.Scheduled || c.State == store.Sending || c.State == store.Paused
	d.CanSend = s.mailer != nil && s.content != nil
	s.render(w, r, code, "admin/campaign", s.adminPage(r, sess, "campaigns", "campaigns.title", d))
}

// campaignAction applies the action of the path (schedule, send, pause,
// resume, cancel, unschedule) and comes back to the campaign's page.
func (s *Server) campaignAction(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.campaignOf(w, r, sess)
	if !ok {
		return
	}
	a := action(r.PathValue("action"))
	var err error
	switch a {
	case actSchedule:
		at, perr := s.parseSendTime(r.PostFormValue("at"))
		if perr != nil {
			err = perr
			break
		}
		err = s.act(r.Context(), c, a, at, i18n.M("campaign.cause.console", sess.User.Email))
	case actSend:
		// Only the confirmation page's own form says confirm=1: the
		// button of the campaign's page, a stale form or a replayed post
		// land on that page, with its counts, instead of sending.
		if r.PostFormValue("confirm") != "1" {
			s.confirmSend(w, r, sess, c)
			return
		}
		err = s.act(r.Context(), c, a, s.now(), i18n.M("campaign.cause.console", sess.User.Email))
	case actPause, actResume, actCancel, actUnschedule:
		err = s.act(r.Context(), c, a, s.now(), i18n.M("campaign.cause.console", sess.User.Email))
	default:
		s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		p := s.newPage(r, "", nil)
		msg := p.Err(err)
		var se *store.StateError
		switch {
		case errors.Is(err, errPast):
			msg = p.T("campaigns.error.past")
		case errors.Is(err, errBlocked):
			msg = p.T("campaigns.error.blocked")
		case errors.As(err, &se):
			msg = p.T("campaigns.error.state", p.T("state."+string(c.State)))
		}
		s.showCampaign(w, r, sess, http.StatusConflict, &campaignData{Campaign: c, Error: msg, TestTo: sess.User.Email})
		return
	}
	flash := map[action]string{actSchedule: "campaign_scheduled", actSend: "campaign_started", actPause: "campaign_paused",
		actResume: "campaign_resumed", actCancel: "campaign_cancelled", actUnschedule: "campaign_saved"}[a]
	redirectOK(w, r, "/admin/campaigns/"+c.UUID.String(), flash)
}

// campaignStatus is the JSON the progress script polls while a campaign
// is scheduled, sending or paused.
func (s *Server) campaignStatus(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.campaignOf(w, r, sess)
	if !ok {
		return
	}
	f, err := s.figures(r.Context(), c)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.newPage(r, "", nil)
	out := struct {
		*campaignFigures
		StateLabel string `json:"state_label"`
		End        string `json:"end,omitempty"`
	}{campaignFigures: f, StateLabel: p.T("state." + string(c.State))}
	if !f.EstimatedEnd.IsZero() {
		out.End = p.DateTime(f.EstimatedEnd.In(s.loc))
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(out)
}

// testCampaign sends test copies of the campaign as it will go out.
func (s *Server) testCampaign(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.campaignOf(w, r, sess)
	if !ok {
		return
	}
	se, err := s.store.EditionByID(r.Context(), c.EditionID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &campaignData{Campaign: c, TestTo: r.PostFormValue("to")}
	d.Result = s.sendTests(r, se, c, d.TestTo)
	s.showCampaign(w, r, sess, http.StatusOK, d)
}

type confirmSendData struct {
	*campaign.Preview
	Outbox string // the outbox folder when no relay sends, else ""
}

// confirmSendPage asks staff to confirm "send now": who gets the campaign
// once suppressed addresses are left out, the lists, the subject and the
// sender, and whether this edition already went to these lists.
func (s *Server) confirmSendPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.campaignOf(w, r, sess)
	if !ok {
		return
	}
	s.confirmSend(w, r, sess, c)
}

func (s *Server) confirmSend(w http.ResponseWriter, r *http.Request, sess *store.Session, c *store.Campaign) {
	p := s.newPage(r, "", nil)
	if c.State != store.Draft && c.State != store.Scheduled {
		s.showCampaign(w, r, sess, http.StatusConflict, &campaignData{Campaign: c, TestTo: sess.User.Email,
			Error: p.T("campaigns.error.state", p.T("state."+string(c.State)))})
		return
	}
	pre, err := campaign.Confirm(r.Context(), s.store, c, s.cfg.Sending.From)
	if err != nil {
		// A filter or a subject that would stop the send: the campaign
		// package's words name the field.
		s.showCampaign(w, r, sess, http.StatusConflict, &campaignData{Campaign: c, TestTo: sess.User.Email, Error: p.Err(err)})
		return
	}
	d := &confirmSendData{Preview: pre, Outbox: s.outboxDir()}
	s.render(w, r, http.StatusOK, "admin/campaign_send", s.adminPage(r, sess, "campaigns", "send_confirm.title", d))
}
