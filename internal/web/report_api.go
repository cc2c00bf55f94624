package web

import (
	"net/http"

	"bulletin/internal/report"
	"bulletin/internal/store"
)

// apiReport: GET /api/v1/campaigns/{campaign}/report: the campaign's
// report, the same object as "bulletin report CAMPAIGN --json". With
// ?addresses=SHOW it lists the deliveries SHOW selects (problems, failed,
// bounced, ..., all; see docs/reports.md), ?limit= (default 100, at most
// 1000) at a time from ?offset=.
func (s *Server) apiReport(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	c, err := s.apiCampaignOf(r)
	if err != nil {
		return err
	}
	o := report.Options{Location: s.loc, Now: s.now()}
	if show := r.URL.Query().Get("addresses"); show != "" {
		if !store.ValidAddressFilter(show) {
			return invalid("addresses", "addresses must be one of problems, sent, delivered, failed, skipped, pending, retrying, bounced, hard, soft, complaint, unsubscribed, all")
		}
		if o.Limit, err = intParam(r, "limit", 100, 1, 1000); err != nil {
			return err
		}
		if o.Offset, err = intParam(r, "offset", 0, 0, 1<<30); err != nil {
			return err
		}
		o.Addresses = show
	}
	rep, err := report.ForCampaign(r.Context(), s.store, c, o)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, rep)
}

// apiReportLists: GET /api/v1/reports/lists: the lists across quarters and
// the editions, the same object as "bulletin report lists --json".
func (s *Server) apiReportLists(w http.ResponseWriter, r *http.Request, _ *store.APIToken) error {
	o, err := report.Lists(r.Context(), s.store, s.loc, s.now())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, o)
}
