package reporttest

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/google/uuid"

	"bulletin/internal/address"
	"bulletin/internal/store"
)

// SimOptions describe the history Simulate writes.
type SimOptions struct {
	// Subscribers is how many people are on the lists at the start.
	Subscribers int
	// Arrivals is how many join each quarter after the start.
	Arrivals int
	// Start is when the first subscribers were imported.
	Start time.Time
	// Campaigns are the send times, one campaign each, in order.
	Campaigns []time.Time
	// PerHour is how many messages the relay takes per hour (the hourly
	// quota), which spreads a campaign's sending. Default 800.
	PerHour int
	// Now bounds the events written: none after it. Default time.Now.
	Now  time.Time
	Seed uint64
}

// Simulated is what Simulate wrote.
type Simulated struct {
	Campaigns []*store.Campaign // in the order of SimOptions.Campaigns
	Lists     []*store.List
}

// domains are the recipients' domains with their weights: the big French
// providers, then the administrations and the organisations of a
// network of public buyers and job-insertion structures.
var domains = []struct {
	name   string
	weight int
}{
	{"orange.fr", 180}, {"gmail.com", 150}, {"wanadoo.fr", 90}, {"free.fr", 60}, {"laposte.net", 45}, {"hotmail.fr", 40},
	{"sfr.fr", 30}, {"yahoo.fr", 25}, {"herault.gouv.fr", 40}, {"occitanie.gouv.fr", 25}, {"herault.fr", 45},
	{"montpellier3m.fr", 40}, {"ville-sete.fr", 20}, {"francetravail.fr", 35}, {"ac-montpellier.fr", 20},
	{"laregion.fr", 25}, {"cci-herault.fr", 15}, {"btp-occitanie.fr", 15},
}

var firstNames = []string{"claire", "olivier", "nadia", "jerome", "marc", "sophie", "julien", "camille", "karim", "isabelle",
	"thomas", "lea", "nicolas", "amel", "pierre", "celine", "yannick", "aurelie", "mehdi", "florence"}
var lastNames = []string{"martin", "bernard", "dubois", "moreau", "laurent", "simon", "michel", "garcia", "roux", "fournier",
	"benali", "girard", "andre", "mercier", "dupre", "lefebvre", "salas", "grandvalet", "bonnet", "fabre"}

// failure, bounce: the replies and DSNs of a simulated campaign.
type reply struct {
	code     int
	enhanced string
	text     string
	weight   int
}

var relayRefusals = []reply{
	{550, "5.1.1", "RCPT TO: 550 5.1.1 <%s>: Recipient address rejected: User unknown in virtual mailbox table", 55},
	{554, "5.7.1", "RCPT TO: 554 5.7.1 <%s>: Relay access denied", 10},
	{550, "5.7.1", "DATA: 550 5.7.1 Message rejected as spam by Content Filtering", 10},
	{451, "4.7.1", "RCPT TO: 451 4.7.1 <%s>: Recipient address rejected: Greylisted, please try again (gave up after 9 attempts over 24h0m0s)", 15},
	{0, "", "connect: dial tcp: lookup mx.%s: no such host (gave up after 9 attempts over 24h0m0s)", 10},
}

type dsn struct {
	kind, reason, status, text string
	weight                     int
}

var bounces = []dsn{
	{"hard", "user_unknown", "5.1.1", "smtp; 550 5.1.1 <%s>: Recipient address rejected: User unknown", 60},
	{"hard", "user_unknown", "5.1.1", "smtp; 550 5.1.1 Adresse d’au moins un destinataire invalide. Invalid recipient. OFR_416", 25},
	{"hard", "host_unknown", "5.1.2", "smtp; 550 5.1.2 Host or domain name not found. Name service error for name=%s", 10},
	{"hard", "has_moved", "5.1.6", "smtp; 550 5.1.6 Recipient no longer on server: address has moved", 5},
	{"soft", "mailbox_full", "5.2.2", "smtp; 552 5.2.2 Mailbox full: boîte aux lettres pleine", 45},
	{"soft", "spam", "5.7.1", "smtp; 550 5.7.1 Message refusé : contenu jugé indésirable", 20},
	{"soft", "blocked", "5.7.1", "smtp; 554 5.7.1 Service unavailable; Client host blocked using zen.spamhaus.org", 15},
	{"soft", "suspended", "4.2.1", "smtp; 450 4.2.1 The user you are trying to contact is receiving mail at a rate that prevents additional messages", 20},
}

func pick[T any](r *rand.Rand, items []T, weight func(T) int) T {
	total := 0
	for _, it := range items {
		total += weight(it)
	}
	n := r.IntN(total)
	for _, it := range items {
		if n -= weight(it); n < 0 {
			return it
		}
	}
	return items[len(items)-1]
}

// Simulate writes, with plain SQL in one transaction of the database at
// location (which st has open: a SQLite file or a PostgreSQL URL), a realistic history: subscribers imported on
// two lists at Start and joining every week, one campaign per send time to
// everyone on the lists, and what followed each (relay refusals, retries,
// bounces, complaints, unsubscribes, suppressions). It is how the benchmark
// fills 100,000 deliveries and the screenshots show a year of editions.
func Simulate(ctx context.Context, st *store.Storage, location string, o SimOptions) (*Simulated, error) {
	if o.PerHour <= 0 {
		o.PerHour = 800
	}
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	r := rand.New(rand.NewPCG(o.Seed, o.Seed^0x5eed))
	sim := &Simulated{}
	for _, name := range []string{"Partenaires", "Acheteurs publics"} {
		l := &store.List{Name: name, Public: true}
		if err := st.CreateList(ctx, l); err != nil {
			return nil, err
		}
		sim.Lists = append(sim.Lists, l)
	}
	var campaigns []*store.Campaign
	for i, at := range o.Campaigns {
		n := 31 + i
		ed := &store.Edition{Slug: fmt.Sprintf("lettre-%d", n), Title: fmt.Sprintf("Lettre n°%d", n),
			Source: fmt.Sprintf("---\ntitle: Lettre n°%d\nsubject: La lettre des clauses sociales\n---\n\nBonjour.\n", n)}
		if _, err := st.SaveEdition(ctx, ed); err != nil {
			return nil, err
		}
		c := &store.Campaign{Name: fmt.Sprintf("Lettre n°%d — %s", n, monthFR(at)), EditionID: ed.ID,
			Subject: fmt.Sprintf("Lettre n°%d : les clauses sociales en %s", n, monthFR(at)), From: "MICS 34 <lettre@mics34.example.org>",
			ListIDs: []int64{sim.Lists[0].ID, sim.Lists[1].ID}}
		if err := st.CreateCampaign(ctx, c); err != nil {
			return nil, err
		}
		campaigns = append(campaigns, c)
	}

	db, err := store.OpenSQL(location)
	if err != nil {
		return nil, err
	}
	defer db.Close()
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	w, err := newWriter(ctx, tx)
	if err != nil {
		return nil, err
	}
	defer w.close()

	// People: the import at Start, then arrivals week by week.
	type person struct {
		id     int64
		email  string
		status store.Status
		lists  []int64
		joined time.Time
	}
	var people []*person
	seq := 0
	add := func(at time.Time, source string) error {
		seq++
		first, last := firstNames[r.IntN(len(firstNames))], lastNames[r.IntN(len(lastNames))]
		dom := pick(r, domains, func(d struct {
			name   string
			weight int
		}) int {
			return d.weight
		}).name
		if r.IntN(100) < 12 {
			dom = fmt.Sprintf("structure-%d.fr", r.IntN(900)) // the long tail of small organisations
		}
		email := fmt.Sprintf("%s.%s.%d@%s", first, last, seq, dom)
		// Partners mostly, public buyers on their list, some on both.
		var lists []int64
		switch n := r.IntN(100); {
		case n < 62:
			lists = []int64{sim.Lists[0].ID}
		case n < 82:
			lists = []int64{sim.Lists[1].ID}
		default:
			lists = []int64{sim.Lists[0].ID, sim.Lists[1].ID}
		}
		id, err := w.subscriber(ctx, email, first, last, source, lists, at)
		if err != nil {
			return err
		}
		people = append(people, &person{id: id, email: email, status: store.Active, lists: lists, joined: at})
		return nil
	}
	for range o.Subscribers {
		if err := add(o.Start, "import contacts-2024.csv"); err != nil {
			return nil, err
		}
	}
	nextArrival := o.Start
	arrive := func(until time.Time) error {
		// Arrivals spread over the weeks, through the subscribe form.
		perWeek := max(o.Arrivals/13, 0)
		for nextArrival = nextArrival.Add(7 * 24 * time.Hour); nextArrival.Before(until) && perWeek > 0; nextArrival = nextArrival.Add(7 * 24 * time.Hour) {
			for range perWeek + r.IntN(3) {
				if err := add(nextArrival.Add(time.Duration(r.IntN(5*24))*time.Hour), "form"); err != nil {
					return err
				}
			}
		}
		return nil
	}

	uid := uint32(0)
	for ci, c := range campaigns {
		start := o.Campaigns[ci]
		if err := arrive(start); err != nil {
			return nil, err
		}
		sent := 0
		var last time.Time
		for _, p := range people {
			if p.joined.After(start) {
				continue
			}
			d := delivery{campaign: c.ID, subscriber: p.id, email: p.email, created: start}
			switch {
			case p.status != store.Active:
				d.state, d.skip = store.Skipped, string(p.status)
			default:
				at := start.Add(time.Duration(sent) * time.Hour / time.Duration(o.PerHour)).Add(time.Duration(r.IntN(3000)) * time.Millisecond)
				sent++
				d.attempts, d.first, d.last = 1, at, at
				roll := r.IntN(10000)
				switch {
				case roll < 45: // refused by the relay, for good
					ref := pick(r, relayRefusals, func(x reply) int { return x.weight })
					d.state, d.code, d.enhanced = store.Undelivered, ref.code, ref.enhanced
					d.reply = fmt.Sprintf(ref.text, p.email)
					if strings.Contains(ref.text, "%s") && strings.Contains(ref.text, "mx.") {
						d.reply = fmt.Sprintf(ref.text, p.email[strings.IndexByte(p.email, '@')+1:])
					}
					if ref.code/100 == 4 || ref.code == 0 {
						d.attempts, d.last = 9, at.Add(24*time.Hour)
					}
				case roll < 245: // greylisted first, then accepted
					d.state, d.attempts, d.sentAt = store.Delivered, 2, at.Add(11*time.Minute)
					d.last = d.sentAt
					d.code, d.enhanced, d.reply = 250, "2.0.0", fmt.Sprintf("250 2.0.0 Ok: queued as %X", r.Uint32())
				default:
					d.state, d.sentAt = store.Delivered, at
					d.code, d.enhanced, d.reply = 250, "2.0.0", fmt.Sprintf("250 2.0.0 Ok: queued as %X", r.Uint32())
				}
			}
			id, err := w.delivery(ctx, &d)
			if err != nil {
				return nil, err
			}
			if d.state != store.Delivered {
				continue
			}
			last = d.sentAt
			// What comes back, after the message was accepted.
			roll := r.IntN(10000)
			lag := func(scale time.Duration) time.Time {
				return d.sentAt.Add(time.Duration(r.ExpFloat64() * float64(scale)))
			}
			switch {
			case roll < 200: // a bounce
				b := pick(r, bounces, func(x dsn) int { return x.weight })
				at := lag(3 * time.Hour)
				if at.After(o.Now) {
					continue
				}
				uid++
				diag := b.text
				if strings.Contains(diag, "%s") {
					diag = fmt.Sprintf(diag, p.email)
				}
				action := "counted"
				if b.kind == "hard" && p.status == store.Active {
					p.status, action = store.Bounced, "suppressed"
					if err := w.status(ctx, p.id, store.Bounced, "bounce", c.ID, b.status+" "+b.reason, at); err != nil {
						return nil, err
					}
				}
				if err := w.mailbox(ctx, uid, b.kind, b.reason, b.status, diag, p.email, id, c.ID, p.id, action, at); err != nil {
					return nil, err
				}
			case roll < 205: // a complaint
				at := lag(30 * time.Hour)
				if at.After(o.Now) {
					continue
				}
				uid++
				p.status = store.Complained
				if err := w.mailbox(ctx, uid, "complaint", "feedback", "", "abuse report (ARF)", p.email, id, c.ID, p.id, "suppressed", at); err != nil {
					return nil, err
				}
				if err := w.status(ctx, p.id, store.Complained, "complaint", c.ID, "complaint (feedback report)", at); err != nil {
					return nil, err
				}
			case roll < 265: // an unsubscribe
				at := lag(20 * time.Hour)
				if at.After(o.Now) {
					continue
				}
				src := []string{"one-click", "one-click", "one-click", "one-click", "link", "link", "link", "mailto"}[r.IntN(8)]
				p.status = store.Unsubscribed
				if err := w.status(ctx, p.id, store.Unsubscribed, src, c.ID, "", at); err != nil {
					return nil, err
				}
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET state = 'sent', started_at = ?, finished_at = ?,
			content = (SELECT source FROM editions WHERE id = campaigns.edition_id), updated_at = ? WHERE id = ?`,
			start.UTC(), last.UTC(), last.UTC(), c.ID); err != nil {
			return nil, err
		}
	}
	if err := arrive(o.Now); err != nil {
		return nil, err
	}
	// Subscribers' status as the history left it.
	for _, p := range people {
		if p.status != store.Active {
			if _, err := tx.ExecContext(ctx, "UPDATE subscribers SET status = ? WHERE id = ?", p.status, p.id); err != nil {
				return nil, err
			}
		}
	}
	w.close()
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	for _, c := range campaigns {
		cc, err := st.CampaignByID(ctx, c.ID)
		if err != nil {
			return nil, err
		}
		sim.Campaigns = append(sim.Campaigns, cc)
	}
	return sim, nil
}

func monthFR(t time.Time) string {
	months := []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"}
	return fmt.Sprintf("%s %d", months[t.Month()-1], t.Year())
}

// delivery is one ledger row to write.
type delivery struct {
	campaign, subscriber int64
	email                string
	state                store.DeliveryState
	attempts             int
	code                 int
	enhanced, reply      string
	skip                 string
	created              time.Time
	first, last, sentAt  time.Time
}

// writer holds the prepared statements of Simulate.
type writer struct {
	sub, member, event, deliv, mbox *sql.Stmt
}

func newWriter(ctx context.Context, tx *sql.Tx) (*writer, error) {
	w := &writer{}
	for _, p := range []struct {
		stmt **sql.Stmt
		q    string
	}{
		{&w.sub, `INSERT INTO subscribers (uuid, email, email_key, first_name, last_name, organisation, status, status_changed_at,
			consent_source, consent_at, created_at, updated_at) VALUES (?, ?, ?, ?, ?, '', 'active', ?, ?, ?, ?, ?) RETURNING id`},
		{&w.member, "INSERT INTO list_members (list_id, subscriber_id, created_at, updated_at) VALUES (?, ?, ?, ?)"},
		{&w.event, `INSERT INTO subscriber_events (subscriber_id, kind, status, source, campaign_id, list_id, detail, at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.deliv, `INSERT INTO deliveries (uuid, campaign_id, subscriber_id, email, state, attempts, smtp_code, enhanced_code,
			reply, skip_reason, message_id, created_at, updated_at, sent_at, first_attempt_at, last_attempt_at)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`},
		{&w.mbox, `INSERT INTO mailbox_events (uuid, mailbox, uid_validity, uid, message_id, from_addr, subject, kind, reason, status,
			diagnostic, recipients, delivery_id, campaign_id, subscriber_id, matched_by, action, received_at, processed_at)
			VALUES (?, 'INBOX', 1, ?, ?, 'MAILER-DAEMON@mx.example', ?, ?, ?, ?, ?, ?, ?, ?, ?, 'verp', ?, ?, ?)`},
	} {
		var err error
		if *p.stmt, err = tx.PrepareContext(ctx, p.q); err != nil {
			w.close()
			return nil, err
		}
	}
	return w, nil
}

func (w *writer) close() {
	for _, s := range []*sql.Stmt{w.sub, w.member, w.event, w.deliv, w.mbox} {
		if s != nil {
			s.Close()
		}
	}
}

func null(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UTC()
}

func nullID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

func (w *writer) subscriber(ctx context.Context, email, first, last, source string, lists []int64, at time.Time) (int64, error) {
	at = at.UTC()
	var id int64
	err := w.sub.QueryRowContext(ctx, uuid.NewString(), email, address.Key(email), strings.ToUpper(first[:1])+first[1:],
		strings.ToUpper(last[:1])+last[1:], at, source, at, at, at).Scan(&id)
	if err != nil {
		return 0, err
	}
	for i, l := range lists {
		if _, err := w.member.ExecContext(ctx, l, id, at, at); err != nil {
			return 0, err
		}
		kind, status := "list_added", ""
		if i == 0 {
			kind, status = "created", "active" // one event says "created" and "joined the first list"
		}
		if _, err := w.event.ExecContext(ctx, id, kind, status, source, nil, l, "", at); err != nil {
			return 0, err
		}
	}
	return id, nil
}

func (w *writer) status(ctx context.Context, subscriber int64, st store.Status, source string, campaign int64, detail string, at time.Time) error {
	_, err := w.event.ExecContext(ctx, subscriber, "status", st, source, nullID(campaign), nil, detail, at.UTC())
	return err
}

func (w *writer) delivery(ctx context.Context, d *delivery) (int64, error) {
	updated := d.created
	if !d.last.IsZero() {
		updated = d.last
	}
	var id int64
	err := w.deliv.QueryRowContext(ctx, uuid.NewString(), d.campaign, d.subscriber, d.email, d.state, d.attempts, d.code,
		d.enhanced, d.reply, d.skip, "", d.created.UTC(), updated.UTC(), null(d.sentAt), null(d.first), null(d.last)).Scan(&id)
	return id, err
}

func (w *writer) mailbox(ctx context.Context, uid uint32, kind, reason, status, diag, email string, delivery, campaign, subscriber int64,
	action string, at time.Time) error {
	rcpts, _ := json.Marshal([]string{strings.ToLower(email)})
	subject := "Undelivered Mail Returned to Sender"
	if kind == "complaint" {
		subject = "Abuse report"
	}
	_, err := w.mbox.ExecContext(ctx, uuid.NewString(), uid, fmt.Sprintf("%d.%s@mx.example", uid, kind), subject, kind, reason, status, diag, string(rcpts),
		delivery, campaign, subscriber, action, at.UTC(), at.UTC())
	return err
}

// BenchStart is when the benchmarks' campaign starts.
var BenchStart = time.Date(2026, 10, 15, 8, 0, 0, 0, time.UTC)

// Campaign100k fills the database at location (see Simulate) with one campaign of 100,000
// deliveries ten days after it went out, and returns the store reopened, as
// a daemon finds it: the setup's one big transaction checkpointed into the
// database file (a live daemon checkpoints every thousand pages), rather
// than read through a WAL of 100,000 inserts. The caller closes the store.
func Campaign100k(ctx context.Context, location string) (*store.Storage, *Simulated, error) {
	st, err := store.Open(ctx, location)
	if err != nil {
		return nil, nil, err
	}
	sim, err := Simulate(ctx, st, location, SimOptions{Subscribers: 100_000, Start: BenchStart.Add(-30 * 24 * time.Hour),
		Campaigns: []time.Time{BenchStart}, PerHour: 20_000, Now: BenchStart.Add(10 * 24 * time.Hour), Seed: 1})
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, err
	}
	st, err = store.Open(ctx, location)
	return st, sim, err
}
