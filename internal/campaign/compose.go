package campaign

import (
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/edition"
	"bulletin/internal/i18n"
	"bulletin/internal/links"
	"bulletin/internal/outgoing"
	"bulletin/internal/render"
	"bulletin/internal/store"
)

// Content is what every campaign's messages are made with: the layout, the
// links, and the configured defaults.
type Content struct {
	Templates *render.Templates
	Links     *links.Links
	// From and ReplyTo are used when a campaign names none ("Name <addr>").
	From, ReplyTo string
	// Organisation names the List-Id of campaigns sent to several lists.
	Organisation string
	// Live, when set, returns the content to use instead, read at the
	// start of each campaign, preview and test send: the settings staff
	// change in the console apply without a restart.
	Live func() *Content
}

// Current returns the content to use now: Live's when set, else ct.
func (ct *Content) Current() *Content {
	if ct.Live != nil {
		return ct.Live()
	}
	return ct
}

// Composer writes the messages of one campaign. The edition is rendered
// once (Prepare); each message only fills in its recipient, which is what
// keeps the cost of a recipient small and flat.
type Composer struct {
	campaign *store.Campaign
	prepared *render.Prepared
	links    *links.Links
	from     outgoing.Address
	replyTo  outgoing.Address
	subject  string
	domain   string // of the From address: Message-IDs are ours
	listID   string
	feedback string // Feedback-ID
	webView  string
}

// Composer prepares campaign c from source, the edition as frozen when the
// campaign started (so that a restart renders the very same thing), whose
// media files are in dir.
func (ct *Content) Composer(c *store.Campaign, source, dir string) (*Composer, error) {
	ed, err := ParseStored(&store.Edition{Slug: c.EditionSlug, Source: source, Dir: dir})
	if err != nil {
		return nil, err
	}
	return ct.EditionComposer(c, ed)
}

// EditionComposer prepares campaign c from an edition already parsed (a
// test send of a file). A campaign that tracks has its links found once
// here, so that each message only signs them.
func (ct *Content) EditionComposer(c *store.Campaign, ed *edition.Edition) (*Composer, error) {
	ct = ct.Current()
	prepare := ct.Templates.Prepare
	if c.Track {
		prepare = ct.Templates.PrepareTracked
	}
	p, err := prepare(ed)
	if err != nil {
		return nil, err
	}
	comp := &Composer{campaign: c, prepared: p, links: ct.Links, webView: ct.Links.WebViewURL(c.UUID)}
	if comp.from, err = parseAddress("from", c.From, ct.From); err != nil {
		return nil, err
	}
	if comp.replyTo, err = parseAddress("reply-to", c.ReplyTo, ct.ReplyTo); err != nil {
		return nil, err
	}
	comp.domain = strings.ToLower(comp.from.Addr[strings.LastIndexByte(comp.from.Addr, '@')+1:])
	comp.subject = c.Subject
	if comp.subject == "" {
		comp.subject = p.Subject()
	}
	name := ct.Organisation
	if len(c.Lists) == 1 {
		name = c.Lists[0]
	}
	slug := edition.Slugify(name)
	if slug != "" {
		comp.listID = name + " <" + slug + ".list." + comp.domain + ">"
	}
	// Gmail's feedback loop reports complaint rates by campaign, list and
	// kind of mail; the last field names the sender, the same for all.
	comp.feedback = strings.Join(slices.DeleteFunc([]string{c.UUID.String(), slug, "newsletter", comp.domain},
		func(s string) bool { return s == "" }), ":")
	return comp, nil
}

// parseAddress reads "Name <addr>" or "addr"; empty means fallback.
func parseAddress(what, s, fallback string) (outgoing.Address, error) {
	if strings.TrimSpace(s) == "" {
		s = fallback
	}
	if strings.TrimSpace(s) == "" {
		return outgoing.Address{}, nil
	}
	a, err := netmail.ParseAddress(s)
	if err == nil {
		// An encoded word ("=?utf-8?q?A=0D=0AB?=") decodes to a line break.
		err = edition.SingleLine(a.Name)
	}
	if err != nil {
		return outgoing.Address{}, i18n.Errorf("campaign.err.address", what, s, i18n.MessageOf(err))
	}
	return outgoing.Address{Name: a.Name, Addr: a.Address}, nil
}

// Subject returns the campaign's subject line.
func (c *Composer) Subject() string { return c.subject }

// Message returns the message of delivery d to its subscriber. In a
// campaign that tracks, it carries the delivery's pixel, and its links go
// through the delivery's signed redirect.
func (c *Composer) Message(d *store.Delivery) *outgoing.Message {
	sub := d.Subscriber
	unsub := c.links.UnsubscribeURL(sub.UUID, c.campaign.UUID)
	rcpt := render.Recipient{
		Email: d.Email, FirstName: sub.FirstName, LastName: sub.LastName, Organisation: sub.Organisation,
		Attributes: sub.Attributes, UnsubscribeURL: unsub, WebViewURL: c.webView,
	}
	if c.campaign.Track {
		rcpt.OpenURL = c.links.OpenURL(d.UUID)
		rcpt.ClickURL = func(link string) string { return c.links.ClickURL(d.UUID, link) }
	}
	// RenderStrings builds the strings the message needs directly: Render
	// then string() would copy every body a second time, per recipient.
	html, text := c.prepared.RenderStrings(rcpt)
	m := &outgoing.Message{
		From:                  c.from,
		ReplyTo:               c.replyTo,
		To:                    outgoing.Address{Name: strings.TrimSpace(sub.FirstName + " " + sub.LastName), Addr: d.Email},
		Subject:               c.subject,
		HTML:                  html,
		Text:                  text,
		EnvelopeFrom:          c.links.EnvelopeFrom(d.UUID),
		MessageID:             d.UUID.String() + "@" + c.domain,
		Date:                  time.Now(),
		ListID:                c.listID,
		FeedbackID:            c.feedback,
		ListUnsubscribeMailto: c.links.UnsubscribeMailto(d.UUID),
		CampaignID:            c.campaign.UUID.String(),
		DeliveryToken:         c.links.DeliveryToken(d.UUID),
	}
	// RFC 8058 one-click needs https; over plain http (a trial install) the
	// link stays in the footer and List-Unsubscribe offers the mailto only.
	if strings.HasPrefix(unsub, "https://") {
		m.ListUnsubscribeURL = unsub
	}
	return m
}

// TestMessage returns a test copy for to: marked X-Bulletin-Test, subject
// prefixed "[TEST]", filled with sample names, and tied to no delivery, so
// that it never counts in reports.
func (c *Composer) TestMessage(to string) *outgoing.Message {
	html, text := c.prepared.RenderStrings(render.Recipient{
		Email: to, FirstName: "Camille", LastName: "Exemple", Organisation: "Organisation exemple",
		UnsubscribeURL: c.links.UnsubscribeURL(uuid.Nil, c.campaign.UUID), WebViewURL: c.webView,
	})
	return &outgoing.Message{
		From: c.from, ReplyTo: c.replyTo, To: outgoing.Address{Addr: to},
		Subject:      "[TEST] " + c.subject,
		HTML:         html,
		Text:         text,
		EnvelopeFrom: c.links.BounceAddress,
		MessageID:    outgoing.NewMessageID(c.domain),
		Date:         time.Now(),
		ListID:       c.listID,
		CampaignID:   c.campaign.UUID.String(),
		Test:         true,
	}
}
