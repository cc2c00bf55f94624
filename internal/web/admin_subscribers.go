package web

import (
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"bulletin/internal/store"
)

// subscribersPerPage is the length of a page of the subscriber table.
const subscribersPerPage = 50

type subscribersData struct {
	Subscribers []*store.Subscriber
	Total       int
	Page, Pages int
	Filter      subscriberQuery
	Lists       []*store.List
	Statuses    []store.Status
	Query       template.URL // the filter, for the pager and the export (filterQuery)
}

// subscriberQuery is the console's filter, as read from the query string.
type subscriberQuery struct {
	Q, List string
	Status  store.Status
}

func readSubscriberQuery(q url.Values) subscriberQuery {
	f := subscriberQuery{Q: clip(q.Get("q"), 200), List: q.Get("list"), Status: store.Status(q.Get("status"))}
	if !f.Status.Valid() {
		f.Status = ""
	}
	return f
}

func (f subscriberQuery) filter() store.SubscriberFilter {
	return store.SubscriberFilter{List: f.List, Status: f.Status, Search: f.Q}
}

func (f subscriberQuery) values() url.Values {
	v := url.Values{}
	for k, x := range map[string]string{"q": f.Q, "list": f.List, "status": string(f.Status)} {
		if x != "" {
			v.Set(k, x)
		}
	}
	return v
}

var allStatuses = []store.Status{store.Active, store.Pending, store.Unsubscribed, store.Bounced, store.Complained}

// subscribersPage lists subscribers: search in address, name and
// organisation, filters by list and status, 50 a page.
func (s *Server) subscribersPage(w http.ResponseWriter, r *http.Request, sess *store.Session) {
	ctx := r.Context()
	d := subscribersData{Filter: readSubscriberQuery(r.URL.Query()), Statuses: allStatuses}
	d.Query = filterQuery(d.Filter.values())
	var err error
	if d.Lists, err = s.store.Lists(ctx); err != nil {
		s.fail(w, r, err)
		return
	}
	f := d.Filter.filter()
	if d.Total, err = s.store.CountSubscribers(ctx, f); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Pages = max(1, (d.Total+subscribersPerPage-1)/subscribersPerPage)
	d.Page, _ = strconv.Atoi(r.URL.Query().Get("page"))
	d.Page = min(max(d.Page, 1), d.Pages)
	f.Limit, f.Offset = subscribersPerPage, (d.Page-1)*subscribersPerPage
	err = s.store.Subscribers(ctx, f, func(sub *store.Subscriber) error {
		d.Subscribers = append(d.Subscribers, sub)
		return nil
	})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin/subscribers", s.adminPage(r, sess, "subscribers", "subscribers.title", d))
}

// parseAttributes reads "key = value" lines, the console's way of editing
// free attributes. Lines without "=" are refused with their number.
func parseAttributes(text string) (map[string]string, int) {
	attrs := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, i + 1
		}
		attrs[clip(k, 100)] = clip(v, 1000)
	}
	return attrs, 0
}
