package web

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/outgoing"
	"bulletin/internal/store"
)

// mailData is what the confirmation mails are written with.
type mailData struct {
	*page
	Link string
}

// mailConfirmation sends the double opt-in link.
func (s *Server) mailConfirmation(ctx context.Context, p *page, sub *store.Subscriber) error {
	return s.mailReader(ctx, p, sub, "confirm", s.links.ConfirmURL(sub.UUID))
}

// mailAlreadySubscribed tells an active subscriber who used the form again
// where to change their lists.
func (s *Server) mailAlreadySubscribed(ctx context.Context, p *page, sub *store.Subscriber) error {
	return s.mailReader(ctx, p, sub, "already", s.links.PreferencesURL(sub.UUID, uuid.Nil))
}

// mailReader sends one of the form's mails (kind "confirm" or "already"),
// at most one per address per quarter hour: beyond that the request is
// dropped in silence, as the page must not tell anything about the address.
func (s *Server) mailReader(ctx context.Context, p *page, sub *store.Subscriber, kind, link string) error {
	if !s.confirmMail.allow(address.Key(sub.Email), s.now()) {
		return nil
	}
	from, err := mail.ParseAddress(s.cfg.Sending.From)
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
		Subject:      p.T("mail."+kind+".subject", s.cfg.Organisation.Name),
		HTML:         html.String(),
		Text:         text.String(),
		EnvelopeFrom: s.cfg.Sending.BounceAddress,
		// A transactional mail of the form: auto-responders keep quiet.
		Headers: map[string]string{"Auto-Submitted": "auto-generated"},
	}
	if s.cfg.Sending.ReplyTo != "" {
		if rt, err := mail.ParseAddress(s.cfg.Sending.ReplyTo); err == nil {
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
