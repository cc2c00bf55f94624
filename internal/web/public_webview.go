package web

import (
	"errors"
	"net/http"
	"sort"
	"sync"

	"github.com/google/uuid"

	"bulletin/internal/campaign"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// webViews keeps the last web views rendered: an edition is frozen when
// its campaign starts, so its web view never changes, and readers all
// click "Voir la version en ligne" in the same hour.
type webViews struct {
	mu    sync.Mutex
	pages map[int64][]byte
}

const webViewCacheSize = 32

func (v *webViews) get(id int64) ([]byte, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	b, ok := v.pages[id]
	return b, ok
}

func (v *webViews) put(id int64, page []byte) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.pages == nil {
		v.pages = map[int64][]byte{}
	}
	if len(v.pages) >= webViewCacheSize {
		for k := range v.pages {
			delete(v.pages, k)
			break
		}
	}
	v.pages[id] = page
}

// webView shows the online version of a campaign's edition, as sent,
// once the campaign has started. It is personalised for nobody: names take
// their fallbacks and "Se désinscrire" leads to the page that explains how
// to unsubscribe (unsubscribeHelp), since the page is shared and must not
// lead whoever opens it to someone else's unsubscribe page.
func (s *Server) webView(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("campaign"))
	if err != nil {
		s.publicError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	c, err := s.store.CampaignByUUID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && c.StartedAt.IsZero()) {
		s.publicError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page, ok := s.webViews.get(c.ID)
	if !ok {
		if page, err = s.renderWebView(r, c); err != nil {
			s.fail(w, r, err)
			return
		}
		s.webViews.put(c.ID, page)
	}
	w.Header().Set("Content-Security-Policy", webViewPolicy)
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(page)
}

// webViewPolicy lets the edition's own inline styles and its images in,
// and no script at all; no one may frame it.
const webViewPolicy = "default-src 'none'; img-src * data:; style-src 'unsafe-inline'; font-src *; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

func (s *Server) renderWebView(r *http.Request, c *store.Campaign) ([]byte, error) {
	if s.content == nil {
		return nil, errors.New("web view: no layout loaded")
	}
	source, dir, err := s.store.CampaignContent(r.Context(), c.ID)
	if err != nil {
		return nil, err
	}
	ed, err := campaign.ParseStored(&store.Edition{Slug: c.EditionSlug, Source: source, Dir: dir})
	if err != nil {
		return nil, err
	}
	p, err := s.content.Current().Templates.Prepare(ed)
	if err != nil {
		return nil, err
	}
	return p.Render(render.Recipient{WebViewURL: s.links.WebViewURL(c.UUID), UnsubscribeURL: s.links.PublicURL + "/unsubscribe"}).HTML, nil
}

// unsubscribeHelp explains how to unsubscribe to a reader who has no
// personal link at hand: the web view's "Se désinscrire", a forwarded
// mail. Writing to the unsubscribe address is offered only when the
// daemon reads the mailbox that receives it.
func (s *Server) unsubscribeHelp(w http.ResponseWriter, r *http.Request) {
	var mailto string
	if s.cfg.IMAP.Host != "" {
		mailto = s.cfg.Sending.UnsubscribeAddress
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	s.render(w, r, http.StatusOK, "public/unsubscribe_help", s.newPage(r, "unsubscribe_help.title", mailto))
}

type archiveData struct {
	List      *store.List
	Campaigns []*store.Campaign
}

// archive lists the editions sent to a public list, newest first, each
// linking to its web view.
func (s *Server) archive(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(r.PathValue("list"))
	if err != nil {
		s.publicError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	l, err := s.store.ListByUUID(r.Context(), id)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !l.Public) {
		s.publicError(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	all, err := s.store.Campaigns(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := archiveData{List: l}
	for _, c := range all {
		if c.State != store.Sent {
			continue
		}
		for _, lid := range c.ListIDs {
			if lid == l.ID {
				d.Campaigns = append(d.Campaigns, c)
				break
			}
		}
	}
	sort.Slice(d.Campaigns, func(i, j int) bool { return d.Campaigns[i].FinishedAt.After(d.Campaigns[j].FinishedAt) })
	w.Header().Set("Cache-Control", "public, max-age=300")
	p := s.newPage(r, "archive.title", d)
	p.Title = p.T("archive.title", l.Name)
	s.render(w, r, http.StatusOK, "public/archive", p)
}
