package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/mail"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/campaign"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
)

// mailData is what the confirmation mails are written with.
type mailData struct {
	*page
	Link string
}

// mailConfirmation sends sub a double opt-in link for the lists asked for
// (list ids; none: the lists sub is already on). The link's token is
// random, single-use and expires after subscribe.confirm_ttl; the mail goes
// to the address alone, whoever asked. A bounced or complained address is
// never sent one: the public side does not lift those, and callers check.
func (s *Server) mailConfirmation(ctx context.Context, p *page, sub *store.Subscriber, lists []int64) error {
	if sub.Status == store.Bounced || sub.Status == store.Complained {
		return fmt.Errorf("web: no confirmation mail for a %s address", sub.Status)
	}
	if ok, err := s.admitMail(ctx, "confirm", sub.Email); !ok || err != nil {
		return err
	}
	t := s.now()
	tok, err := s.store.CreateConfirmation(ctx, sub.ID, lists, t, t.Add(s.cfg.Subscribe.ConfirmTTL))
	if err != nil {
		return err
	}
	return s.mailReader(ctx, p, sub, "confirm", s.links.ConfirmURL(tok))
}

// mailAlreadySubscribed tells an active subscriber who used the form again
// where to change their lists.
func (s *Server) mailAlreadySubscribed(ctx context.Context, p *page, sub *store.Subscriber) error {
	if ok, err := s.admitMail(ctx, "already", sub.Email); !ok || err != nil {
		return err
	}
	return s.mailReader(ctx, p, sub, "already", s.links.PreferencesURL(sub.UUID, uuid.Nil))
}

// admitMail reports whether a mail of the public pages (kind "confirm" or
// "already") may go to email now, and if so records it. Past any limit the
// mail is dropped in silence, as the page must not tell anything about the
// address; the log says which limit, never the address. The limits, so
// that the form cannot be made a spam relay: one mail per address per
// quarter hour; the campaigns' sending rate and relay quotas (Pacer); at
// most subscribe.hourly_confirmations an hour in all and
// subscribe.domain_hourly_confirmations to one domain.
func (s *Server) admitMail(ctx context.Context, kind, email string) (bool, error) {
	held := func(why string) (bool, error) {
		s.log.Warn("web: form mail held back", "kind", kind, "domain", address.Domain(email), "why", why)
		return false, nil
	}
	ok, err := s.confirmMail.allow(ctx, address.Key(email), s.now())
	if err != nil {
		return false, err
	}
	if !ok {
		return held("one mail per address per quarter hour")
	}
	if s.pacer != nil {
		err := s.pacer.Admit(ctx)
		if errors.Is(err, campaign.ErrQuota) {
			return held(err.Error())
		}
		if err != nil {
			return false, err
		}
	}
	ok, err = s.store.ReserveTransactional(ctx, kind, address.Domain(email), store.TransactionalLimits{
		Hourly: s.cfg.Subscribe.HourlyConfirmations, DomainHourly: s.cfg.Subscribe.DomainHourlyConfirmations,
	})
	if err != nil {
		return false, err
	}
	if !ok {
		return held("subscribe.hourly_confirmations or subscribe.domain_hourly_confirmations reached")
	}
	return true, nil
}

// mailReader sends one of the form's mails (kind "confirm" or "already"),
// admitted by admitMail.
func (s *Server) mailReader(ctx context.Context, p *page, sub *store.Subscriber, kind, link string) error {
	from, err := mail.ParseAddress(s.conf().Sending.From)
	if err != nil {
		return fmt.Errorf("sending.from: %w", err)
	}
	v, ok := s.views.mails[kind]
	if !ok {
		return fmt.Errorf("web: no mail template %q", kind)
	}
	d := mailData{page: p, Link: link}
	var html, text bytes.Buffer
	if err := v.html.ExecuteTemplate(&html, "layout", d); err != nil {
		return err
	}
	if err := v.text.ExecuteTemplate(&text, "layout", d); err != nil {
		return err
	}
	m := &outgoing.Message{
		From:         outgoing.Address{Name: from.Name, Addr: from.Address},
		To:           outgoing.Address{Addr: sub.Email},
		Subject:      p.T("mail."+kind+".subject", s.conf().Organisation.Name),
		HTML:         html.String(),
		Text:         text.String(),
		EnvelopeFrom: s.cfg.Sending.BounceAddress,
		// A transactional mail of the form: auto-responders keep quiet.
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
	if s.conf().Sending.ReplyTo != "" {
		if rt, err := mail.ParseAddress(s.conf().Sending.ReplyTo); err == nil {
			m.ReplyTo = outgoing.Address{Name: rt.Name, Addr: rt.Address}
		}
	}
	ctx, cancel := context.WithTimeout(ctx, mailTimeout)
	defer cancel()
	if _, err := s.mailer.Send(ctx, m); err != nil {
		return fmt.Errorf("%s mail: %w", kind, err)
	}
	return nil
}
