package web

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"bulletin/internal/address"
	"bulletin/internal/i18n"
	"bulletin/internal/store"
)

type subscribeData struct {
	Lists   []*store.List // the public lists
	Token   string        // signed time the form was shown
	Snippet string        // the token of a form pasted in another site
	Closed  bool          // no mailer or no public list: the form is off
	Error   string        // message key
	Form    subscribeForm
	Sent    bool // the "check your mail" page
	Review  bool // a post from the pasted form, shown again to be sent from here
}

type subscribeForm struct {
	Email, FirstName, LastName, Organisation string
	Lists                                    []string // chosen list UUIDs
	Consent                                  bool     // the box was ticked
}

// honeypot is the name of the form field people never see nor fill in: it
// is off-screen, skipped by the keyboard and hidden from screen readers.
// Bots that fill in every field give themselves away.
const honeypot = "website"

// consentText is the sentence shown next to the consent box, in the page's
// language; it is stored as shown with the subscriber (CNIL).
func (s *Server) consentText(p *page) string {
	return p.T("subscribe.consent", s.conf().Organisation.Name)
}

// publicLists returns the lists offered on the subscribe form.
func (s *Server) publicLists(ctx context.Context) ([]*store.List, error) {
	all, err := s.store.Lists(ctx)
	if err != nil {
		return nil, err
	}
	var out []*store.List
	for _, l := range all {
		if l.Public {
			out = append(out, l)
		}
	}
	return out, nil
}

// subscribePage shows the subscribe form.
func (s *Server) subscribePage(w http.ResponseWriter, r *http.Request) {
	s.showSubscribe(w, r, false)
}

// subscribeEmbed shows the same form without header or footer, for an
// <iframe> on the organisation's site, which alone may frame it.
func (s *Server) subscribeEmbed(w http.ResponseWriter, r *http.Request) {
	s.showSubscribe(w, r, true)
}

func (s *Server) showSubscribe(w http.ResponseWriter, r *http.Request, embed bool) {
	lists, err := s.publicLists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &subscribeData{Lists: lists, Closed: s.mailer == nil || len(lists) == 0}
	if len(lists) == 1 {
		d.Form.Lists = []string{lists[0].UUID.String()}
	}
	s.renderSubscribe(w, r, http.StatusOK, embed, d)
}

func (s *Server) renderSubscribe(w http.ResponseWriter, r *http.Request, code int, embed bool, d *subscribeData) {
	noStore(w)
	if embed {
		s.allowFraming(w)
	}
	d.Token = s.formToken(purposeSubscribe, nil)
	p := s.newPage(r, "subscribe.title", d)
	if lang := r.PostFormValue("lang"); i18n.Supported(lang) {
		p.Printer = i18n.New(lang)
		p.Title = p.T("subscribe.title")
	}
	p.Embed = embed
	s.render(w, r, code, "public/subscribe", p)
}

// allowFraming lets the organisation's own site (organisation.website)
// show this response in a frame, and no one else.
func (s *Server) allowFraming(w http.ResponseWriter) {
	ancestors := "'self'"
	if s.frameOrigin != "" {
		ancestors += " " + s.frameOrigin
	}
	w.Header().Set("Content-Security-Policy", strings.Replace(s.contentPolicy(), "frame-ancestors 'none'", "frame-ancestors "+ancestors, 1))
	w.Header().Del("X-Frame-Options")
}

// subscribe takes a subscription: a pending subscriber with the consent as
// given (date, IP, form, text shown), and a confirmation mail with a link
// (double opt-in). Whatever the address's standing, the page says the same
// thing, so that the form never tells whether an address is known.
//
// Bots are slowed by the honeypot field, the form's signed time (a human
// takes more than two seconds), a limit per client network (netKey), and
// the limits on the mails themselves (admitMail). A post from the form
// pasted in the organisation's site carries no time: it is shown again
// here, filled in, with a fresh form token, and taken only when sent from
// this page.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxPublicForm)
	embed := r.PostFormValue("embed") == "1"
	lists, err := s.publicLists(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := &subscribeData{Lists: lists, Closed: s.mailer == nil || len(lists) == 0}
	d.Form = subscribeForm{
		Email:        strings.TrimSpace(r.PostFormValue("email")),
		FirstName:    clip(r.PostFormValue("first_name"), 100),
		LastName:     clip(r.PostFormValue("last_name"), 100),
		Organisation: clip(r.PostFormValue("organisation"), 200),
		Lists:        r.PostForm["list"],
		Consent:      r.PostFormValue("consent") == "1",
	}
	fail := func(code int, key string) {
		d.Error = key
		s.renderSubscribe(w, r, code, embed, d)
	}
	if d.Closed {
		fail(http.StatusServiceUnavailable, "subscribe.closed")
		return
	}
	if r.PostFormValue(honeypot) != "" {
		s.log.Info("web: subscribe honeypot filled", "ip", s.clientIP(r))
		d.Sent = true
		s.renderSubscribe(w, r, http.StatusOK, embed, d)
		return
	}
	tok := r.PostFormValue("form")
	if s.checkSnippetToken(tok) {
		d.Review = true
		s.renderSubscribe(w, r, http.StatusOK, embed, d)
		return
	}
	if !s.checkFormToken(purposeSubscribe, tok, nil, formMinAge, formMaxAge) {
		fail(http.StatusBadRequest, "subscribe.expired")
		return
	}
	ok, err := s.subscribeIP.allow(r.Context(), netKey(s.clientIP(r)), s.now())
	if err != nil {
		// Not counted, not taken: the subscription needs the store anyway.
		s.log.Error("web: subscribe rate limit", "err", err)
		fail(http.StatusServiceUnavailable, "subscribe.failed")
		return
	}
	if !ok {
		fail(http.StatusTooManyRequests, "subscribe.too_many")
		return
	}
	email, err := address.Normalize(d.Form.Email)
	if err != nil {
		fail(http.StatusUnprocessableEntity, "subscribe.bad_email")
		return
	}
	if !d.Form.Consent {
		fail(http.StatusUnprocessableEntity, "subscribe.no_consent")
		return
	}
	var chosen []int64
	for _, l := range lists {
		for _, id := range d.Form.Lists {
			if id == l.UUID.String() {
				chosen = append(chosen, l.ID)
			}
		}
	}
	if len(chosen) == 0 {
		fail(http.StatusUnprocessableEntity, "subscribe.no_list")
		return
	}
	p := s.newPage(r, "", nil)
	if lang := r.PostFormValue("lang"); i18n.Supported(lang) {
		p.Printer = i18n.New(lang)
	}
	sub := &store.Subscriber{
		Email: email, FirstName: d.Form.FirstName, LastName: d.Form.LastName, Organisation: d.Form.Organisation,
		Consent: store.Consent{Source: "form", At: s.now(), IP: s.clientIP(r), Text: s.consentText(p)},
	}
	if err := s.takeSubscription(r.Context(), p, sub, chosen); err != nil {
		s.log.Error("web: subscription", "err", err)
		fail(http.StatusServiceUnavailable, "subscribe.failed")
		return
	}
	d.Sent = true
	s.renderSubscribe(w, r, http.StatusOK, embed, d)
}

// takeSubscription records a subscription request for the lists chosen
// (list ids) and mails the address. The page says the same whatever
// happens here, so that the form never tells whether an address is known.
//
//   - a new address becomes a pending subscriber, on no list and never sent
//     a campaign until it confirms; the confirmation carries the lists;
//   - a pending or unsubscribed one is changed in nothing and gets a fresh
//     confirmation link: only the person's own click may bring it back;
//   - an active one is changed in nothing and gets a link to its
//     preferences instead, so that a stranger cannot add lists for it;
//   - a bounced or complained one gets no mail at all (the public side never
//     lifts those), and an erased one neither, nor a new row: its erasure
//     record stays. The refusal is recorded: in the subscriber's history,
//     or for an erased address, which must leave no trace, as an event
//     keyed by no one and a log line without the address.
func (s *Server) takeSubscription(ctx context.Context, p *page, sub *store.Subscriber, lists []int64) error {
	erased, err := s.store.IsErased(ctx, sub.Email)
	if err != nil {
		return err
	}
	if erased {
		return s.refuseErased(ctx)
	}
	known, err := s.store.SubscriberByEmail(ctx, sub.Email)
	switch {
	case errors.Is(err, store.ErrNotFound):
		sub.Status = store.Pending
		err = s.store.AddSubscriber(ctx, sub, nil, false)
		switch {
		case errors.Is(err, store.ErrDuplicate):
			// Someone else posted the same address a moment ago.
			return nil
		case errors.Is(err, store.ErrSuppressed):
			// Erased a moment ago.
			return s.refuseErased(ctx)
		case err != nil:
			return err
		}
		return s.mailConfirmation(ctx, p, sub, lists)
	case err != nil:
		return err
	}
	switch known.Status {
	case store.Active:
		return s.mailAlreadySubscribed(ctx, p, known)
	case store.Bounced, store.Complained:
		s.log.Info("web: subscription refused", "status", string(known.Status))
		return s.store.RecordRefused(ctx, known.ID, "form", "subscribe form used while "+string(known.Status)+": no mail sent")
	}
	return s.mailConfirmation(ctx, p, known, lists)
}

// refuseErased records a subscription request for an erased address.
func (s *Server) refuseErased(ctx context.Context) error {
	s.log.Info("web: subscription refused for an erased address")
	return s.store.RecordRefused(ctx, 0, "form", "subscribe form used for an erased address: no mail sent")
}

// clip trims s and cuts it to at most n runes.
func clip(s string, n int) string {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// mailTimeout bounds the wait for the relay while the reader waits for the page.
const mailTimeout = 30 * time.Second
