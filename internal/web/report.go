package web

import (
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/google/uuid"

	"bulletin/internal/report"
	"bulletin/internal/store"
)

// The report pages of the console: every campaign that started
// (/admin/reports), one campaign's report, and the lists across campaigns
// and quarters, with their CSV and JSON downloads. Figures come from
// package report; this file only picks the campaign and the page.

// reportsIndex lists the campaigns that started, newest first, with their
// main figures.
func (s *Server) reportsIndex(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	eds, err := report.Editions(r.Context(), s.store, s.loc)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.adminPage(r, sess, "reports", "reports.title", nil)
	v := &campaignsReportView{reportFmt: reportFmt{p: p.Printer, loc: s.loc}}
	for i := len(eds) - 1; i >= 0; i-- {
		v.Editions = append(v.Editions, eds[i])
	}
	p.Data = v
	s.render(w, r, http.StatusOK, "admin/report_index", p)
}

// reportCampaignOf returns the campaign of the {campaign} path value (its
// UUID, a unique prefix of it, or its name), or answers the request.
func (s *Server) reportCampaignOf(w http.ResponseWriter, r *http.Request, sess *store.Session) (*store.Campaign, bool) {
	ref := r.PathValue("campaign")
	var c *store.Campaign
	var err error
	if id, perr := uuid.Parse(ref); perr == nil {
		c, err = s.store.CampaignByUUID(r.Context(), id)
	} else {
		c, err = s.store.FindCampaign(r.Context(), ref)
	}
	switch {
	case errors.Is(err, store.ErrNotFound), errors.Is(err, store.ErrAmbiguous):
		s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
		return nil, false
	case err != nil:
		s.fail(w, r, err)
		return nil, false
	}
	return c, true
}

// reportShow reads which addresses a report lists (?show=), "problems" by
// default or when the value is unknown.
func reportShow(r *http.Request) string {
	show := r.URL.Query().Get("show")
	if show == "" || !store.ValidAddressFilter(show) {
		return "problems"
	}
	return show
}

// reportCampaignPage shows one campaign's report, with a page of the
// addresses ?show= selects.
func (s *Server) reportCampaignPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.reportCampaignOf(w, r, sess)
	if !ok {
		return
	}
	show := reportShow(r)
	page, err := strconv.Atoi(r.URL.Query().Get("page"))
	if err != nil || page < 1 {
		page = 1
	}
	ctx := r.Context()
	opts := report.Options{Addresses: show, Limit: reportPageSize, Offset: (page - 1) * reportPageSize, Location: s.loc, Now: s.now()}
	rep, err := report.ForCampaign(ctx, s.store, c, opts)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if pages := max(1, (rep.Addresses.Total+reportPageSize-1)/reportPageSize); page > pages {
		http.Redirect(w, r, report.CampaignPath(c.UUID.String())+"?show="+show+"&page="+strconv.Itoa(pages), http.StatusSeeOther)
		return
	}
	summaries, err := s.store.CampaignSummaries(ctx, c.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.adminPage(r, sess, "reports", "reports.title", nil)
	p.Title = c.Name + " · " + p.Title
	p.Data = newCampaignReportView(p.Printer, s.loc, rep, show, page, summaries, s.cfg.Reports.BounceWindow, s.now())
	s.render(w, r, http.StatusOK, "admin/report_campaign", p)
}

// reportAddressesCSV downloads the addresses ?show= selects (all of them),
// as CSV; excel=1 gives semicolons and a byte order mark for French Excel.
func (s *Server) reportAddressesCSV(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.reportCampaignOf(w, r, sess)
	if !ok {
		return
	}
	show := reportShow(r)
	rows, _, err := report.Addresses(r.Context(), s.store, c.ID, show, 0, 0)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.csvHeaders(w, "rapport-"+c.UUID.String()[:8]+"-"+show)
	if err := report.WriteAddressesCSV(w, rows, r.URL.Query().Get("excel") == "1"); err != nil {
		s.log.Error("web: report csv", "err", err)
	}
}

// reportCampaignJSON downloads a campaign's report as JSON: the same object
// as "bulletin report CAMPAIGN --json" and the API.
func (s *Server) reportCampaignJSON(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	c, ok := s.reportCampaignOf(w, r, sess)
	if !ok {
		return
	}
	rep, err := report.ForCampaign(r.Context(), s.store, c, report.Options{Location: s.loc, Now: s.now()})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	noStore(w)
	w.Header().Set("Content-Disposition", `attachment; filename="rapport-`+c.UUID.String()[:8]+`.json"`)
	writeJSON(w, http.StatusOK, rep)
}

// reportListsPage shows the lists across quarters and the editions.
func (s *Server) reportListsPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	o, err := report.Lists(r.Context(), s.store, s.loc, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.adminPage(r, sess, "reports", "reports.lists_title", nil)
	p.Data = newListsReportView(p.Printer, s.loc, o)
	s.render(w, r, http.StatusOK, "admin/report_lists", p)
}

// reportListsCSV downloads the quarters (which=quarters) or the editions
// (which=editions) as CSV.
func (s *Server) reportListsCSV(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	which, isCSV := strings.CutSuffix(r.PathValue("which"), ".csv")
	write := map[string]func(*report.Overview) error{
		"quarters": func(o *report.Overview) error {
			return report.WriteQuartersCSV(w, o, r.URL.Query().Get("excel") == "1")
		},
		"editions": func(o *report.Overview) error {
			return report.WriteEditionsCSV(w, o, r.URL.Query().Get("excel") == "1")
		},
	}[which]
	if write == nil || !isCSV {
		s.adminError(w, r, sess, http.StatusNotFound, "error.not_found")
		return
	}
	o, err := report.Lists(r.Context(), s.store, s.loc, s.now())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.csvHeaders(w, "listes-"+which)
	if err := write(o); err != nil {
		s.log.Error("web: report csv", "err", err)
	}
}

// csvHeaders starts a CSV download named name-<date>.csv.
func (s *Server) csvHeaders(w http.ResponseWriter, name string) {
	noStore(w)
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="`+name+"-"+s.now().In(s.loc).Format("2006-01-02")+`.csv"`)
}
